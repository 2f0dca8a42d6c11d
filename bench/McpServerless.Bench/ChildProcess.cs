using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace McpServerless.Bench;

/// <summary>A process the benchmark starts, measures through /proc and ends by its PID.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public static async Task<ChildProcess> StartAsync(string fileName, IEnumerable<string> arguments, int port, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(process);
        await child.WaitForPortAsync(port);
        return child;
    }

    /// <summary>Resident memory of the process and its children (a peer may run the stdio server as its child), in bytes.</summary>
    public long ResidentBytes() => TreePids().Sum(pid => ReadStatusKilobytes(pid, "VmRSS:") * 1024);

    /// <summary>CPU time the process tree has used so far.</summary>
    public TimeSpan CpuTime() => TimeSpan.FromSeconds(TreePids().Sum(CpuTicks) / 100.0);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}.");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"{_process.StartInfo.FileName} did not listen on {port}.");
    }

    private IEnumerable<int> TreePids()
    {
        var pending = new Stack<int>([_process.Id]);
        while (pending.Count > 0)
        {
            var pid = pending.Pop();
            yield return pid;
            var children = $"/proc/{pid}/task/{pid}/children";
            if (!File.Exists(children)) continue;
            foreach (var child in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                pending.Push(int.Parse(child, CultureInfo.InvariantCulture));
        }
    }

    private static long ReadStatusKilobytes(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long CpuTicks(int pid)
    {
        try
        {
            // Fields after the parenthesised command: utime and stime are the 12th and 13th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
