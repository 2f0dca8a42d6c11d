using System.Net;
using McpServerless.Security;
using McpServerless.Validation;
using Microsoft.Extensions.Options;

namespace McpServerless.Configuration;

/// <summary>Checks the settings at start-up so a typo stops the gateway with a message, not a surprise later.</summary>
public sealed class McpProxyOptionsValidator : IValidateOptions<McpProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, McpProxyOptions options)
    {
        var failures = new List<string>();
        var prefix = McpProxyOptions.SectionName;

        if (!IsListenHost(options.Host))
            failures.Add($"{prefix}:Host '{options.Host}' must be an IP address, 'localhost', '*' or '0.0.0.0'.");
        if (options.Port is < 0 or > 65535)
            failures.Add($"{prefix}:Port {options.Port} must be between 0 and 65535.");
        if (options.BaseUrl is { Length: > 0 } baseUrl &&
            !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            failures.Add($"{prefix}:BaseUrl '{baseUrl}' must be an absolute http or https URL.");
        if (options.ShutdownTimeout <= TimeSpan.Zero)
            failures.Add($"{prefix}:ShutdownTimeout must be positive.");
        if (options.ReconcileInterval < TimeSpan.FromSeconds(1))
            failures.Add($"{prefix}:ReconcileInterval must be at least one second.");
        if (string.IsNullOrWhiteSpace(options.InstanceId))
            failures.Add($"{prefix}:InstanceId must not be empty.");
        if (options.MaxAdminBodyBytes < 1024)
            failures.Add($"{prefix}:MaxAdminBodyBytes must be at least 1024.");

        var limits = options.Limits;
        if (limits.MaxRequestBodyBytes < 1024 || limits.MaxSessionsPerServer < 1 || limits.MaxSessionsPerCaller < 1 || limits.MaxConcurrentUpstreamRequests < 1
            || limits.QueuedUpstreamRequests < 0 || limits.AdminRequestsPerMinute < 1 || limits.MaxParkedCallsPerCaller < 1)
            failures.Add($"{prefix}:Limits values must be positive (MaxRequestBodyBytes at least 1024, QueuedUpstreamRequests may be 0).");

        if (limits.MaxResponseBytes is < McpDefinitionValidator.MinResponseBytes or > McpDefinitionValidator.MaxResponseBytes)
            failures.Add($"{prefix}:Limits:MaxResponseBytes must be between {McpDefinitionValidator.MinResponseBytes} and {McpDefinitionValidator.MaxResponseBytes}.");
        if (limits.SessionIdleTimeout < TimeSpan.FromSeconds(1) || limits.SessionIdleTimeout > TimeSpan.FromDays(1))
            failures.Add($"{prefix}:Limits:SessionIdleTimeout must be between one second and one day.");
        for (var i = 0; i < options.AllowedHosts.Count; i++)
        {
            if (!IsHostPattern(options.AllowedHosts[i]))
                failures.Add($"{prefix}:AllowedHosts:{i} '{options.AllowedHosts[i]}' must be a host name or address without port, '*.domain' or '*'.");
        }
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            if (!FrontDoorPolicy.IsOrigin(options.AllowedOrigins[i]))
                failures.Add($"{prefix}:AllowedOrigins:{i} '{options.AllowedOrigins[i]}' must be an origin: http(s)://host[:port], without path.");
        }

        CheckTokens(failures, $"{prefix}:AdminTokens", options.AdminTokens);
        CheckTokens(failures, $"{prefix}:GlobalAuthTokens", options.GlobalAuthTokens);
        CheckAddresses(failures, $"{prefix}:AdminAllowIPs", options.AdminAllowIPs);
        CheckAddresses(failures, $"{prefix}:TrustedProxies", options.TrustedProxies);

        options.OAuth.Validate(failures, prefix, options.BaseUrl, options.Host);

        if (options.ServersFile is { Length: > 0 } file && !File.Exists(file))
            failures.Add($"{prefix}:ServersFile '{file}' does not exist.");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsListenHost(string host) =>
        host is "*" or "localhost" || IPAddress.TryParse(host, out _);

    private static bool IsHostPattern(string host)
    {
        if (host == "*") return true;
        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        if (name.StartsWith('[') && name.EndsWith(']')) return IPAddress.TryParse(name[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return Uri.CheckHostName(name) is UriHostNameType.Dns or UriHostNameType.IPv4;
    }

    private static void CheckTokens(List<string> failures, string key, List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(tokens[i]) || tokens[i].Any(char.IsWhiteSpace))
                failures.Add($"{key}:{i} must be a non-empty token without white space.");
        }
    }

    private static void CheckAddresses(List<string> failures, string key, List<string> entries)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (!IpAllowList.TryParseEntry(entries[i], out _))
                failures.Add($"{key}:{i} '{entries[i]}' is not an IP address or CIDR range.");
        }
    }
}
