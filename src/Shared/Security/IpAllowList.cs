using System.Net;

namespace McpServerless.Security;

/// <summary>
/// A set of single addresses and CIDR ranges, IPv4 and IPv6. IPv4-mapped IPv6 addresses
/// (<c>::ffff:10.0.0.1</c>, what a dual-stack socket reports) match their IPv4 entries.
/// </summary>
public sealed class IpAllowList
{
    private readonly IPNetwork[] _networks;

    private IpAllowList(IPNetwork[] networks) => _networks = networks;

    public static IpAllowList Empty { get; } = new([]);

    public bool IsEmpty => _networks.Length == 0;

    /// <exception cref="FormatException">An entry is neither an address nor a CIDR range.</exception>
    public static IpAllowList Parse(IEnumerable<string>? entries)
    {
        if (entries is null) return Empty;
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            networks.Add(TryParseEntry(entry, out var network)
                ? network
                : throw new FormatException($"'{entry}' is not an IP address or CIDR range."));
        }
        return networks.Count == 0 ? Empty : new([.. networks]);
    }

    /// <summary>Parses "10.0.0.1", "10.0.0.0/8", "::1" or "fd00::/8".</summary>
    public static bool TryParseEntry(string? entry, out IPNetwork network)
    {
        network = default;
        var text = entry.AsSpan().Trim();
        if (text.Contains('/')) return IPNetwork.TryParse(text, out network);
        if (!IPAddress.TryParse(text, out var address)) return false;
        address = Normalize(address);
        network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }

    public bool Contains(IPAddress? address)
    {
        if (address is null) return false;
        address = Normalize(address);
        foreach (var network in _networks)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    internal static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
