using System.Collections.Concurrent;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Storage;

/// <summary>
/// The reconcile both the upstream connections and the virtual server catalog are built on, over a plain dictionary:
/// what a pass applies and removes, what a store that cannot be read leaves, and that applies never overlap.
/// </summary>
public sealed class RegistryReconcilerTests
{
    [Fact]
    public async Task A_pass_removes_what_the_store_no_longer_has_and_applies_the_rest()
    {
        var reconciler = new DictionaryReconciler();
        reconciler.Stored["kept"] = new Entry("kept", "2");
        reconciler.Stored["new"] = new Entry("new", "1");
        reconciler.Live["kept"] = "1";
        reconciler.Live["gone"] = "1";

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["kept"] = "2", ["new"] = "1" }, reconciler.Live);
        Assert.Equal(["-gone"], reconciler.Steps.Where(s => s.StartsWith('-')));
    }

    [Fact]
    public async Task One_name_is_applied_or_removed_as_the_store_has_it()
    {
        var reconciler = new DictionaryReconciler();
        reconciler.Stored["a"] = new Entry("a", "1");
        reconciler.Live["b"] = "1";

        await reconciler.ReconcileAsync("a", CancellationToken.None);
        await reconciler.ReconcileAsync("b", CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, reconciler.Live);
        Assert.Equal(["+a", "-b"], reconciler.Steps);
    }

    [Fact]
    public async Task A_store_that_cannot_be_read_leaves_everything_live_until_a_later_pass()
    {
        var reconciler = new DictionaryReconciler { Unavailable = true };
        reconciler.Live["a"] = "1";

        await reconciler.ReconcileAllAsync(CancellationToken.None);
        await reconciler.ReconcileAsync("a", CancellationToken.None);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, reconciler.Live);

        reconciler.Unavailable = false;
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Assert.Empty(reconciler.Live);
    }

    [Fact]
    public async Task Applies_run_one_at_a_time()
    {
        var reconciler = new DictionaryReconciler { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        reconciler.Stored["a"] = new Entry("a", "1");
        reconciler.Stored["b"] = new Entry("b", "1");

        var first = reconciler.ReconcileAsync("a", CancellationToken.None);
        var second = reconciler.ReconcileAsync("b", CancellationToken.None);
        // "a" is held in its apply; the store answered "b" at once, so only the loop's lock keeps it out.
        Assert.Equal(["+a"], reconciler.Steps);

        reconciler.Gate.SetResult();
        await Task.WhenAll(first, second);
        Assert.Equal(["+a", "+b"], reconciler.Steps);
        Assert.Equal(1, reconciler.MostAtOnce);
    }

    private sealed record Entry(string Name, string Version);

    /// <summary>A store and a live set that are dictionaries, recording each apply (+name) and remove (-name).</summary>
    private sealed class DictionaryReconciler() : RegistryReconciler<Entry>(
        new InProcessChangeFeed(NullLogger<InProcessChangeFeed>.Instance), RegistryEntryType.Server,
        Options.Create(new McpProxyOptions()), TimeProvider.System, NullLogger.Instance)
    {
        private int _applying;

        public ConcurrentDictionary<string, Entry> Stored { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, string> Live { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Steps { get; } = new();

        public bool Unavailable { get; set; }

        /// <summary>When set, every apply waits for it.</summary>
        public TaskCompletionSource? Gate { get; init; }

        public int MostAtOnce { get; private set; }

        protected override IEnumerable<string> LiveNames => Live.Keys;

        protected override ValueTask<IReadOnlyList<Entry>> ListStoredAsync(CancellationToken cancellationToken) =>
            Unavailable ? throw new McpStoreUnavailableException("down") : ValueTask.FromResult<IReadOnlyList<Entry>>([.. Stored.Values]);

        protected override ValueTask<Entry?> GetStoredAsync(string name, CancellationToken cancellationToken) =>
            Unavailable ? throw new McpStoreUnavailableException("down") : ValueTask.FromResult(Stored.GetValueOrDefault(name));

        protected override string NameOf(Entry stored) => stored.Name;

        protected override async ValueTask ApplyAsync(Entry stored)
        {
            if (Live.GetValueOrDefault(stored.Name) == stored.Version) return;
            MostAtOnce = Math.Max(MostAtOnce, Interlocked.Increment(ref _applying));
            Steps.Enqueue("+" + stored.Name);
            if (Gate is not null) await Gate.Task;
            Live[stored.Name] = stored.Version;
            Interlocked.Decrement(ref _applying);
        }

        protected override ValueTask RemoveAsync(string name)
        {
            if (Live.TryRemove(name, out _)) Steps.Enqueue("-" + name);
            return ValueTask.CompletedTask;
        }
    }
}
