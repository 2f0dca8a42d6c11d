using System.Globalization;
using McpServerless.Audit;
using McpServerless.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace McpServerless.Admin;

/// <summary>
/// Reads <c>GET /admin/audit?server=&amp;tool=&amp;caller=&amp;since=&amp;limit=&amp;cursor=</c>. <c>since</c> is an
/// RFC 3339 time (<c>2026-11-25T10:00:00Z</c>; without an offset, UTC) or a Go duration back from now (<c>15m</c>,
/// <c>24h</c>); <c>limit</c> is 1 to <see cref="AuditQuery.MaxLimit"/> (default <see cref="AuditQuery.DefaultLimit"/>).
/// Every bad value is reported under its parameter's name.
/// </summary>
internal static class AuditQueryString
{
    private const int MaxFilterLength = 512;

    public static AuditQuery Parse(IQueryCollection query, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        var limit = AuditQuery.DefaultLimit;
        if (Single(query, "limit", errors) is { } limitText
            && !(int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= AuditQuery.MaxLimit))
            errors["limit"] = [$"limit must be a whole number from 1 to {AuditQuery.MaxLimit}."];

        DateTimeOffset? since = null;
        if (Single(query, "since", errors) is { } sinceText)
        {
            if (DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)) since = time;
            else if (GoDuration.TryParse(sinceText, out var ago) && ago >= TimeSpan.Zero) since = now - ago;
            else errors["since"] = ["since must be a time such as 2026-11-25T10:00:00Z or a duration back from now such as 15m or 24h."];
        }

        return new AuditQuery
        {
            Server = Filter(query, "server", errors),
            Tool = Filter(query, "tool", errors),
            Caller = Filter(query, "caller", errors),
            Since = since,
            Limit = limit,
            Cursor = Single(query, "cursor", errors),
        };
    }

    private static string? Filter(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        var value = Single(query, name, errors);
        if (value is { Length: > MaxFilterLength })
        {
            errors[name] = [$"{name} may be {MaxFilterLength} characters at most."];
            return null;
        }
        return value;
    }

    /// <summary>The parameter's one non-empty value; an empty one counts as absent, a repeated one is an error.</summary>
    private static string? Single(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (!query.TryGetValue(name, out StringValues values)) return null;
        if (values.Count > 1)
        {
            errors[name] = [$"Give {name} once."];
            return null;
        }
        return string.IsNullOrEmpty(values[0]) ? null : values[0];
    }
}
