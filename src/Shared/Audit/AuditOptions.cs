using McpServerless.Configuration;
using Microsoft.Extensions.Options;

namespace McpServerless.Audit;

/// <summary>The audit log, bound from <c>McpProxy:Audit</c>. Entries go to the store chosen by <c>McpProxy:Storage:Provider</c>.</summary>
public sealed class AuditOptions
{
    public const string SectionName = McpProxyOptions.SectionName + ":Audit";

    /// <summary>False: no entry is recorded, logged or stored; <c>GET /admin/audit</c> still reads what is stored.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Keep the arguments of tool calls and prompts, with secrets masked. Off by default: argument values are data.</summary>
    public bool IncludeArguments { get; set; }

    /// <summary>How long entries are kept: exactly on reads, and by trimming on writes.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The most entries kept: exactly by the in-memory store, approximately by the Redis stream. The Table store keeps whole days.</summary>
    public int Capacity { get; set; } = 100_000;

    /// <summary>Entries waiting to be written; when it is full, new entries are dropped (and counted), never waited for.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>The table of the Table store (same account as the registry); created when missing.</summary>
    public string TableName { get; set; } = "McpAudit";
}

/// <summary>Stops the start when an audit setting is out of range, naming it.</summary>
public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var failures = new List<string>();
        var prefix = AuditOptions.SectionName;
        if (options.Retention < TimeSpan.FromMinutes(1))
            failures.Add($"{prefix}:Retention must be at least one minute.");
        if (options.Capacity < 1)
            failures.Add($"{prefix}:Capacity must be positive.");
        if (options.QueueCapacity < 1)
            failures.Add($"{prefix}:QueueCapacity must be positive.");
        if (!StorageOptionsValidator.IsTableName(options.TableName))
            failures.Add($"{prefix}:TableName '{options.TableName}' must be 3 to 63 letters or digits, starting with a letter.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
