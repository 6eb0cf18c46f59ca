using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PacketPlane.Samples.L2Fwd;

/// <summary>
/// Parsing of the port-selection arguments DPDK samples share: <c>-p PORTMASK</c> (hexadecimal, bit n = port n)
/// and <c>--portmap="(0,1),(2,3)"</c> (forwarding pairs). L3Fwd links this file too.
/// </summary>
public static partial class PortMask
{
    /// <summary>Ports a mask can name (RTE_MAX_ETHPORTS is larger, but the mask is a 64-bit number here).</summary>
    public const int MaxPorts = 64;

    /// <summary>Parses a hexadecimal port mask ("0x3", "3", "ff"); the set bits are the enabled port ids.</summary>
    /// <exception cref="FormatException">Not hexadecimal, or zero.</exception>
    public static ulong Parse(string text)
    {
        string digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length == 0 || !ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mask))
            throw new FormatException($"invalid portmask '{text}': expected a hexadecimal bit mask of ports such as 0x3 (ports 0 and 1)");
        if (mask == 0)
            throw new FormatException("invalid portmask 0: enable at least one port, e.g. -p 0x1");
        return mask;
    }

    /// <summary>The port ids set in <paramref name="mask"/>, ascending.</summary>
    public static IReadOnlyList<int> Ports(ulong mask)
    {
        var ports = new List<int>();
        for (int p = 0; p < MaxPorts; p++)
        {
            if ((mask & (1UL << p)) != 0)
                ports.Add(p);
        }
        return ports;
    }

    /// <summary>
    /// Parses <c>(a,b),(c,d)</c> into pairs (l2fwd's --portmap). Each port may appear once.
    /// </summary>
    /// <exception cref="FormatException">Malformed text, a port used twice, or a port id over the limit.</exception>
    public static IReadOnlyList<(int A, int B)> ParsePortMap(string text)
    {
        string trimmed = text.Trim().Trim('"', '\'');
        var pairs = new List<(int, int)>();
        var used = new HashSet<int>();
        int position = 0;
        foreach (Match m in PairPattern().Matches(trimmed))
        {
            if (trimmed[position..m.Index].Trim().Trim(',').Length != 0)
                break;
            int a = ParsePort(m.Groups[1].Value, text), b = ParsePort(m.Groups[2].Value, text);
            if (!used.Add(a))
                throw new FormatException($"invalid portmap '{text}': port {a} is used in more than one pair");
            if (a != b && !used.Add(b))
                throw new FormatException($"invalid portmap '{text}': port {b} is used in more than one pair");
            pairs.Add((a, b));
            position = m.Index + m.Length;
        }
        if (pairs.Count == 0 || trimmed[position..].Trim().Length != 0)
            throw new FormatException($"invalid portmap '{text}': expected pairs such as \"(0,1),(2,3)\"");
        return pairs;
    }

    private static int ParsePort(string s, string text)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port >= MaxPorts)
            throw new FormatException($"invalid portmap '{text}': '{s}' is not a port id from 0 to {MaxPorts - 1}");
        return port;
    }

    [GeneratedRegex(@"\(\s*(\d+)\s*,\s*(\d+)\s*\)")]
    private static partial Regex PairPattern();
}
