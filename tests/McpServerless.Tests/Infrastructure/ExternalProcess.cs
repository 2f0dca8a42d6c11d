using System.Diagnostics;

namespace McpServerless.Tests.Infrastructure;

/// <summary>
/// A process the tests start (redis-server, Azurite, an MCP server) and end by its own PID.
/// Its output is kept for failure messages. One still running when the test host exits (a fixture whose start failed
/// is never disposed by xunit) is ended then, so it does not outlive the run.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<ExternalProcess, byte> Running = new();

    static ExternalProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var left in Running.Keys) left.Kill();
    };

    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private ExternalProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var external = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => external.Append(e.Data);
        process.ErrorDataReceived += (_, e) => external.Append(e.Data);
        process.Start();
        Running.TryAdd(external, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return external;
    }

    /// <summary>Waits until something accepts TCP connections on the loopback port, or fails with the process output.</summary>
    public Task WaitForPortAsync(int port, TimeSpan? timeout = null) =>
        McpServerless.Testing.LoopbackPort.WaitForListenerAsync(_process, port, timeout ?? TimeSpan.FromSeconds(30), () => Output);

    /// <summary>Waits for the process to end by itself and returns its standard output; fails with its output otherwise.</summary>
    public async Task<string> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit(); // flushes the asynchronous output readers
        return _process.ExitCode == 0 ? Output : throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}: {Output}");
    }

    /// <summary>Kills the process (and its children) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        Running.TryRemove(this, out _);
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it ended meanwhile
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
