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

    /// <summary>Waits for the process <paramref name="pid"/> to be gone.</summary>
    public static Task ExitedAsync(int pid, string what, TimeSpan? timeout = null) =>
        GetAsync(() => Task.FromResult(IsRunning(pid)), running => !running, what, timeout ?? TimeSpan.FromSeconds(10));

    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
