using System.Security.Cryptography;
using System.Text;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// How spans and logs name an MCP session: the first 8 hex digits of the SHA-256 of its id, enough to follow one
/// session through a trace or a log. The id itself works as a credential, so it never leaves the gateway.
/// </summary>
internal static class SessionTags
{
    public static string Hash(string sessionId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId)))[..8];
}
