using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;

namespace PacketPlane.Samples.L3Fwd;

/// <summary>An IPv4 route: addresses in <paramref name="Prefix"/>/<paramref name="Depth"/> go to <paramref name="Port"/>.</summary>
/// <param name="Prefix">Network address, host order.</param>
/// <param name="Depth">Prefix length, 0 to 32.</param>
/// <param name="Port">Output port, 0 to 255.</param>
/// <param name="Origin">Where the rule came from ("rules.cfg:3", or "default").</param>
public sealed record Ipv4LpmRule(uint Prefix, int Depth, int Port, string Origin);

/// <summary>An IPv6 route.</summary>
/// <param name="Prefix">Network address as a big-endian 128-bit number (first address byte most significant).</param>
/// <param name="Depth">Prefix length, 0 to 128.</param>
/// <param name="Port">Output port, 0 to 255.</param>
/// <param name="Origin">Where the rule came from.</param>
public sealed record Ipv6LpmRule(UInt128 Prefix, int Depth, int Port, string Origin);

/// <summary>An IPv4 exact-match flow: packets with exactly this 5-tuple go to <paramref name="Port"/>.</summary>
/// <param name="Destination">Destination address, host order.</param>
/// <param name="Source">Source address, host order.</param>
/// <param name="DestinationPort">L4 destination port.</param>
/// <param name="SourcePort">L4 source port.</param>
/// <param name="Protocol">IP protocol (6 TCP, 17 UDP).</param>
/// <param name="Port">Output port, 0 to 255.</param>
/// <param name="Origin">Where the rule came from.</param>
public sealed record Ipv4EmRule(uint Destination, uint Source, ushort DestinationPort, ushort SourcePort, byte Protocol, int Port, string Origin);

/// <summary>An IPv6 exact-match flow.</summary>
/// <param name="Destination">Destination address, big-endian 128-bit number.</param>
/// <param name="Source">Source address, big-endian 128-bit number.</param>
/// <param name="DestinationPort">L4 destination port.</param>
/// <param name="SourcePort">L4 source port.</param>
/// <param name="Protocol">Next header (6 TCP, 17 UDP).</param>
/// <param name="Port">Output port, 0 to 255.</param>
/// <param name="Origin">Where the rule came from.</param>
public sealed record Ipv6EmRule(UInt128 Destination, UInt128 Source, ushort DestinationPort, ushort SourcePort, byte Protocol, int Port, string Origin);

/// <summary>
/// DPDK l3fwd's rule files (<c>--rule_ipv4</c>, <c>--rule_ipv6</c>, since DPDK 22.03) and its built-in default rules.
/// One rule per line, starting with <c>R</c>; lines starting with <c>#</c> and blank lines are skipped; fields are
/// separated by spaces or tabs. LPM: <c>R198.18.0.0/24 0</c>, <c>R2001:200::/64 0</c>. Exact match:
/// <c>R&lt;dst&gt; &lt;src&gt; &lt;dst port&gt; &lt;src port&gt; &lt;proto&gt; &lt;port&gt;</c>. Numbers are decimal,
/// 0x-hexadecimal or 0-octal (C's strtoul base 0, as DPDK parses them). Any other line is an error that names the
/// file and line; so is a file with no rule at all.
/// </summary>
public static class RuleFile
{
    /// <summary>First character of a rule line (ROUTE_LEAD_CHAR).</summary>
    public const char RouteLead = 'R';

    /// <summary>First character of a comment line (COMMENT_LEAD_CHAR).</summary>
    public const char CommentLead = '#';

    /// <summary>First character of an ACL rule line (ACL_LEAD_CHAR), which only DPDK's ACL lookup reads.</summary>
    public const char AclLead = '@';

    /// <summary>Largest output port a rule may name (DPDK keeps it in a uint8_t).</summary>
    public const int MaxRulePort = byte.MaxValue;

    /// <summary>Reads an LPM IPv4 rule file.</summary>
    /// <exception cref="L3FwdRuleFileException">The file cannot be read, has no rule, or a line is malformed ("FILE:LINE: why").</exception>
    public static IReadOnlyList<Ipv4LpmRule> ReadLpm4(string path) => Read(path, ParseLpm4);

    /// <summary>Reads an LPM IPv6 rule file.</summary>
    public static IReadOnlyList<Ipv6LpmRule> ReadLpm6(string path) => Read(path, ParseLpm6);

    /// <summary>Reads an exact-match IPv4 rule file.</summary>
    public static IReadOnlyList<Ipv4EmRule> ReadEm4(string path) => Read(path, ParseEm4);

    /// <summary>Reads an exact-match IPv6 rule file.</summary>
    public static IReadOnlyList<Ipv6EmRule> ReadEm6(string path) => Read(path, ParseEm6);

    /// <summary>DPDK's default IPv4 routes: 198.18.X.0/24 to port X, X = 0..15 (RFC 2544's benchmarking range).</summary>
    public static IReadOnlyList<Ipv4LpmRule> DefaultLpm4()
    {
        var rules = new List<Ipv4LpmRule>();
        for (int x = 0; x < 16; x++)
            rules.Add(new Ipv4LpmRule(Ipv4(198, 18, x, 0), 24, x, "default"));
        return rules;
    }

    /// <summary>DPDK's default IPv6 routes: 2001:200:0:X::/64 to port X, X = 0..15 (RFC 5180's benchmarking range).</summary>
    public static IReadOnlyList<Ipv6LpmRule> DefaultLpm6()
    {
        var rules = new List<Ipv6LpmRule>();
        for (int x = 0; x < 16; x++)
            rules.Add(new Ipv6LpmRule(Ipv6Benchmark(x, 0), 64, x, "default"));
        return rules;
    }

    /// <summary>DPDK's default IPv4 flows: 198.18.X.0 from 198.18.X.1, UDP 9 to 9 (RFC 863 discard), to port X.</summary>
    public static IReadOnlyList<Ipv4EmRule> DefaultEm4()
    {
        var rules = new List<Ipv4EmRule>();
        for (int x = 0; x < 16; x++)
            rules.Add(new Ipv4EmRule(Ipv4(198, 18, x, 0), Ipv4(198, 18, x, 1), 9, 9, 17, x, "default"));
        return rules;
    }

    /// <summary>DPDK's default IPv6 flows: 2001:200:0:X:: from 2001:200:0:X::1, UDP 9 to 9, to port X.</summary>
    public static IReadOnlyList<Ipv6EmRule> DefaultEm6()
    {
        var rules = new List<Ipv6EmRule>();
        for (int x = 0; x < 16; x++)
            rules.Add(new Ipv6EmRule(Ipv6Benchmark(x, 0), Ipv6Benchmark(x, 1), 9, 9, 17, x, "default"));
        return rules;
    }

    /// <summary>Parses rule lines; <paramref name="name"/> is the file name used in messages.</summary>
    /// <exception cref="L3FwdRuleFileException">A malformed line, or no rule.</exception>
    public static IReadOnlyList<T> Parse<T>(IEnumerable<string> lines, string name, Func<string[], string, T> parseRule)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(parseRule);
        var rules = new List<T>();
        int number = 0;
        foreach (string line in lines)
        {
            number++;
            string origin = $"{name}:{number}";
            if (line.Length == 0 || line[0] == CommentLead || string.IsNullOrWhiteSpace(line))
                continue;
            if (line[0] != RouteLead)
            {
                throw new L3FwdRuleFileException(name, number, line[0] == AclLead
                    ? $"ACL rules ('{AclLead}') are not read by the lpm and em lookups; write routes as lines starting with '{RouteLead}'"
                    : $"a rule line starts with '{RouteLead}' (a comment with '{CommentLead}'), got '{Shorten(line)}'");
            }
            string[] fields = line[1..].Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            rules.Add(parseRule(fields, origin));
        }
        if (rules.Count == 0)
            throw new L3FwdRuleFileException(name, $"no rules (lines starting with '{RouteLead}'); give at least one, or leave the option out for the default rules");
        return rules;
    }

    /// <summary>Parses the fields of one LPM IPv4 rule: <c>ADDRESS/DEPTH PORT</c>.</summary>
    public static Ipv4LpmRule ParseLpm4(string[] fields, string origin)
    {
        ExpectFields(fields, 2, "R<address>/<depth> <port>, e.g. R198.18.0.0/24 0", origin);
        (string address, string depth) = SplitPrefix(fields[0], 32, origin);
        if (!TryParseIpv4(address, out uint prefix))
            throw Error(origin, $"'{address}' is not an IPv4 address (dotted decimal such as 198.18.0.0)");
        return new Ipv4LpmRule(prefix, Depth(depth, 32, origin), ParsePort(fields[1], origin), origin);
    }

    /// <summary>Parses the fields of one LPM IPv6 rule: <c>ADDRESS/DEPTH PORT</c>.</summary>
    public static Ipv6LpmRule ParseLpm6(string[] fields, string origin)
    {
        ExpectFields(fields, 2, "R<address>/<depth> <port>, e.g. R2001:200::/64 0", origin);
        (string address, string depth) = SplitPrefix(fields[0], 128, origin);
        UInt128 prefix = ParseIpv6(address, origin);
        return new Ipv6LpmRule(prefix, Depth(depth, 128, origin), ParsePort(fields[1], origin), origin);
    }

    /// <summary>Parses the fields of one exact-match IPv4 rule: <c>DST SRC DSTPORT SRCPORT PROTO PORT</c>.</summary>
    public static Ipv4EmRule ParseEm4(string[] fields, string origin)
    {
        ExpectFields(fields, 6, "R<dst> <src> <dst port> <src port> <proto> <port>, e.g. R198.18.0.0 198.18.0.1 9 9 0x11 0", origin);
        if (!TryParseIpv4(fields[0], out uint dst))
            throw Error(origin, $"destination '{fields[0]}' is not an IPv4 address (dotted decimal such as 198.18.0.0)");
        if (!TryParseIpv4(fields[1], out uint src))
            throw Error(origin, $"source '{fields[1]}' is not an IPv4 address (dotted decimal such as 198.18.0.1)");
        return new Ipv4EmRule(dst, src, L4Port(fields[2], "destination port", origin), L4Port(fields[3], "source port", origin),
            Protocol(fields[4], origin), ParsePort(fields[5], origin), origin);
    }

    /// <summary>Parses the fields of one exact-match IPv6 rule: <c>DST SRC DSTPORT SRCPORT PROTO PORT</c>.</summary>
    public static Ipv6EmRule ParseEm6(string[] fields, string origin)
    {
        ExpectFields(fields, 6, "R<dst> <src> <dst port> <src port> <proto> <port>, e.g. R2001:200:: 2001:200::1 9 9 0x11 0", origin);
        return new Ipv6EmRule(ParseIpv6(fields[0], origin), ParseIpv6(fields[1], origin), L4Port(fields[2], "destination port", origin),
            L4Port(fields[3], "source port", origin), Protocol(fields[4], origin), ParsePort(fields[5], origin), origin);
    }

    /// <summary>
    /// Parses an unsigned number as C's <c>strtoul(text, &amp;end, 0)</c> when the whole text must be consumed: "0x"
    /// or "0X" then hexadecimal, a leading "0" then octal, else decimal. No sign, no spaces.
    /// </summary>
    public static bool TryParseCNumber(string text, ulong max, out ulong value)
    {
        value = 0;
        ReadOnlySpan<char> digits = text;
        int radix = 10;
        if (digits.Length > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
        {
            radix = 16;
            digits = digits[2..];
        }
        else if (digits.Length > 1 && digits[0] == '0')
        {
            radix = 8;
            digits = digits[1..];
        }
        if (digits.IsEmpty)
            return false;
        foreach (char c in digits)
        {
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : 99;
            if (d >= radix)
                return false;
            value = value * (ulong)radix + (ulong)d;
            if (value > max)
                return false;
        }
        return true;
    }

    /// <summary>Parses strict dotted decimal as inet_pton(AF_INET) does: four parts of 0-255, no leading zeros.</summary>
    public static bool TryParseIpv4(string text, out uint address)
    {
        address = 0;
        string[] parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        foreach (string part in parts)
        {
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out byte b))
                return false;
            address = address << 8 | b;
        }
        return true;
    }

    /// <summary>Formats a big-endian 128-bit IPv6 address the usual way (2001:200::1).</summary>
    public static string FormatIpv6(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new IPAddress(bytes).ToString();
    }

    private static IReadOnlyList<T> Read<T>(string path, Func<string[], string, T> parseRule)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new L3FwdRuleFileException(path, $"cannot read the rule file: {e.Message}");
        }
        return Parse(lines, path, parseRule);
    }

    private static void ExpectFields(string[] fields, int count, string form, string origin)
    {
        if (fields.Length < count)
            throw Error(origin, $"{fields.Length} field(s), {count} expected: {form}");
        if (fields.Length > count)
            throw Error(origin, $"unexpected '{fields[count]}' after the {count} fields of {form}");
    }

    /// <summary>Splits ADDRESS/DEPTH; the depth is checked after the address (<see cref="Depth"/>), so a wrong family is named first.</summary>
    private static (string Address, string Depth) SplitPrefix(string field, int maxDepth, string origin)
    {
        int slash = field.IndexOf('/');
        if (slash < 0)
            throw Error(origin, $"'{field}' has no prefix length; write ADDRESS/DEPTH, e.g. {field}/{(maxDepth == 32 ? 24 : 64)}");
        return (field[..slash], field[(slash + 1)..]);
    }

    private static int Depth(string depth, int maxDepth, string origin) =>
        TryParseCNumber(depth, (ulong)maxDepth, out ulong d)
            ? (int)d
            : throw Error(origin, $"prefix length '{depth}' is not a number from 0 to {maxDepth}");

    private static UInt128 ParseIpv6(string text, string origin)
    {
        // IPAddress also takes scope ids and brackets, and IPv4 text; inet_pton(AF_INET6) takes none of them.
        if (text.IndexOfAny(['%', '[', ']', '/']) >= 0 || !text.Contains(':')
            || !IPAddress.TryParse(text, out IPAddress? ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            throw Error(origin, $"'{text}' is not an IPv6 address (such as 2001:200:0:1::)");
        return BinaryPrimitives.ReadUInt128BigEndian(ip.GetAddressBytes());
    }

    private static int ParsePort(string text, string origin) =>
        TryParseCNumber(text, MaxRulePort, out ulong port)
            ? (int)port
            : throw Error(origin, $"output port '{text}' is not a number from 0 to {MaxRulePort}");

    private static ushort L4Port(string text, string what, string origin) =>
        TryParseCNumber(text, ushort.MaxValue, out ulong port)
            ? (ushort)port
            : throw Error(origin, $"{what} '{text}' is not a number from 0 to {ushort.MaxValue}");

    private static byte Protocol(string text, string origin) =>
        TryParseCNumber(text, byte.MaxValue, out ulong proto)
            ? (byte)proto
            : throw Error(origin, $"protocol '{text}' is not a number from 0 to 255 (17 or 0x11 is UDP, 6 TCP)");

    private static L3FwdRuleFileException Error(string origin, string why) => L3FwdRuleFileException.At(origin, why);

    private static string Shorten(string line) => line.Length <= 40 ? line.TrimEnd('\r') : line[..40] + "...";

    private static uint Ipv4(int a, int b, int c, int d) => (uint)(a << 24 | b << 16 | c << 8 | d);

    /// <summary>2001:200:0:X::Y, the address layout of DPDK's default IPv6 rules.</summary>
    private static UInt128 Ipv6Benchmark(int x, int y) =>
        (UInt128)0x2001_0200_0000_0000UL << 64 | (UInt128)(ulong)x << 64 | (UInt128)(ulong)y;
}
