using McpServerless.Model;

namespace McpServerless.Validation;

/// <summary>Problems found in a definition, keyed by JSON field, with the checks both definition kinds share.</summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _byField = new(StringComparer.Ordinal);

    public void Add(string field, string message)
    {
        if (!_byField.TryGetValue(field, out var list)) _byField[field] = list = [];
        list.Add(message);
    }

    public Dictionary<string, string[]> ToDictionary() =>
        _byField.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);

    public void CheckLength(string field, string? value, int maxLength = McpDefinitionValidator.MaxValueLength)
    {
        if (value?.Length > maxLength)
            Add(field, $"{field} may have {maxLength} characters at most.");
    }

    public void CheckList(string field, IReadOnlyList<string>? values, bool allowEmpty)
    {
        const int max = McpDefinitionValidator.MaxValueLength;
        if (values is null) return;
        if (values.Count > McpDefinitionValidator.MaxListEntries)
            Add(field, $"{field} may have {McpDefinitionValidator.MaxListEntries} entries at most.");
        if (values.Any(v => v is null || (!allowEmpty && v.Length == 0) || v.Length > max))
            Add(field, allowEmpty
                ? $"{field} entries may not be null or longer than {max} characters."
                : $"{field} entries must be non-empty and {max} characters at most.");
    }

    // A mask left after SecretRedaction.RestoreMasked had no stored secret it stood for exactly; kept, it would become one.
    public void CheckNoMask(string field, IEnumerable<string>? values)
    {
        if (values?.Contains(SecretRedaction.Mask, StringComparer.Ordinal) == true)
            Add(field, $"'{SecretRedaction.Mask}' stands for a stored secret only when {field} is sent back exactly as read; send the real values instead.");
    }

    // Entries echo only user-chosen values (addresses, selectors), cut short; secrets never appear in messages.
    public static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
