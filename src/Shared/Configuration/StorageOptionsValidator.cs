using Microsoft.Extensions.Options;

namespace McpServerless.Configuration;

/// <summary>Stops the start when the chosen storage backend lacks the settings it needs, naming them.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        var prefix = StorageOptions.SectionName;
        switch (options.Provider)
        {
            case StorageProvider.Redis:
                RedisSettings.Check(failures, $"{prefix}:Redis", options.Redis);
                if (options.Redis.Database < 0)
                    failures.Add($"{prefix}:Redis:Database must not be negative.");
                if (string.IsNullOrEmpty(options.Redis.KeyPrefix))
                    failures.Add($"{prefix}:Redis:KeyPrefix must not be empty.");
                break;
            case StorageProvider.Table:
                CheckTable(failures, $"{prefix}:Table", options.Table);
                break;
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckTable(List<string> failures, string prefix, TableStoreOptions table)
    {
        if (string.IsNullOrWhiteSpace(table.ConnectionString) && table.Endpoint is null)
            failures.Add($"{prefix}:ConnectionString or {prefix}:Endpoint is required when {StorageOptions.SectionName}:Provider is Table.");
        if (table.Endpoint is { } endpoint && !(endpoint.IsAbsoluteUri && endpoint.Scheme is "http" or "https"))
            failures.Add($"{prefix}:Endpoint '{endpoint}' must be an absolute http or https URL.");
        if (!IsTableName(table.TableName))
            failures.Add($"{prefix}:TableName '{table.TableName}' must be 3 to 63 letters or digits, starting with a letter.");
        if (table.Timeout <= TimeSpan.Zero)
            failures.Add($"{prefix}:Timeout must be positive.");
    }

    /// <summary>Table names: 3-63 letters and digits, starting with a letter.</summary>
    internal static bool IsTableName(string? name) =>
        name is { Length: >= 3 and <= 63 } && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);
}

/// <summary>Checks shared by every Redis connection setting.</summary>
internal static class RedisSettings
{
    public static void Check(List<string> failures, string prefix, RedisConnectionOptions redis)
    {
        if (string.IsNullOrWhiteSpace(redis.Configuration))
        {
            failures.Add($"{prefix}:Configuration is required (e.g. 'localhost:6379').");
        }
        else
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(redis.Configuration);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"{prefix}:Configuration is not a valid Redis configuration string: {ex.Message}");
            }
        }
        if (redis.Timeout <= TimeSpan.Zero)
            failures.Add($"{prefix}:Timeout must be positive.");
    }
}
