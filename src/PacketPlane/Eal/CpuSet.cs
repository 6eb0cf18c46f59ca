using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using PacketPlane.Interop;

namespace PacketPlane;

/// <summary>
/// A set of CPU numbers, parsed from DPDK's list form (<c>0-3,5</c>) or a hex coremask (<c>0xf</c>),
/// and the process's allowed set read with sched_getaffinity.
/// </summary>
public sealed class CpuSet
{
    private readonly SortedSet<int> _cpus;

    /// <summary>Creates a set from CPU numbers.</summary>
    public CpuSet(IEnumerable<int> cpus) => _cpus = new SortedSet<int>(cpus);

    /// <summary>The CPUs, ascending.</summary>
    public IReadOnlyCollection<int> Cpus => _cpus;

    /// <summary>Number of CPUs in the set.</summary>
    public int Count => _cpus.Count;

    /// <summary>True when <paramref name="cpu"/> is in the set.</summary>
    public bool Contains(int cpu) => _cpus.Contains(cpu);

    /// <summary>
    /// Parses "0-3,5,7-8". Throws <see cref="EalArgumentException"/> naming the bad part and the
    /// accepted form.
    /// </summary>
    public static CpuSet ParseList(string text, string optionName = "-l")
    {
        var cpus = new SortedSet<int>();
        if (string.IsNullOrWhiteSpace(text))
            throw BadList(text, optionName, "the list is empty");
        foreach (string rawPart in text.Split(','))
        {
            string part = rawPart.Trim();
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                cpus.Add(ParseCpu(part, text, optionName));
                continue;
            }
            int first = ParseCpu(part[..dash], text, optionName);
            int last = ParseCpu(part[(dash + 1)..], text, optionName);
            if (last < first)
                throw BadList(text, optionName, $"range '{part}' runs backwards");
            for (int cpu = first; cpu <= last; cpu++)
                cpus.Add(cpu);
        }
        return new CpuSet(cpus);
    }

    /// <summary>Parses a hexadecimal coremask such as <c>0x5</c> or <c>f</c> (DPDK's <c>-c</c>).</summary>
    public static CpuSet ParseMask(string text)
    {
        string hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (hex.Length == 0 || !hex.All(Uri.IsHexDigit))
            throw new EalArgumentException($"invalid coremask '{text}' for -c: expected a hexadecimal mask such as 0x3 (CPUs 0 and 1)");
        var cpus = new List<int>();
        for (int i = 0; i < hex.Length; i++)
        {
            int nibble = int.Parse(hex[hex.Length - 1 - i].ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            for (int bit = 0; bit < 4; bit++)
            {
                if ((nibble & (1 << bit)) != 0)
                    cpus.Add(i * 4 + bit);
            }
        }
        if (cpus.Count == 0)
            throw new EalArgumentException($"invalid coremask '{text}' for -c: the mask selects no CPU");
        return new CpuSet(cpus);
    }

    /// <summary>The CPUs this process may run on (sched_getaffinity of the calling thread).</summary>
    public static unsafe CpuSet ProcessAllowed()
    {
        const int words = 16; // 1024 CPUs, glibc's CPU_SETSIZE
        ulong* mask = stackalloc ulong[words];
        new Span<ulong>(mask, words).Clear();
        if (Libc.sched_getaffinity(0, (nuint)(words * sizeof(ulong)), mask) != 0)
            return new CpuSet(Enumerable.Range(0, Environment.ProcessorCount));
        return new CpuSet(FromMask(new ReadOnlySpan<ulong>(mask, words)));
    }

    internal static IEnumerable<int> FromMask(ReadOnlySpan<ulong> mask)
    {
        var cpus = new List<int>();
        for (int w = 0; w < mask.Length; w++)
        {
            for (int b = 0; b < 64; b++)
            {
                if ((mask[w] & (1UL << b)) != 0)
                    cpus.Add(w * 64 + b);
            }
        }
        return cpus;
    }

    /// <summary>DPDK list form, ranges collapsed: "0-3,5".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        int[] all = _cpus.ToArray();
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j + 1 < all.Length && all[j + 1] == all[j] + 1)
                j++;
            if (sb.Length > 0)
                sb.Append(',');
            sb.Append(all[i]);
            if (j > i)
                sb.Append('-').Append(all[j]);
            i = j + 1;
        }
        return sb.ToString();
    }

    private static int ParseCpu(string s, string whole, string optionName)
    {
        if (!int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) || cpu > 1023)
            throw BadList(whole, optionName, $"'{s}' is not a CPU number between 0 and 1023");
        return cpu;
    }

    private static EalArgumentException BadList(string text, string optionName, string why) =>
        new($"invalid CPU list '{text}' for {optionName}: {why}; expected a list of CPUs and ranges such as 0-3,5");
}
