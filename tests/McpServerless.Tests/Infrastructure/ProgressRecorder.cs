using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Infrastructure;

/// <summary>
/// Every progress notification of the session, by token. A session-wide handler, because the SDK client
/// dispatches messages concurrently and drops an update for a call whose answer it has already handled.
/// </summary>
public sealed class ProgressRecorder
{
    private readonly List<(string Token, float Progress)> _updates = [];

    public ProgressRecorder(McpClient client) =>
        client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            var token = notification.Params!["progressToken"]!.ToJsonString();
            lock (_updates) _updates.Add((token, notification.Params!["progress"]!.GetValue<float>()));
            return default;
        });

    public async Task<Dictionary<string, List<float>>> WaitForAsync(int updates)
    {
        await Eventually.GetAsync(() => Task.FromResult(Count()), n => n >= updates, $"{updates} progress updates", TimeSpan.FromSeconds(10));
        lock (_updates) return _updates.GroupBy(u => u.Token).ToDictionary(g => g.Key, g => g.Select(u => u.Progress).ToList());
    }

    private int Count()
    {
        lock (_updates) return _updates.Count;
    }
}
