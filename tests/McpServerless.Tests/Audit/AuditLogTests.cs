using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Configuration;
using McpServerless.Metrics;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpServerless.Tests.Audit;

/// <summary>The writer: never in the caller's way, every entry a log record, every loss counted.</summary>
public sealed class AuditLogTests
{
    private static readonly AuditCaller Caller = AuditCaller.From(IPAddress.Parse("192.0.2.7"), "caller-token");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_call_is_timed_from_begin_to_complete_and_stamped_with_the_replica()
    {
        var store = NewStore();
        await using var services = AuditTestServices.Build(store, _time, instance: "replica-7");

        await services.RecordAsync(log =>
        {
            var scope = log.Begin(AuditRoutes.Aggregated, Caller, AuditMethods.PromptsGet, "docs", "summarize", requestBytes: 321);
            _time.Advance(TimeSpan.FromMilliseconds(250));
            scope.Complete(AuditOutcomes.ToolError, responseBytes: 654);
        });

        var entry = Assert.Single((await store.QueryAsync(new AuditQuery())).Entries);
        Assert.Equal(new AuditEntry
        {
            Time = _time.GetUtcNow().AddMilliseconds(-250),
            Replica = "replica-7",
            Caller = new AuditCaller { Token = McpServerless.Security.TokenSet.Fingerprint("caller-token"), Ip = "192.0.2.7" },
            Route = AuditRoutes.Aggregated,
            Server = "docs",
            Method = AuditMethods.PromptsGet,
            Tool = "summarize",
            Outcome = AuditOutcomes.ToolError,
            DurationMs = 250,
            RequestBytes = 321,
            ResponseBytes = 654,
        }, entry);
    }

    [Fact]
    public async Task Every_entry_is_a_structured_log_record_in_the_audit_category()
    {
        var store = NewStore();
        await using var services = AuditTestServices.Build(store, _time);

        await services.RecordAsync(log => log.Begin(AuditRoutes.Server, Caller, AuditMethods.ToolsCall, "files", "read_file").Complete(AuditOutcomes.Of(-32602)));

        var record = Assert.Single(services.GetFakeLogCollector().GetSnapshot(), r => r.Category == AuditLog.LogCategory);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Equal("AuditEntry", record.Id.Name);
        Assert.Equal("tools/call", record.GetStructuredStateValue("Method"));
        Assert.Equal("read_file", record.GetStructuredStateValue("Tool"));
        Assert.Equal("files", record.GetStructuredStateValue("Server"));
        Assert.Equal("server", record.GetStructuredStateValue("Route"));
        Assert.Equal("-32602", record.GetStructuredStateValue("Outcome"));
        Assert.Equal(Caller.Token, record.GetStructuredStateValue("CallerToken"));
        Assert.Equal("192.0.2.7", record.GetStructuredStateValue("ClientIp"));
        Assert.Equal("replica-1", record.GetStructuredStateValue("Replica"));
        Assert.DoesNotContain("caller-token", record.Message);
    }

    [Fact]
    public async Task Recording_never_waits_for_a_slow_store_and_what_does_not_fit_is_dropped_and_counted()
    {
        var store = new GatedStore(NewStore());
        await using var services = AuditTestServices.Build(store, _time, options => options.QueueCapacity = 10);
        using var dropped = DroppedCollector(services);
        var log = services.GetRequiredService<AuditLog>();
        await log.StartAsync(CancellationToken.None);

        log.Record(Entry("first"));
        await store.Appending.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the pump holds "first" and waits on the store
        for (var i = 0; i < 30; i++) log.Record(Entry($"queued-{i}"));

        // Ten fit in the queue; twenty were refused at once and counted, while the store still had not answered.
        Assert.False(store.Gate.Task.IsCompleted);
        Assert.Equal(20, Sum(dropped, "queue_full"));

        store.Gate.SetResult();
        await log.StopAsync(CancellationToken.None);
        var stored = (await store.QueryAsync(new AuditQuery())).Entries.Select(e => e.Tool);
        Assert.Equal(["first", .. Enumerable.Range(0, 10).Select(i => $"queued-{i}")], stored.Reverse());
    }

    [Fact]
    public async Task A_store_that_fails_is_logged_and_counted_and_the_entries_are_still_logged()
    {
        // A Redis that is not there: every write fails after the store's timeout.
        var unreachable = new RedisAuditStore(new RedisStoreOptions { Configuration = $"127.0.0.1:{TestTools.FreeTcpPort()}", Timeout = TimeSpan.FromMilliseconds(500) },
            new AuditOptions(), _time, NullLogger<RedisAuditStore>.Instance);
        await using var _ = unreachable;
        await using var services = AuditTestServices.Build(unreachable, _time);
        using var dropped = DroppedCollector(services);

        await services.RecordAsync(log =>
        {
            for (var i = 0; i < 3; i++) log.Begin(AuditRoutes.Server, Caller, AuditMethods.ToolsCall, "files", $"tool-{i}").Complete(AuditOutcomes.Ok);
        });

        var logs = services.GetFakeLogCollector().GetSnapshot();
        Assert.Equal(3, logs.Count(r => r.Category == AuditLog.LogCategory));
        var failure = Assert.Single(logs, r => r.Category == typeof(AuditLog).FullName);
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.IsType<McpStoreUnavailableException>(failure.Exception);
        Assert.Equal(3, Sum(dropped, "store_failed"));
    }

    [Fact]
    public async Task Nothing_is_recorded_when_auditing_is_off_or_the_method_is_not_audited()
    {
        var store = NewStore();
        await using (var off = AuditTestServices.Build(store, _time, options => options.Enabled = false))
        {
            await off.RecordAsync(log =>
            {
                log.Begin(AuditRoutes.Server, Caller, AuditMethods.ToolsCall, "files", "read_file").Complete(AuditOutcomes.Ok);
                log.Record(Entry("direct"));
            });
            Assert.DoesNotContain(off.GetFakeLogCollector().GetSnapshot(), r => r.Category == AuditLog.LogCategory);
        }
        await using (var on = AuditTestServices.Build(store, _time))
        {
            await on.RecordAsync(log =>
            {
                log.Begin(AuditRoutes.Server, Caller, "tools/list", "files", null).Complete(AuditOutcomes.Ok);
                log.Begin(AuditRoutes.Server, Caller, "resources/list", "files", null).Complete(AuditOutcomes.Ok);
                default(AuditScope).Complete(AuditOutcomes.Ok);
            });
        }

        Assert.Empty((await store.QueryAsync(new AuditQuery())).Entries);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Timing_and_recording_a_call_allocates_nothing(bool enabled)
    {
        // The proxy path records every tools/call: the entry is a struct and the queue holds it by value.
        await using var services = AuditTestServices.Build(NewStore(), TimeProvider.System, options =>
        {
            options.Enabled = enabled;
            options.QueueCapacity = 4096;
        });
        var log = services.GetRequiredService<AuditLog>(); // not started, so the queue only fills
        void RecordCalls(int count)
        {
            for (var i = 0; i < count; i++)
                log.Begin(AuditRoutes.Server, Caller, AuditMethods.ToolsCall, "files", "read_file", 100).Complete(AuditOutcomes.Ok, 200);
        }
        RecordCalls(2049); // compiles the path and grows the queue's buffer to 4096 entries

        var before = GC.GetAllocatedBytesForCurrentThread();
        RecordCalls(1000);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Outcomes_name_tool_errors_json_rpc_codes_and_admin_statuses()
    {
        Assert.Equal("tool_error", AuditOutcomes.Of(JsonNode.Parse("""{"content":[],"isError":true}""")));
        Assert.Equal("ok", AuditOutcomes.Of(JsonNode.Parse("""{"content":[],"isError":false}""")));
        Assert.Equal("ok", AuditOutcomes.Of(JsonNode.Parse("""{"content":[]}""")));
        Assert.Equal("ok", AuditOutcomes.Of(null));
        Assert.Equal("-32602", AuditOutcomes.Of(-32602));
        Assert.Equal("-31999", AuditOutcomes.Of(-31999));
        Assert.Equal("ok", AuditOutcomes.OfHttpStatus(201));
        Assert.Equal("refused", AuditOutcomes.OfHttpStatus(401));
        Assert.Equal("refused", AuditOutcomes.OfHttpStatus(403));
        Assert.Equal("409", AuditOutcomes.OfHttpStatus(409));
    }

    [Fact]
    public void A_token_fingerprint_is_what_sha256sum_prints_first()
    {
        // printf %s test | sha256sum → 9f86d081884c7d65...
        Assert.Equal("9f86d081", McpServerless.Security.TokenSet.Fingerprint("test"));
        Assert.Null(AuditCaller.From(null, "").Token);
    }

    [Theory]
    [InlineData("token", true)]
    [InlineData("access_token", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("clientSecret", true)]
    [InlineData("Authorization", true)]
    [InlineData("db_password", true)]
    [InlineData("path", false)]
    [InlineData("query", false)]
    [InlineData("author", false)]
    public void Secret_looking_argument_names_are_recognised(string name, bool secret) =>
        Assert.Equal(secret, ArgumentRedaction.IsSecretName(name));

    [Fact]
    public void Oversized_arguments_are_replaced_by_a_note_of_their_size()
    {
        var huge = new JsonObject { ["text"] = new string('x', ArgumentRedaction.MaxBytes * 2) };
        var kept = ArgumentRedaction.Redact(huge);
        Assert.Equal(System.Text.Json.JsonValueKind.String, kept.ValueKind);
        Assert.Contains("bytes of arguments", kept.GetString());
    }

    private InMemoryAuditStore NewStore() => new(Options.Create(new AuditOptions()), _time);

    private AuditEntry Entry(string tool) => new()
    {
        Time = _time.GetUtcNow(),
        Caller = Caller,
        Route = AuditRoutes.Server,
        Server = "files",
        Method = AuditMethods.ToolsCall,
        Tool = tool,
        Outcome = AuditOutcomes.Ok,
    };

    private static MetricCollector<long> DroppedCollector(IServiceProvider services) =>
        new(services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "mcp_gateway.audit.dropped");

    private static long Sum(MetricCollector<long> collector, string reason) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], reason)).Sum(m => m.Value);

    /// <summary>A store that holds its first write until the test opens the gate: a store that has stopped answering.</summary>
    private sealed class GatedStore(IAuditStore inner) : IAuditStore
    {
        public TaskCompletionSource Appending { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
        {
            Appending.TrySetResult();
            await Gate.Task.WaitAsync(cancellationToken);
            await inner.AppendAsync(entries, cancellationToken);
        }

        public ValueTask<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);
    }
}
