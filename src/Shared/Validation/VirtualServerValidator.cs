using System.Text.RegularExpressions;
using McpServerless.Model;

namespace McpServerless.Validation;

/// <summary>
/// Checks a virtual server definition and reports every problem at once, keyed by JSON field, as
/// <see cref="McpDefinitionValidator"/> does for servers (whose name, description and access rules it shares).
/// Selectors naming servers that are not registered are valid: such a server may come later, so the admin API
/// reports them as warnings instead.
/// </summary>
public static partial class VirtualServerValidator
{
    /// <summary>The characters and length MCP allows in a tool name, required of the names overrides give.</summary>
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex ExposedNamePattern();

    public static Dictionary<string, string[]> Validate(VirtualServerDefinition definition)
    {
        var errors = new FieldErrors();
        McpDefinitionValidator.CheckNameAndDescription(errors, definition.Name, definition.Description);

        var selectors = new List<MemberSelector>();
        CheckSelectors(errors, "tools", definition, definition.Tools, selectors);
        CheckSelectors(errors, "prompts", definition, definition.Prompts, selectors);
        CheckSelectors(errors, "resources", definition, definition.Resources, selectors);
        CheckOverrides(errors, definition.Overrides, selectors);

        McpDefinitionValidator.CheckAccessRules(errors, definition);
        return errors.ToDictionary();
    }

    private static void CheckSelectors(FieldErrors errors, string field, VirtualServerDefinition definition, IReadOnlyList<string>? entries, List<MemberSelector> selectors)
    {
        errors.CheckList(field, entries, allowEmpty: false);
        if (entries is null) return;
        var invalid = 0;
        foreach (var entry in entries)
        {
            if (entry is null) continue;
            if (MemberSelector.TryParse(entry, out var selector) && McpDefinitionValidator.IsValidName(selector.Server))
            {
                if (selector.Server == definition.Name)
                    errors.Add(field, $"'{FieldErrors.Truncate(entry)}' selects from this virtual server itself; members come from servers.");
                selectors.Add(selector);
            }
            else if (invalid++ < 5)
            {
                errors.Add(field, $"'{FieldErrors.Truncate(entry)}' is not a selector: write server:name, a server's name, a colon, then a name or glob.");
            }
        }
    }

    private static void CheckOverrides(FieldErrors errors, IReadOnlyDictionary<string, MemberOverride>? overrides, List<MemberSelector> selectors)
    {
        const string field = "overrides";
        if (overrides is null) return;
        if (overrides.Count > McpDefinitionValidator.MaxListEntries)
            errors.Add(field, $"{field} may have {McpDefinitionValidator.MaxListEntries} entries at most.");
        foreach (var (key, value) in overrides.Take(McpDefinitionValidator.MaxListEntries))
        {
            var shown = FieldErrors.Truncate(key);
            if (!MemberSelector.TryParse(key, out var member) || member.IsGlob || !McpDefinitionValidator.IsValidName(member.Server))
                errors.Add(field, $"'{shown}' must name one member exactly, as server:name (no glob).");
            else if (!selectors.Any(s => s.Server == member.Server && s.Matches(member.Pattern)))
                errors.Add(field, $"'{shown}' is not selected by tools, prompts or resources.");

            if (value is null || (value.Name is null && value.Description is null))
                errors.Add(field, $"'{shown}' must set a name, a description or both.");
            else if (value.Name is { } name && !ExposedNamePattern().IsMatch(name))
                errors.Add(field, $"The name for '{shown}' must be 1 to 128 letters, digits, '_', '-' or '.'.");
            if (value?.Description?.Length > McpDefinitionValidator.MaxValueLength)
                errors.Add(field, $"The description for '{shown}' may have {McpDefinitionValidator.MaxValueLength} characters at most.");
        }
    }
}
