using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace PacketPlane;

/// <summary>Hugepage counts for one page size on one NUMA node (or machine-wide when Node is -1).</summary>
/// <param name="Node">NUMA node, or -1 for the machine-wide pool.</param>
/// <param name="PageSize">Page size in bytes (2 MiB, 1 GiB).</param>
/// <param name="Total">nr_hugepages.</param>
/// <param name="Free">free_hugepages minus those already reserved by mappings (what a new mapping can get).</param>
public sealed record HugepagePool(int Node, long PageSize, long Total, long Free)
{
    /// <summary>Free bytes in this pool.</summary>
    public long FreeBytes => Free * PageSize;
}

/// <summary>
/// Reads hugepage reservations from sysfs and writes the exact command that reserves more, so a
/// shortfall is an error a user can fix by pasting one line (DPDK pain point: its hugepage messages
/// read like fatal errors yet name no fix).
/// </summary>
public static class Hugepages
{
    /// <summary>2 MiB, the default hugepage size on x86-64.</summary>
    public const long Size2M = 2L << 20;

    /// <summary>1 GiB.</summary>
    public const long Size1G = 1L << 30;

    internal static string SysfsRoot { get; set; } = "/sys";

    /// <summary>Per-node pools of every hugepage size the kernel offers; machine-wide when sysfs has no per-node data.</summary>
    public static IReadOnlyList<HugepagePool> Pools()
    {
        var pools = new List<HugepagePool>();
        string nodeRoot = Path.Combine(SysfsRoot, "devices/system/node");
        if (Directory.Exists(nodeRoot))
        {
            foreach (string nodeDir in Directory.GetDirectories(nodeRoot, "node*").OrderBy(d => d, StringComparer.Ordinal))
            {
                if (!int.TryParse(Path.GetFileName(nodeDir).AsSpan(4), out int node))
                    continue;
                pools.AddRange(ReadSizes(Path.Combine(nodeDir, "hugepages"), node, hasReserved: false));
            }
        }
        if (pools.Count == 0)
            pools.AddRange(ReadSizes(Path.Combine(SysfsRoot, "kernel/mm/hugepages"), -1, hasReserved: true));
        return pools;
    }

    /// <summary>
    /// Free hugepage bytes of <paramref name="pageSize"/> usable on <paramref name="node"/>, or anywhere when
    /// node is -1. Reserved-but-unfaulted pages (resv_hugepages) are only known machine-wide, so they are
    /// subtracted from the machine-wide figure and the per-node figure is capped by it.
    /// </summary>
    public static long FreeBytes(long pageSize, int node = -1)
    {
        HugepagePool? global = ReadSizes(Path.Combine(SysfsRoot, "kernel/mm/hugepages"), -1, hasReserved: true)
            .FirstOrDefault(p => p.PageSize == pageSize);
        long globalFree = global?.FreeBytes ?? 0;
        if (node < 0)
            return globalFree;
        HugepagePool? perNode = Pools().FirstOrDefault(p => p.Node == node && p.PageSize == pageSize);
        return perNode is null ? globalFree : Math.Min(perNode.FreeBytes, globalFree);
    }

    /// <summary>True when the kernel offers hugepages of this size at all.</summary>
    public static bool IsSizeSupported(long pageSize) =>
        Directory.Exists(Path.Combine(SysfsRoot, $"kernel/mm/hugepages/hugepages-{pageSize / 1024}kB"));

    /// <summary>The shell command that makes <paramref name="bytes"/> of hugepages available (rounded up).</summary>
    public static string ReserveCommand(long bytes, long pageSize = Size2M, int node = -1)
    {
        long pagesNeeded = (bytes + pageSize - 1) / pageSize;
        HugepagePool? current = Pools().FirstOrDefault(p => p.PageSize == pageSize && (node < 0 || p.Node == node));
        long target = (current?.Total ?? 0) + pagesNeeded - Math.Min(pagesNeeded, current?.Free ?? 0);
        string kb = (pageSize / 1024).ToString(CultureInfo.InvariantCulture);
        if (node >= 0 && Numa.IsMultiNode)
            return $"echo {target} | sudo tee /sys/devices/system/node/node{node}/hugepages/hugepages-{kb}kB/nr_hugepages";
        if (pageSize == Size2M)
            return $"echo {target} | sudo tee /proc/sys/vm/nr_hugepages";
        return $"echo {target} | sudo tee /sys/kernel/mm/hugepages/hugepages-{kb}kB/nr_hugepages";
    }

    private static IEnumerable<HugepagePool> ReadSizes(string dir, int node, bool hasReserved)
    {
        if (!Directory.Exists(dir))
            yield break;
        foreach (string sizeDir in Directory.GetDirectories(dir, "hugepages-*kB").OrderBy(d => d, StringComparer.Ordinal))
        {
            string name = Path.GetFileName(sizeDir);
            if (!long.TryParse(name.AsSpan(10, name.Length - 12), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                continue;
            long total = ReadLong(Path.Combine(sizeDir, "nr_hugepages"));
            long free = ReadLong(Path.Combine(sizeDir, "free_hugepages"));
            if (hasReserved)
                free -= ReadLong(Path.Combine(sizeDir, "resv_hugepages"));
            yield return new HugepagePool(node, kb * 1024, total, Math.Max(0, free));
        }
    }

    private static long ReadLong(string path)
    {
        try
        {
            return long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
        catch (FormatException)
        {
            return 0;
        }
    }
}
