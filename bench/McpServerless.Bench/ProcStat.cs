using System.Globalization;

namespace McpServerless.Bench;

/// <summary>What Linux reports about a process in /proc: CPU time, resident memory, children. A process that has gone reads as zero.</summary>
internal static class ProcStat
{
    /// <summary>Clock ticks per second of utime and stime (USER_HZ, 100 on Linux).</summary>
    public const double TicksPerSecond = 100;

    /// <summary>User plus system CPU time of every thread of the process so far, in clock ticks.</summary>
    public static long CpuTicks(int pid)
    {
        try
        {
            // Fields after the parenthesised command start at the 3rd; utime and stime are the 14th and 15th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public static long ResidentBytes(int pid)
    {
        try
        {
            const string Field = "VmRSS:";
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(Field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[Field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The children of the process, their children, and so on (a stdio server may be started through a shell).</summary>
    public static IEnumerable<int> Descendants(int pid)
    {
        var pending = new Stack<int>(Children(pid));
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            yield return next;
            foreach (var child in Children(next)) pending.Push(child);
        }
    }

    // Each thread lists the children it started, so every thread of the process is read.
    private static IEnumerable<int> Children(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task")
                .SelectMany(task => ReadOrEmpty(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(child => int.Parse(child, CultureInfo.InvariantCulture))
                .ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return ""; // the thread ended between listing and reading
        }
    }
}
