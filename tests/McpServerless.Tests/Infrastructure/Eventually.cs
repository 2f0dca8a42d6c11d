namespace McpServerless.Tests.Infrastructure;

/// <summary>Polls for a condition the gateway reaches asynchronously (a connection, a reconnect), failing with a message after a bound.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        T last;
        do
        {
            last = await probe();
            if (done(last)) return last;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Timed out waiting for {what}; last value: {last}");
    }
}
