using McpServerless.Audit;
using McpServerless.Configuration;
using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Security;
using McpServerless.Serialization;
using McpServerless.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace McpServerless.Admin;

/// <summary>
/// The admin API, written once for every host: each method authorizes the caller, does the work and
/// maps the outcome to an <see cref="IResult"/> (problem details for every failure). The local host maps
/// these to minimal-API routes; the Functions app calls them from its HTTP triggers.
/// </summary>
public sealed class AdminApi(
    McpRegistry registry,
    IMcpRuntimeView runtime,
    AccessPolicy policy,
    GatewayMetrics metrics,
    HealthCheckService health,
    IOptions<McpProxyOptions> options,
    TimeProvider time,
    AuditLog audit,
    IAuditStore auditStore)
{
    public Task<IResult> ListAsync(HttpRequest request) => Guarded(request, async ct =>
    {
        var entries = await ListEntriesAsync(ct);
        return TypedResults.Json(new McpList(entries, entries.Count), GatewayJson.Default.McpList);
    });

    /// <summary>Every registered server with its secrets redacted, its version and its status: what <c>GET /admin/mcps</c> lists, for embedders too.</summary>
    public async Task<IReadOnlyList<McpEntry>> ListEntriesAsync(CancellationToken cancellationToken)
    {
        var stored = await registry.ListAsync(cancellationToken);
        var statuses = await runtime.ListStatusesAsync(cancellationToken);
        return [.. stored.Select(m => ToEntry(m, statuses))];
    }

    /// <summary>What <c>GET /admin/metrics</c> answers, for embedders too.</summary>
    public async Task<MetricsSnapshot> MetricsSnapshotAsync(CancellationToken cancellationToken)
    {
        var registered = (await registry.ListAsync(cancellationToken)).Count;
        var connected = (await runtime.ListStatusesAsync(cancellationToken)).Values.Count(s => s.State == ConnectionState.Connected);
        return metrics.Snapshot(registered, connected);
    }

    public Task<IResult> GetAsync(HttpRequest request, string name) => Guarded(request, async ct =>
    {
        var stored = await registry.GetAsync(name, ct) ?? throw new McpNotFoundException(name);
        return Entry(request, stored, await runtime.ListStatusesAsync(ct), StatusCodes.Status200OK);
    });

    public Task<IResult> RegisterAsync(HttpRequest request) => Audited(request, AuditMethods.CreateServer, null, async (change, ct) =>
    {
        (var definition, var error, change.RequestBytes) = await ReadDefinitionAsync(request, ct);
        if (error is not null) return error;
        change.Server = definition!.Name;
        var stored = await registry.RegisterAsync(definition, ct);
        // Relative to the path the collection was reached at, so a host that mounts the API elsewhere gets its own.
        request.HttpContext.Response.Headers.Location = $"{request.PathBase}{request.Path.Value?.TrimEnd('/')}/{Uri.EscapeDataString(stored.Definition.Name)}";
        return Entry(request, stored, await runtime.ListStatusesAsync(ct), StatusCodes.Status201Created);
    });

    public Task<IResult> UpdateAsync(HttpRequest request, string name) => Audited(request, AuditMethods.UpdateServer, name, async (change, ct) =>
    {
        (var definition, var error, change.RequestBytes) = await ReadDefinitionAsync(request, ct);
        if (error is not null) return error;
        var stored = await registry.UpdateAsync(name, definition!, IfMatch(request), ct);
        return Entry(request, stored, await runtime.ListStatusesAsync(ct), StatusCodes.Status200OK);
    });

    public Task<IResult> DeleteAsync(HttpRequest request, string name) => Audited(request, AuditMethods.DeleteServer, name, async (_, ct) =>
    {
        await registry.UnregisterAsync(name, IfMatch(request), ct);
        metrics.Forget(name);
        return Results.NoContent();
    });

    /// <summary><c>GET /admin/virtual-servers</c>: every virtual server, resolved against the servers' tools as they are now.</summary>
    public Task<IResult> ListVirtualServersAsync(HttpRequest request) => Guarded(request, async ct =>
    {
        var stored = await registry.ListVirtualServersAsync(ct);
        var resolution = await ResolutionAsync(ct);
        var entries = stored.Select(resolution.Resolve).ToList();
        return TypedResults.Json(new VirtualServerList(entries, entries.Count), GatewayJson.Default.VirtualServerList);
    });

    public Task<IResult> GetVirtualServerAsync(HttpRequest request, string name) => Guarded(request, async ct =>
    {
        var stored = await registry.GetVirtualServerAsync(name, ct) ?? throw new McpNotFoundException(name, RegistryEntryType.VirtualServer);
        return await VirtualEntryAsync(request, stored, StatusCodes.Status200OK, ct);
    });

    public Task<IResult> RegisterVirtualServerAsync(HttpRequest request) => Audited(request, AuditMethods.CreateVirtualServer, null, async (change, ct) =>
    {
        (var definition, var error, change.RequestBytes) = await ReadVirtualDefinitionAsync(request, ct);
        if (error is not null) return error;
        change.Server = definition!.Name;
        var stored = await registry.RegisterVirtualServerAsync(definition, ct);
        request.HttpContext.Response.Headers.Location = $"{request.PathBase}{request.Path.Value?.TrimEnd('/')}/{Uri.EscapeDataString(stored.Definition.Name)}";
        return await VirtualEntryAsync(request, stored, StatusCodes.Status201Created, ct);
    });

    public Task<IResult> UpdateVirtualServerAsync(HttpRequest request, string name) => Audited(request, AuditMethods.UpdateVirtualServer, name, async (change, ct) =>
    {
        (var definition, var error, change.RequestBytes) = await ReadVirtualDefinitionAsync(request, ct);
        if (error is not null) return error;
        var stored = await registry.UpdateVirtualServerAsync(name, definition!, IfMatch(request), ct);
        return await VirtualEntryAsync(request, stored, StatusCodes.Status200OK, ct);
    });

    public Task<IResult> DeleteVirtualServerAsync(HttpRequest request, string name) => Audited(request, AuditMethods.DeleteVirtualServer, name, async (_, ct) =>
    {
        await registry.UnregisterVirtualServerAsync(name, IfMatch(request), ct);
        return Results.NoContent();
    });

    /// <summary><c>GET /admin/audit</c>: entries of every replica, newest first, filtered and paged (<see cref="AuditQueryString"/>).</summary>
    public Task<IResult> AuditAsync(HttpRequest request) => Guarded(request, async ct =>
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = AuditQueryString.Parse(request.Query, time.GetUtcNow(), errors);
        if (errors.Count == 0)
        {
            try
            {
                var page = await auditStore.QueryAsync(query, ct);
                return TypedResults.Json(page, GatewayJson.Default.AuditPage);
            }
            catch (InvalidAuditCursorException ex)
            {
                errors["cursor"] = [ex.Message];
            }
        }
        return Results.ValidationProblem(errors, title: "The audit query is invalid.", detail: $"Check {string.Join(", ", errors.Keys)}.");
    });

    /// <summary><c>GET /admin/tools</c>: every server's tools; with <c>?virtual=name</c>, what that virtual server exposes.</summary>
    public Task<IResult> ListToolsAsync(HttpRequest request) => Guarded(request, async ct =>
    {
        IReadOnlyList<ToolInfo> tools;
        if (request.Query.TryGetValue("virtual", out var virtualName))
        {
            if (virtualName is not [{ Length: > 0 } name])
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["virtual"] = ["Name one virtual server: ?virtual=name."] }, title: "The tools query is invalid.");
            var stored = await registry.GetVirtualServerAsync(name, ct) ?? throw new McpNotFoundException(name, RegistryEntryType.VirtualServer);
            tools = (await ResolutionAsync(ct)).Resolve(stored).Tools;
        }
        else
        {
            tools = await runtime.ListToolsAsync(ct);
        }
        return TypedResults.Json(new ToolList(tools, tools.Count), GatewayJson.Default.ToolList);
    });

    public Task<IResult> MetricsAsync(HttpRequest request) => Guarded(request, async ct =>
        TypedResults.Json(await MetricsSnapshotAsync(ct), GatewayJson.Default.MetricsSnapshot));

    /// <summary>
    /// <c>GET /healthz</c>, <c>/healthz/live</c>, <c>/healthz/ready</c> (see <see cref="HealthProbes"/>): no
    /// authentication; 503 when a check the probe runs fails, 404 for a probe that does not exist.
    /// </summary>
    public async Task<IResult> HealthAsync(HttpRequest request, string? probe = null)
    {
        if (!HealthProbes.TryGetPredicate(probe, out var predicate))
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"There is no health probe '{probe}'; use /healthz, /healthz/{HealthProbes.Live} or /healthz/{HealthProbes.Ready}.");
        var report = await health.CheckHealthAsync(predicate, request.HttpContext.RequestAborted);
        var body = new HealthBody
        {
            Status = report.Status switch
            {
                HealthStatus.Healthy => "ok",
                HealthStatus.Degraded => "degraded",
                _ => "unhealthy",
            },
            Uptime = GoDuration.Format(TimeSpan.FromSeconds(Math.Floor(metrics.Uptime.TotalSeconds))),
            StartedAt = metrics.StartedAt,
            Checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString().ToLowerInvariant(), StringComparer.Ordinal),
        };
        var status = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        return TypedResults.Json(body, GatewayJson.Default.HealthBody, statusCode: status);
    }

    private async Task<IResult> Guarded(HttpRequest request, Func<CancellationToken, Task<IResult>> action)
    {
        var decision = policy.AuthorizeAdmin(request.HttpContext);
        if (!decision.IsAllowed) return AccessPolicy.Deny(request.HttpContext, decision);
        try
        {
            return await action(request.HttpContext.RequestAborted);
        }
        catch (McpValidationException ex)
        {
            return Results.ValidationProblem(ex.Errors, title: ex.Message);
        }
        catch (McpNotFoundException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: ex.Message);
        }
        catch (McpAlreadyExistsException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already registered", detail: ex.Message);
        }
        catch (McpVersionConflictException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Version conflict", detail: ex.Message);
        }
        catch (McpStoreUnavailableException ex)
        {
            request.HttpContext.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unavailable", detail: ex.Message);
        }
    }

    /// <summary>
    /// A change (<see cref="Guarded"/>) that leaves an audit entry, refused and failed attempts included: the outcome is
    /// the answer's status (<see cref="AuditOutcomes.OfHttpStatus"/>).
    /// </summary>
    private async Task<IResult> Audited(HttpRequest request, string method, string? server, Func<AdminChange, CancellationToken, Task<IResult>> action)
    {
        var started = time.GetTimestamp();
        var change = new AdminChange { Server = server };
        var result = await Guarded(request, ct => action(change, ct));
        var elapsed = time.GetElapsedTime(started);
        audit.Record(new AuditEntry
        {
            Time = time.GetUtcNow() - elapsed,
            Caller = AuditCaller.From(policy.ResolveClientIp(request.HttpContext), AccessPolicy.BearerToken(request)),
            Route = AuditRoutes.Admin,
            Server = change.Server,
            Method = method,
            Outcome = AuditOutcomes.OfHttpStatus((result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK),
            DurationMs = Math.Round(elapsed.TotalMilliseconds, 3),
            RequestBytes = change.RequestBytes,
        });
        return result;
    }

    /// <summary>What a change learns while it runs: the (virtual) server (a registration names it in the body) and the body's size.</summary>
    private sealed class AdminChange
    {
        public string? Server { get; set; }

        public long RequestBytes { get; set; }
    }

    private Task<(McpDefinition? Value, IResult? Error, long Bytes)> ReadDefinitionAsync(HttpRequest request, CancellationToken cancellationToken) =>
        JsonBody.ReadAsync(request, GatewayJson.Default.McpDefinition, options.Value.MaxAdminBodyBytes, cancellationToken);

    private Task<(VirtualServerDefinition? Value, IResult? Error, long Bytes)> ReadVirtualDefinitionAsync(HttpRequest request, CancellationToken cancellationToken) =>
        JsonBody.ReadAsync(request, GatewayJson.Default.VirtualServerDefinition, options.Value.MaxAdminBodyBytes, cancellationToken);

    /// <summary>The registered servers and their tools now, to resolve virtual servers against.</summary>
    private async Task<VirtualServerResolution> ResolutionAsync(CancellationToken cancellationToken)
    {
        var registered = (await registry.ListAsync(cancellationToken)).Select(m => m.Definition.Name).ToHashSet(StringComparer.Ordinal);
        return new VirtualServerResolution(registered, await runtime.ListToolsAsync(cancellationToken));
    }

    private async Task<IResult> VirtualEntryAsync(HttpRequest request, StoredVirtualServer stored, int statusCode, CancellationToken cancellationToken)
    {
        var entry = (await ResolutionAsync(cancellationToken)).Resolve(stored);
        request.HttpContext.Response.Headers.ETag = new EntityTagHeaderValue($"\"{stored.Version}\"").ToString();
        return TypedResults.Json(entry, GatewayJson.Default.VirtualServerEntry, statusCode: statusCode);
    }

    private IResult Entry(HttpRequest request, StoredMcp stored, IReadOnlyDictionary<string, McpRuntimeStatus> statuses, int statusCode)
    {
        request.HttpContext.Response.Headers.ETag = new EntityTagHeaderValue($"\"{stored.Version}\"").ToString();
        return TypedResults.Json(ToEntry(stored, statuses), GatewayJson.Default.McpEntry, statusCode: statusCode);
    }

    private McpEntry ToEntry(StoredMcp stored, IReadOnlyDictionary<string, McpRuntimeStatus> statuses) =>
        new(stored.Definition.Redact(), stored.Version,
            statuses.GetValueOrDefault(stored.Definition.Name) ?? McpRuntimeStatus.NotConnected(stored.Definition.Name, time.GetUtcNow()));

    /// <summary>The version named by <c>If-Match</c>, or null for none or <c>*</c>.</summary>
    private static string? IfMatch(HttpRequest request)
    {
        var header = request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*") return null;
        if (header.StartsWith("W/", StringComparison.Ordinal)) header = header[2..];
        return header.Trim('"');
    }
}
