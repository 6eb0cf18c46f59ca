using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace PacketPlane.Tool;

/// <summary>A network interface and what PacketPlane can do with it.</summary>
internal sealed record NetDevice(string Name, string? Driver, string? Kind, string? PciAddress, string OperState, string? Mac,
    bool CarriesDefaultRoute, IReadOnlyList<XdpAttachment> Xdp, IReadOnlyList<string> Usable);

/// <summary>A PCI network controller (class 0x02).</summary>
internal sealed record PciNic(string Address, string VendorDevice, string? Driver, IReadOnlyList<string> Interfaces, int NumaNode,
    string? IommuGroup, string? Pmd, IReadOnlyList<string> Usable);

/// <summary>Reserved hugepages of one size on one node (node -1: machine-wide).</summary>
internal sealed record HugepageCount(int Node, long PageSizeKiB, long Total, long Free);

/// <summary>Something in the way, and the command that fixes it.</summary>
internal sealed record Problem(string What, string Fix);

/// <summary>Everything <c>packetplane status</c> reports.</summary>
internal sealed record SystemStatus(IReadOnlyList<NetDevice> NetDevices, IReadOnlyList<PciNic> PciNics, IReadOnlyList<HugepageCount> Hugepages,
    int IommuGroups, bool DevVfio, bool VfioPciLoaded, IReadOnlyList<Problem> Problems, IReadOnlyList<string> Notes);

/// <summary>Reads the machine's (or a fake tree's) sysfs and procfs and works out what PacketPlane can use.</summary>
internal static class StatusProbe
{
    // Kernel drivers with native XDP (ndo_bpf), from the kernel tree; the AF_XDP driver then runs in native mode.
    private static readonly HashSet<string> s_nativeXdp = new(StringComparer.Ordinal)
    {
        "veth", "virtio_net", "tun", "ixgbe", "ixgbevf", "i40e", "ice", "igb", "igc", "mlx4_en", "mlx4_core", "mlx5_core", "bnxt_en", "nfp",
        "qede", "thunder_nicvf", "ena", "hv_netvsc", "netsec", "stmmac", "mvneta", "mvpp2", "dpaa2-eth", "fec", "sfc", "gve", "ionic",
        "mana", "bond", "atlantic", "rvu_nicpf", "enetc", "tsnep", "cpsw",
    };

    // Drivers known for AF_XDP zero-copy; a guess: it also depends on kernel version and firmware.
    private static readonly HashSet<string> s_zeroCopy = new(StringComparer.Ordinal) { "i40e", "ice", "ixgbe", "igc", "mlx5_core", "stmmac", "gve" };

    // PCI ids a PacketPlane poll-mode driver talks to directly through VFIO.
    private static readonly Dictionary<string, string> s_pmds = BuildPmdTable();

    private static readonly Regex s_pciAddress = new("^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$", RegexOptions.Compiled);

    public static SystemStatus Probe(SystemRoot root, IpLinks links, string? ipNote = null, bool? isRoot = null, long? memlockBytes = null)
    {
        var problems = new List<Problem>();
        var notes = new List<string>();
        if (ipNote is not null)
            notes.Add(ipNote);
        HashSet<string> defaultRoute = DefaultRoutes(root);
        IReadOnlyList<NetDevice> netDevices = NetDevices(root, links, defaultRoute);
        IReadOnlyList<PciNic> nics = PciNics(root, netDevices);
        IReadOnlyList<HugepageCount> huge = Hugepages(root);
        int groups = SystemRoot.List(root.Sys("kernel/iommu_groups")).Length;
        bool devVfio = Directory.Exists(root.Dev("vfio"));
        bool vfioPci = Directory.Exists(root.Sys("bus/pci/drivers/vfio-pci"));

        AddHugepageProblems(huge, problems);
        AddVfioProblems(nics, groups, devVfio, vfioPci, problems);
        foreach (NetDevice d in netDevices)
        {
            foreach (XdpAttachment x in d.Xdp)
            {
                problems.Add(new Problem(
                    $"{d.Name} has XDP program {x.ProgramId} ({x.ProgramName ?? "unnamed"}, {x.Mode} mode) attached; AF_XDP on it will fail to attach its own",
                    $"ip link set dev {d.Name} {(x.Mode == "generic" ? "xdpgeneric" : x.Mode == "offload" ? "xdpoffload" : "xdp")} off   (if it is not another program's)"));
            }
        }
        bool root_ = isRoot ?? (Environment.UserName == "root");
        long? memlock = memlockBytes ?? MemlockLimit(root);
        if (!root_ && memlock is long m && m < 64L << 20)
        {
            problems.Add(new Problem($"the locked-memory limit is {m >> 10} KiB; packet memory is locked in RAM and AF_XDP UMEMs need more",
                "ulimit -l unlimited   (or LimitMEMLOCK=infinity in a systemd unit, or run as root)"));
        }
        return new SystemStatus(netDevices, nics, huge, groups, devVfio, vfioPci, problems, notes);
    }

    private static IReadOnlyList<NetDevice> NetDevices(SystemRoot root, IpLinks links, HashSet<string> defaultRoute)
    {
        var list = new List<NetDevice>();
        foreach (string entry in SystemRoot.List(root.Sys("class/net")).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(entry);
            string resolved = SystemRoot.Resolve(entry);
            string? pci = resolved.Split('/').LastOrDefault(s_pciAddress.IsMatch);
            string? driver = SystemRoot.LinkTarget(Path.Combine(entry, "device", "driver"));
            links.Kinds.TryGetValue(name, out string? kind);
            if (name == "lo")
                kind ??= "loopback";
            driver ??= kind is "veth" or "tun" or "bond" ? kind : null;
            string oper = SystemRoot.ReadLine(Path.Combine(entry, "operstate")) ?? "unknown";
            string? mac = SystemRoot.ReadLine(Path.Combine(entry, "address"));
            XdpAttachment[] xdp = links.Xdp.Where(x => x.Interface == name).ToArray();
            list.Add(new NetDevice(name, driver, kind, pci, oper, mac, defaultRoute.Contains(name), xdp, UsableFor(name, driver, kind)));
        }
        return list;
    }

    private static string[] UsableFor(string name, string? driver, string? kind)
    {
        if (kind == "loopback")
            return ["af_packet (loopback: for tests only)"];
        var usable = new List<string>();
        if (driver is not null && s_nativeXdp.Contains(driver))
            usable.Add(s_zeroCopy.Contains(driver) ? "af_xdp (native XDP, zero-copy likely)" : "af_xdp (native XDP, copy mode)");
        else
            usable.Add("af_xdp (generic XDP: works, slower)");
        usable.Add("af_packet");
        if (kind == "tun")
            usable.Add("tap (PacketPlane can also create its own: net_tap)");
        return usable.ToArray();
    }

    private static IReadOnlyList<PciNic> PciNics(SystemRoot root, IReadOnlyList<NetDevice> netDevices)
    {
        var list = new List<PciNic>();
        foreach (string dir in SystemRoot.List(root.Sys("bus/pci/devices")).Order(StringComparer.Ordinal))
        {
            string? cls = SystemRoot.ReadLine(Path.Combine(dir, "class"));
            if (cls is null || !cls.StartsWith("0x02", StringComparison.OrdinalIgnoreCase))
                continue;
            string address = Path.GetFileName(dir);
            string vendor = (SystemRoot.ReadLine(Path.Combine(dir, "vendor")) ?? "0x????")[2..];
            string device = (SystemRoot.ReadLine(Path.Combine(dir, "device")) ?? "0x????")[2..];
            string id = $"{vendor}:{device}".ToLowerInvariant();
            string? driver = SystemRoot.LinkTarget(Path.Combine(dir, "driver"));
            string[] ifaces = netDevices.Where(n => n.PciAddress == address).Select(n => n.Name).ToArray();
            int numa = int.TryParse(SystemRoot.ReadLine(Path.Combine(dir, "numa_node")), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : -1;
            string? group = SystemRoot.LinkTarget(Path.Combine(dir, "iommu_group"));
            s_pmds.TryGetValue(id, out string? pmd);
            var usable = new List<string>();
            if (ifaces.Length > 0)
                usable.Add($"af_xdp / af_packet on {string.Join(",", ifaces)}");
            if (pmd is not null)
                usable.Add(driver == "vfio-pci" ? $"{pmd} PMD via VFIO (bound to vfio-pci: ready)" : $"{pmd} PMD via VFIO after: packetplane bind {address} vfio-pci");
            list.Add(new PciNic(address, id, driver, ifaces, numa, group, pmd, usable));
        }
        return list;
    }

    private static IReadOnlyList<HugepageCount> Hugepages(SystemRoot root)
    {
        var list = new List<HugepageCount>();
        foreach (string node in SystemRoot.List(root.Sys("devices/system/node")).Where(d => Regex.IsMatch(Path.GetFileName(d), "^node[0-9]+$")).Order(StringComparer.Ordinal))
        {
            int id = int.Parse(Path.GetFileName(node).AsSpan(4), CultureInfo.InvariantCulture);
            list.AddRange(ReadSizes(Path.Combine(node, "hugepages"), id));
        }
        if (list.Count == 0)
            list.AddRange(ReadSizes(root.Sys("kernel/mm/hugepages"), -1));
        return list;
    }

    private static IEnumerable<HugepageCount> ReadSizes(string dir, int node)
    {
        foreach (string size in SystemRoot.List(dir).Order(StringComparer.Ordinal))
        {
            Match m = Regex.Match(Path.GetFileName(size), "^hugepages-([0-9]+)kB$");
            if (!m.Success)
                continue;
            yield return new HugepageCount(node, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                ReadLong(Path.Combine(size, "nr_hugepages")), ReadLong(Path.Combine(size, "free_hugepages")));
        }
    }

    private static void AddHugepageProblems(IReadOnlyList<HugepageCount> huge, List<Problem> problems)
    {
        long total = huge.Sum(h => h.Total * h.PageSizeKiB);
        long free = huge.Sum(h => h.Free * h.PageSizeKiB);
        if (huge.Count == 0)
            problems.Add(new Problem("the kernel offers no hugepages (no hugepages-*kB in sysfs); PacketPlane runs on 4 KiB pages, slower",
                "use a kernel with CONFIG_HUGETLBFS, or run with --no-huge"));
        else if (total == 0)
            problems.Add(new Problem("no hugepages are reserved; PacketPlane falls back to 4 KiB pages (slower, more TLB misses)", "packetplane hugepages --reserve 2G"));
        else if (free < 64 * 1024)
            problems.Add(new Problem($"only {free / 1024} MiB of the reserved hugepages are free", $"packetplane hugepages --reserve {(total / 1024) + 1024}M"));
    }

    private static void AddVfioProblems(IReadOnlyList<PciNic> nics, int groups, bool devVfio, bool vfioPci, List<Problem> problems)
    {
        bool wantsVfio = nics.Any(n => n.Pmd is not null && n.Interfaces.Count == 0) || nics.Any(n => n.Driver == "vfio-pci");
        if (groups == 0)
            problems.Add(new Problem("no IOMMU groups: VFIO (ixgbe, i40e, virtio-pci PMDs) cannot be used; AF_XDP and AF_PACKET work",
                "enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on iommu=pt (AMD: amd_iommu=on)"));
        if (!vfioPci)
            problems.Add(new Problem("the vfio-pci driver is not loaded", "modprobe vfio-pci"));
        else if (!devVfio && wantsVfio)
            problems.Add(new Problem("/dev/vfio does not exist although vfio-pci is loaded", "modprobe vfio vfio_iommu_type1"));
        foreach (PciNic nic in nics.Where(n => n.Driver is null))
            problems.Add(new Problem($"{nic.Address} ({nic.VendorDevice}) has no driver bound", nic.Pmd is null
                ? $"echo {nic.Address} > /sys/bus/pci/drivers_probe   (let the kernel pick its driver)"
                : $"packetplane bind {nic.Address} vfio-pci   (or: packetplane bind {nic.Address} kernel)"));
    }

    /// <summary>Interfaces that carry the default route (from /proc/net/route), for bind's safety check.</summary>
    public static HashSet<string> DefaultRoutes(SystemRoot root) => PacketPlane.Interop.NetInterface.DefaultRouteInterfaces(root.Proc("net/route"));

    /// <summary>Names of the network interfaces whose device is the PCI function <paramref name="address"/>.</summary>
    public static string[] InterfacesOf(SystemRoot root, string address) =>
        SystemRoot.List(root.Sys("class/net"))
            .Where(e => SystemRoot.Resolve(e).Split('/').Contains(address))
            .Select(Path.GetFileName)
            .Select(n => n!)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static long? MemlockLimit(SystemRoot root)
    {
        string path = root.Proc("self/limits");
        if (!File.Exists(path))
            return null;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
        string[]? f = line?.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (f is null || f.Length < 2)
            return null;
        return f[1] == "unlimited" ? long.MaxValue : long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    private static long ReadLong(string path) =>
        long.TryParse(SystemRoot.ReadLine(path), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;

    private static Dictionary<string, string> BuildPmdTable()
    {
        var t = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["1af4:1000"] = "virtio",
            ["1af4:1041"] = "virtio",
        };
        // 82599 family (ixgbe) and X710/XL710/XXV710 family (i40e) device ids, from the Linux drivers' id tables.
        foreach (string d in new[] { "10f7", "10f8", "10f9", "10fb", "10fc", "1507", "1514", "1517", "151c", "1529", "152a", "154d", "1557", "1558" })
            t[$"8086:{d}"] = "ixgbe";
        foreach (string d in new[] { "1572", "1574", "1580", "1581", "1583", "1584", "1585", "1586", "1587", "1588", "1589", "158a", "158b", "37d0", "37d1", "37d2", "37d3" })
            t[$"8086:{d}"] = "i40e";
        return t;
    }
}

/// <summary>Renders a <see cref="SystemStatus"/> as text for a terminal.</summary>
internal static class StatusText
{
    public static void Write(SystemStatus s, TextWriter o)
    {
        o.WriteLine("Network interfaces");
        o.WriteLine($"  {"NAME",-12} {"DRIVER",-12} {"STATE",-8} {"PCI",-13} {"XDP",-22} PACKETPLANE CAN USE");
        foreach (NetDevice d in s.NetDevices)
        {
            string xdp = d.Xdp.Count == 0 ? "-" : string.Join(",", d.Xdp.Select(x => $"{x.Mode}:{x.ProgramId}"));
            string route = d.CarriesDefaultRoute ? "  [default route: do not bind]" : "";
            o.WriteLine($"  {d.Name,-12} {d.Driver ?? "-",-12} {d.OperState,-8} {d.PciAddress ?? "-",-13} {xdp,-22} {string.Join("; ", d.Usable)}{route}");
        }
        o.WriteLine();
        o.WriteLine("PCI network controllers (class 0x02)");
        if (s.PciNics.Count == 0)
            o.WriteLine("  none");
        foreach (PciNic n in s.PciNics)
        {
            o.WriteLine($"  {n.Address}  {n.VendorDevice}  driver {n.Driver ?? "(none)"}  interfaces {(n.Interfaces.Count == 0 ? "-" : string.Join(",", n.Interfaces))}  " +
                $"NUMA {n.NumaNode}  IOMMU group {n.IommuGroup ?? "-"}");
            foreach (string u in n.Usable)
                o.WriteLine($"      can use: {u}");
        }
        o.WriteLine();
        o.WriteLine("Hugepages");
        if (s.Hugepages.Count == 0)
            o.WriteLine("  none offered by the kernel");
        foreach (HugepageCount h in s.Hugepages)
        {
            string node = h.Node < 0 ? "all nodes" : $"node {h.Node}";
            o.WriteLine($"  {node,-9} {FormatSize(h.PageSizeKiB * 1024),-6} pages: {h.Total} reserved, {h.Free} free ({FormatSize(h.Free * h.PageSizeKiB * 1024)} free)");
        }
        o.WriteLine();
        o.WriteLine("IOMMU / VFIO");
        o.WriteLine($"  IOMMU groups: {s.IommuGroups}   /dev/vfio: {(s.DevVfio ? "present" : "missing")}   vfio-pci driver: {(s.VfioPciLoaded ? "loaded" : "not loaded")}");
        o.WriteLine();
        if (s.Problems.Count == 0)
        {
            o.WriteLine("No problems found.");
        }
        else
        {
            o.WriteLine("Problems");
            foreach (Problem p in s.Problems)
            {
                o.WriteLine($"  - {p.What}");
                o.WriteLine($"    fix: {p.Fix}");
            }
        }
        foreach (string note in s.Notes)
            o.WriteLine($"note: {note}");
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30}G",
        >= 1L << 20 => $"{bytes >> 20}M",
        _ => $"{bytes >> 10}K",
    };
}
