using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace PacketPlane.Tool;

/// <summary>
/// <c>packetplane hugepages [--reserve SIZE | --clear] [--node N] [--pagesize 2M|1G]</c>, as dpdk-hugepages.py:
/// sets the number of reserved hugepages so that SIZE in total is reserved (machine-wide, or on NUMA node N),
/// reads the count back and reports what the kernel really reserved. Without options it shows the counts.
/// </summary>
internal static class HugepagesCommand
{
    public static int Run(string[] args, SystemRoot root, TextWriter stdout, TextWriter stderr, bool isRoot)
    {
        long? reserve = null;
        int node = -1;
        long pageSize = 2L << 20;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--reserve" when i + 1 < args.Length:
                    reserve = ParseSize(args[++i]);
                    break;
                case "--clear":
                    reserve = 0;
                    break;
                case "--node" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out node))
                        throw new UsageException($"--node {args[i]}: expected a NUMA node number such as 0");
                    break;
                case "--pagesize" when i + 1 < args.Length:
                    pageSize = ParseSize(args[++i]);
                    break;
                case "--show":
                    break;
                default:
                    throw new UsageException($"hugepages: unexpected argument '{args[i]}'");
            }
        }
        string dir = SizeDirectory(root, node, pageSize);
        if (!Directory.Exists(dir))
        {
            stderr.WriteLine($"error: {dir} does not exist: " + (node >= 0
                ? $"no NUMA node {node}, or no {StatusText.FormatSize(pageSize)} pages on it"
                : $"the kernel offers no {StatusText.FormatSize(pageSize)} hugepages (1G pages need hugepagesz=1G at boot)"));
            return 1;
        }
        string nrPath = Path.Combine(dir, "nr_hugepages");
        if (reserve is null)
        {
            Show(dir, node, pageSize, stdout);
            return 0;
        }
        if (!isRoot && root.IsReal)
        {
            stderr.WriteLine("error: reserving hugepages writes to sysfs and needs root: sudo packetplane hugepages " + string.Join(' ', args));
            return 1;
        }
        long wanted = (reserve.Value + pageSize - 1) / pageSize;
        long before = ReadLong(nrPath);
        File.WriteAllText(nrPath, wanted.ToString(CultureInfo.InvariantCulture));
        long after = ReadLong(nrPath);
        string where = node < 0 ? "" : $" on node {node}";
        stdout.WriteLine($"{StatusText.FormatSize(pageSize)} hugepages{where}: {before} -> {after} reserved (asked for {wanted} = {StatusText.FormatSize(wanted * pageSize)})");
        if (after < wanted)
        {
            stderr.WriteLine($"error: the kernel reserved only {after} of {wanted} pages: not enough contiguous free memory. " +
                "Free memory (echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory) and retry, or reserve at boot: " +
                $"hugepagesz={StatusText.FormatSize(pageSize)} hugepages={wanted} on the kernel command line");
            return 1;
        }
        return 0;
    }

    /// <summary>The sysfs directory holding nr_hugepages for a page size, machine-wide or on one node.</summary>
    public static string SizeDirectory(SystemRoot root, int node, long pageSize)
    {
        string size = $"hugepages-{pageSize / 1024}kB";
        return node < 0 ? root.Sys(Path.Combine("kernel/mm/hugepages", size)) : root.Sys(Path.Combine($"devices/system/node/node{node}/hugepages", size));
    }

    /// <summary>Parses 2G, 512M, 1024K, 1T (case-insensitive, optional B or iB); a unit is required.</summary>
    public static long ParseSize(string text)
    {
        Match m = Regex.Match(text.Trim(), "^([0-9]+)([KMGT])(i?B)?$", RegexOptions.IgnoreCase);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            throw new UsageException($"size '{text}': expected a number with a unit, such as 2G, 512M or 1024K");
        int shift = char.ToUpperInvariant(m.Groups[2].Value[0]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 40 };
        if (n > long.MaxValue >> shift)
            throw new UsageException($"size '{text}' is too large");
        return n << shift;
    }

    private static void Show(string dir, int node, long pageSize, TextWriter stdout)
    {
        long total = ReadLong(Path.Combine(dir, "nr_hugepages"));
        long free = ReadLong(Path.Combine(dir, "free_hugepages"));
        string where = node < 0 ? "all nodes" : $"node {node}";
        stdout.WriteLine($"{StatusText.FormatSize(pageSize)} hugepages, {where}: {total} reserved ({StatusText.FormatSize(total * pageSize)}), {free} free");
    }

    private static long ReadLong(string path) =>
        long.TryParse(SystemRoot.ReadLine(path), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
}

/// <summary>A mistake in the command line; the message says what is wrong.</summary>
internal sealed class UsageException(string message) : Exception(message);
