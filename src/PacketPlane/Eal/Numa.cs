using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace PacketPlane;

/// <summary>One NUMA node and the CPUs on it.</summary>
/// <param name="Id">Node number as the kernel numbers it.</param>
/// <param name="Cpus">CPUs belonging to the node.</param>
public sealed record NumaNode(int Id, CpuSet Cpus);

/// <summary>
/// NUMA topology from sysfs (<c>/sys/devices/system/node/node*/cpulist</c>). A machine without that
/// directory is reported as one node 0 holding every CPU, so callers never special-case it.
/// </summary>
public static class Numa
{
    private static readonly Lazy<IReadOnlyList<NumaNode>> s_nodes = new(() => Read("/sys/devices/system/node"));

    /// <summary>The machine's NUMA nodes, ascending by id; never empty.</summary>
    public static IReadOnlyList<NumaNode> Nodes => s_nodes.Value;

    /// <summary>True when there is more than one node (memory binding only matters then).</summary>
    public static bool IsMultiNode => Nodes.Count > 1;

    /// <summary>The node that holds <paramref name="cpu"/>; 0 when unknown.</summary>
    public static int NodeOfCpu(int cpu)
    {
        foreach (NumaNode node in Nodes)
        {
            if (node.Cpus.Contains(cpu))
                return node.Id;
        }
        return 0;
    }

    internal static IReadOnlyList<NumaNode> Read(string sysfsNodeDir)
    {
        var nodes = new List<NumaNode>();
        if (Directory.Exists(sysfsNodeDir))
        {
            foreach (string dir in Directory.GetDirectories(sysfsNodeDir, "node*"))
            {
                string name = Path.GetFileName(dir);
                if (!int.TryParse(name.AsSpan(4), out int id))
                    continue;
                string cpulistPath = Path.Combine(dir, "cpulist");
                string list = File.Exists(cpulistPath) ? File.ReadAllText(cpulistPath).Trim() : "";
                CpuSet cpus = list.Length == 0 ? new CpuSet(Array.Empty<int>()) : CpuSet.ParseList(list, "sysfs cpulist");
                nodes.Add(new NumaNode(id, cpus));
            }
        }
        if (nodes.Count == 0)
            nodes.Add(new NumaNode(0, new CpuSet(Enumerable.Range(0, Environment.ProcessorCount))));
        nodes.Sort((a, b) => a.Id.CompareTo(b.Id));
        return nodes;
    }
}
