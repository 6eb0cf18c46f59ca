using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// Discovery of PCI functions from sysfs (/sys/bus/pci/devices): address, ids, class, bound kernel driver, IOMMU
/// group and NUMA node. Read-only. The sysfs root is injectable (<see cref="PciPaths"/>) so tests can use a fake tree.
/// </summary>
public sealed class PciBus
{
    /// <summary>Creates a view of the bus under <paramref name="paths"/> (the real /sys by default).</summary>
    public PciBus(PciPaths? paths = null) => Paths = paths ?? PciPaths.System;

    /// <summary>The bus of this machine.</summary>
    public static PciBus System { get; } = new();

    /// <summary>Where sysfs and /dev/vfio are.</summary>
    public PciPaths Paths { get; }

    /// <summary>Every PCI function, ordered by address. Entries whose name is not an address or whose ids cannot be read are skipped.</summary>
    public IReadOnlyList<PciDeviceInfo> Scan()
    {
        if (!Directory.Exists(Paths.Devices))
            return [];
        var found = new List<PciDeviceInfo>();
        foreach (string entry in Directory.EnumerateFileSystemEntries(Paths.Devices))
        {
            if (PciAddress.TryParse(Path.GetFileName(entry), out PciAddress address) && Read(address) is PciDeviceInfo info)
                found.Add(info);
        }
        return found.OrderBy(d => d.Address.Domain).ThenBy(d => d.Address.Bus).ThenBy(d => d.Address.Device).ThenBy(d => d.Address.Function).ToArray();
    }

    /// <summary>The function at <paramref name="address"/>, or null when sysfs has no such device.</summary>
    public PciDeviceInfo? Find(PciAddress address) => Read(address);

    /// <summary>The addresses of every function in IOMMU group <paramref name="group"/> (/sys/kernel/iommu_groups/N/devices).</summary>
    public IReadOnlyList<PciAddress> IommuGroupMembers(int group)
    {
        string dir = Path.Combine(Paths.IommuGroups, group.ToString(CultureInfo.InvariantCulture), "devices");
        if (!Directory.Exists(dir))
            return [];
        return Directory.EnumerateFileSystemEntries(dir)
            .Select(e => PciAddress.TryParse(Path.GetFileName(e), out PciAddress a) ? a : (PciAddress?)null)
            .Where(a => a is not null).Select(a => a!.Value).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
    }

    /// <summary>True when the vfio module was loaded with enable_unsafe_noiommu_mode=1.</summary>
    public bool NoIommuModeEnabled
    {
        get
        {
            string? v = ReadText(Paths.NoIommuParameter);
            return v is "Y" or "1";
        }
    }

    private PciDeviceInfo? Read(PciAddress address)
    {
        string dir = Paths.Device(address);
        if (!Directory.Exists(dir))
            return null;
        if (ReadHex(dir, "vendor") is not uint vendor || ReadHex(dir, "device") is not uint device)
            return null;
        return new PciDeviceInfo
        {
            Address = address,
            VendorId = (ushort)vendor,
            DeviceId = (ushort)device,
            SubsystemVendorId = (ushort)(ReadHex(dir, "subsystem_vendor") ?? 0),
            SubsystemDeviceId = (ushort)(ReadHex(dir, "subsystem_device") ?? 0),
            ClassCode = ReadHex(dir, "class") ?? 0,
            KernelDriver = LinkName(Path.Combine(dir, "driver")),
            IommuGroup = LinkName(Path.Combine(dir, "iommu_group")) is string g && int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null,
            NumaNode = int.TryParse(ReadText(Path.Combine(dir, "numa_node")), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int node) ? node : -1,
            NetInterfaces = NetInterfacesOf(dir),
        };
    }

    /// <summary>The last path component a sysfs symlink points to (driver -> ../../bus/pci/drivers/ixgbe gives ixgbe).</summary>
    private static string? LinkName(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is string target)
                return Path.GetFileName(target.TrimEnd('/'));
            // A fake tree may use a plain file holding the name instead of a link.
            return info.Exists ? ReadText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static uint? ReadHex(string dir, string file)
    {
        string? text = ReadText(Path.Combine(dir, file));
        if (text is null)
            return null;
        ReadOnlySpan<char> s = text.AsSpan();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            s = s[2..];
        return uint.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint v) ? v : null;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Network interfaces of a function: in DEVICE/net for most drivers, one level down for virtio-pci
    /// (DEVICE/virtioN/net), whose netdev belongs to the virtio device rather than the PCI function.
    /// </summary>
    private static string[] NetInterfacesOf(string dir)
    {
        IEnumerable<string> netDirs = new[] { Path.Combine(dir, "net") }
            .Concat(Directory.Exists(dir) ? Directory.EnumerateDirectories(dir, "virtio*").Select(v => Path.Combine(v, "net")) : []);
        return netDirs.Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFileSystemEntries)
            .Select(e => Path.GetFileName(e))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}
