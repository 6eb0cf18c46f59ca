using System;
using System.Buffers.Binary;
using System.Globalization;

namespace PacketPlane.Telemetry;

/// <summary>
/// Which packets a capture keeps: a conjunction of simple tests on the Ethernet, IP and TCP/UDP headers,
/// written in a small subset of tcpdump's filter language. Terms, joined by <c>and</c>:
/// <list type="bullet">
/// <item><c>ether proto N</c> (EtherType, decimal or 0x hex, after up to two VLAN tags), and the shorthands
/// <c>ip</c> (0x0800), <c>ip6</c> (0x86dd), <c>arp</c> (0x0806), <c>vlan</c> (the frame carries a VLAN tag)</item>
/// <item><c>ip proto N</c> (IPv4 protocol or IPv6 next header), and <c>tcp</c>, <c>udp</c>, <c>sctp</c>,
/// <c>icmp</c> (IPv4 protocol 1), <c>icmp6</c> (IPv6 next header 58)</item>
/// <item><c>port N</c>, <c>src port N</c>, <c>dst port N</c> (TCP, UDP or SCTP; IPv4 fragments after the first
/// have no ports and never match)</item>
/// </list>
/// Example: <c>ip and udp and dst port 4789</c>. An empty string keeps everything. There is no <c>or</c> and no
/// <c>not</c>: enable a second capture, or filter the file afterwards with tshark. IPv6 extension headers are not
/// walked: the test sees the first next-header value.
/// </summary>
public sealed class CaptureFilter
{
    private const int Any = -1;
    private readonly int _etherType = Any;
    private readonly bool _vlan;
    private readonly int _ipProtocol = Any;
    private readonly int _ipVersion = Any; // 4 or 6 when the term only holds for one (icmp, icmp6)
    private readonly int _port = Any;
    private readonly int _srcPort = Any;
    private readonly int _dstPort = Any;

    private CaptureFilter(string text, int etherType, bool vlan, int ipProtocol, int ipVersion, int port, int srcPort, int dstPort)
    {
        Text = text;
        _etherType = etherType;
        _vlan = vlan;
        _ipProtocol = ipProtocol;
        _ipVersion = ipVersion;
        _port = port;
        _srcPort = srcPort;
        _dstPort = dstPort;
    }

    /// <summary>A filter that keeps every packet.</summary>
    public static CaptureFilter All { get; } = new("", Any, false, Any, Any, Any, Any, Any);

    /// <summary>The filter as written.</summary>
    public string Text { get; }

    /// <summary>True when every packet matches.</summary>
    public bool MatchesEverything => ReferenceEquals(this, All) ||
        (_etherType == Any && !_vlan && _ipProtocol == Any && _ipVersion == Any && _port == Any && _srcPort == Any && _dstPort == Any);

    /// <summary>Parses a filter expression (see the type's summary for the grammar).</summary>
    /// <exception cref="ArgumentException">The expression names an unknown term or a bad number; the message shows where.</exception>
    public static CaptureFilter Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var builder = new Builder(expression);
        string[] words = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int i = 0;
        while (i < words.Length)
        {
            i = builder.Term(words, i);
            if (i < words.Length)
            {
                if (!words[i].Equals("and", StringComparison.OrdinalIgnoreCase) && words[i] != "&&")
                    throw builder.Error($"expected 'and' before '{words[i]}'");
                i++;
                if (i == words.Length)
                    throw builder.Error("expected a term after the last 'and'");
            }
        }
        return builder.Build();
    }

    /// <summary>True when <paramref name="frame"/> (an Ethernet frame, or its first bytes) passes every term.</summary>
    public bool Matches(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14)
            return MatchesEverything;
        int offset = 12;
        int etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset));
        bool tagged = false;
        // 802.1Q / 802.1ad: the EtherType that matters follows at most two tags.
        for (int tags = 0; tags < 2 && (etherType == 0x8100 || etherType == 0x88a8) && frame.Length >= offset + 6; tags++)
        {
            tagged = true;
            offset += 4;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(offset));
        }
        offset += 2;
        if (_vlan && !tagged)
            return false;
        if (_etherType != Any && etherType != _etherType)
            return false;
        if (_ipProtocol == Any && _ipVersion == Any && !NeedsPorts)
            return true;
        return MatchesIp(frame, offset, etherType);
    }

    /// <summary>The filter as written.</summary>
    public override string ToString() => Text.Length == 0 ? "(all packets)" : Text;

    private bool NeedsPorts => _port != Any || _srcPort != Any || _dstPort != Any;

    private bool MatchesIp(ReadOnlySpan<byte> frame, int l3, int etherType)
    {
        int protocol;
        int l4;
        bool hasPorts;
        if (etherType == 0x0800 && frame.Length >= l3 + 20)
        {
            if (_ipVersion == 6)
                return false;
            int ihl = (frame[l3] & 0x0f) * 4;
            protocol = frame[l3 + 9];
            l4 = l3 + ihl;
            // Fragment offset != 0: a later fragment, no L4 header in it (RFC 791).
            hasPorts = ihl >= 20 && (BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(l3 + 6)) & 0x1fff) == 0;
        }
        else if (etherType == 0x86dd && frame.Length >= l3 + 40)
        {
            if (_ipVersion == 4)
                return false;
            protocol = frame[l3 + 6];
            l4 = l3 + 40;
            hasPorts = true;
        }
        else
        {
            return false;
        }
        if (_ipProtocol != Any && protocol != _ipProtocol)
            return false;
        if (!NeedsPorts)
            return true;
        if (!hasPorts || (protocol != 6 && protocol != 17 && protocol != 132) || frame.Length < l4 + 4)
            return false;
        int src = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(l4));
        int dst = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(l4 + 2));
        if (_srcPort != Any && src != _srcPort)
            return false;
        if (_dstPort != Any && dst != _dstPort)
            return false;
        return _port == Any || src == _port || dst == _port;
    }

    private sealed class Builder(string text)
    {
        private int _etherType = Any;
        private bool _vlan;
        private int _ipProtocol = Any;
        private int _ipVersion = Any;
        private int _port = Any;
        private int _srcPort = Any;
        private int _dstPort = Any;

        public CaptureFilter Build() => new(text.Trim(), _etherType, _vlan, _ipProtocol, _ipVersion, _port, _srcPort, _dstPort);

        public ArgumentException Error(string what) => new(
            $"capture filter '{text}': {what}. Terms (joined by 'and'): ether proto N, ip, ip6, arp, vlan, ip proto N, tcp, udp, sctp, icmp, icmp6, port N, src port N, dst port N",
            "expression");

        public int Term(string[] w, int i)
        {
            string word = w[i].ToLowerInvariant();
            switch (word)
            {
                case "ip" when i + 1 < w.Length && w[i + 1].Equals("proto", StringComparison.OrdinalIgnoreCase):
                    SetProtocol(Number(w, i + 2, "ip proto", 255));
                    return i + 3;
                case "ip": SetEtherType(0x0800); return i + 1;
                case "ip6": SetEtherType(0x86dd); return i + 1;
                case "arp": SetEtherType(0x0806); return i + 1;
                case "vlan": _vlan = true; return i + 1;
                case "tcp": SetProtocol(6); return i + 1;
                case "udp": SetProtocol(17); return i + 1;
                case "sctp": SetProtocol(132); return i + 1;
                case "icmp": SetProtocol(1); SetVersion(4); return i + 1;
                case "icmp6": SetProtocol(58); SetVersion(6); return i + 1;
                case "port": _port = Number(w, i + 1, "port", 65535); return i + 2;
                case "ether":
                    Expect(w, i + 1, "proto", "ether");
                    SetEtherType(Number(w, i + 2, "ether proto", 65535));
                    return i + 3;
                case "src":
                case "dst":
                    Expect(w, i + 1, "port", word);
                    int p = Number(w, i + 2, word + " port", 65535);
                    if (word == "src")
                        _srcPort = p;
                    else
                        _dstPort = p;
                    return i + 3;
                case "proto":
                    SetProtocol(Number(w, i + 1, "proto", 255));
                    return i + 2;
                default:
                    throw Error($"unknown term '{w[i]}'");
            }
        }

        private void Expect(string[] w, int i, string expected, string after)
        {
            if (i >= w.Length || !w[i].Equals(expected, StringComparison.OrdinalIgnoreCase))
                throw Error($"expected '{expected}' after '{after}'");
        }

        private int Number(string[] w, int i, string term, int max)
        {
            if (i >= w.Length)
                throw Error($"'{term}' needs a number");
            string s = w[i];
            bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? int.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int n)
                : int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n);
            if (!ok || n < 0 || n > max)
                throw Error($"'{term} {s}': expected a number from 0 to {max} (decimal or 0x hex)");
            return n;
        }

        private void SetEtherType(int value)
        {
            if (_etherType != Any && _etherType != value)
                throw Error($"two different EtherTypes (0x{_etherType:x4} and 0x{value:x4}) can never both match");
            _etherType = value;
        }

        private void SetProtocol(int value)
        {
            if (_ipProtocol != Any && _ipProtocol != value)
                throw Error($"two different IP protocols ({_ipProtocol} and {value}) can never both match");
            _ipProtocol = value;
        }

        private void SetVersion(int version)
        {
            int etherType = version == 4 ? 0x0800 : 0x86dd;
            if (_etherType != Any && _etherType != etherType)
                throw Error($"{(version == 4 ? "icmp" : "icmp6")} needs IPv{version} but the filter asks for EtherType 0x{_etherType:x4}");
            _ipVersion = version;
        }
    }
}
