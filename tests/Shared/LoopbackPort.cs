using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace McpServerless.Testing;

/// <summary>Waits for a child process to listen on a loopback port; shared by the tests and the benchmark (linked into both).</summary>
internal static class LoopbackPort
{
    /// <summary>Returns once something accepts TCP connections on <paramref name="port"/>; fails if <paramref name="process"/> exits first or the time runs out.</summary>
    /// <param name="describe">What to add to a failure (the process's output).</param>
    public static async Task WaitForListenerAsync(Process process, int port, TimeSpan timeout, Func<string>? describe = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.StartInfo.FileName} exited with {process.ExitCode}{Details(describe)}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"{process.StartInfo.FileName} did not listen on {port} within {timeout.TotalSeconds:0} s{Details(describe)}");
    }

    private static string Details(Func<string>? describe) => describe is null ? "." : $": {describe()}";
}
