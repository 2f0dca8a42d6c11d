using McpServerless.Proxy.Upstreams;

namespace McpServerless.Tests.Relay;

/// <summary>
/// The pooled cancellation sources behind every relayed call: a source is reused, so a cancellation, a link or a
/// deadline of a finished call must never reach a later one.
/// </summary>
public sealed class LinkedCancellationTests
{
    [Fact]
    public void The_outer_token_and_the_deadline_each_cancel()
    {
        using var outer = new CancellationTokenSource();
        using var linked = LinkedCancellation.Start(outer.Token, Timeout.InfiniteTimeSpan);
        outer.Cancel();
        Assert.True(linked.IsCancellationRequested);

        using var timed = LinkedCancellation.Start(CancellationToken.None, TimeSpan.FromMilliseconds(1));
        Assert.True(timed.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_later_call_starts_uncancelled_whatever_ended_the_ones_before()
    {
        using (var outer = new CancellationTokenSource())
        {
            using var cancelled = LinkedCancellation.Start(outer.Token, Timeout.InfiniteTimeSpan);
            outer.Cancel();
        }
        using (var timedOut = LinkedCancellation.Start(CancellationToken.None, TimeSpan.FromMilliseconds(1)))
            timedOut.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));

        for (var i = 0; i < 100; i++)
        {
            using var next = LinkedCancellation.Start(CancellationToken.None, Timeout.InfiniteTimeSpan);
            Assert.False(next.IsCancellationRequested);
        }
    }

    [Fact]
    public void A_finished_call_leaves_neither_its_link_nor_its_deadline_behind()
    {
        using var outer = new CancellationTokenSource();
        LinkedCancellation.Start(outer.Token, TimeSpan.FromMilliseconds(50)).Dispose();

        // Taken from the pool (on this thread, the source just returned), with no deadline of its own.
        var sources = Enumerable.Range(0, 8).Select(_ => LinkedCancellation.Start(CancellationToken.None, Timeout.InfiniteTimeSpan)).ToList();
        outer.Cancel();
        Thread.Sleep(200); // past the finished call's deadline
        Assert.All(sources, source => Assert.False(source.IsCancellationRequested));
        sources.ForEach(source => source.Dispose());
    }
}
