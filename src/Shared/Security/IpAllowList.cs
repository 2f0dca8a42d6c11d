using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace McpServerless.Security;

/// <summary>
/// A set of single addresses and CIDR ranges, IPv4 and IPv6. IPv4-mapped IPv6 addresses
/// (<c>::ffff:10.0.0.1</c>, what a dual-stack socket reports) match their IPv4 entries, and an IPv4-mapped
/// range (<c>::ffff:127.0.0.0/104</c>) matches both the mapped and the plain addresses. Only canonical text is
/// an address: dotted-quad IPv4 in decimal without leading zeros and RFC 4291 IPv6 without a zone, so
/// <c>012.0.0.01</c>, <c>167772161</c> or <c>0x0a.0.0.1</c> are never taken for <c>10.0.0.1</c>.
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
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address)) return false;
        if (slash < 0)
        {
            address = Normalize(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        if (!IsCanonicalNumber(text[(slash + 1)..], max: address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
            || !IPNetwork.TryParse(text, out network))
            return false;
        // An IPv4-mapped range is kept as the IPv4 range it maps, so plain and mapped addresses both match it.
        if (address.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
            network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
        return true;
    }

    /// <summary>Parses canonical address text only: dotted-quad decimal IPv4 without leading zeros, or RFC 4291 IPv6 (no zone).</summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':'))
        {
            // Hex groups, optionally ending in a dotted quad; no zone index, brackets or white space.
            var tail = text[(text.LastIndexOf(':') + 1)..];
            if (text.ContainsAnyExcept(Ipv6Characters) || (tail.Contains('.') && !IsDottedQuad(tail))) return false;
        }
        else if (!IsDottedQuad(text))
        {
            return false;
        }
        return IPAddress.TryParse(text, out address);
    }

    private static readonly SearchValues<char> Ipv6Characters = SearchValues.Create("0123456789abcdefABCDEF:.");

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

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        for (var part = 0; part < 4; part++)
        {
            var dot = text.IndexOf('.');
            if ((dot < 0) != (part == 3) || !IsCanonicalNumber(dot < 0 ? text : text[..dot], max: 255)) return false;
            text = dot < 0 ? [] : text[(dot + 1)..];
        }
        return true;
    }

    // Decimal digits, no sign, no leading zero (except "0" itself), at most max.
    private static bool IsCanonicalNumber(ReadOnlySpan<char> text, int max) =>
        text.Length is > 0 and <= 3 && !text.ContainsAnyExceptInRange('0', '9') && (text.Length == 1 || text[0] != '0')
        && int.Parse(text, CultureInfo.InvariantCulture) <= max;

    internal static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
