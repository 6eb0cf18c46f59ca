using System;
using System.Globalization;
using System.IO;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// A fake sysfs and /dev/vfio in a temporary directory, laid out as the kernel lays them out: device directories
/// under bus/pci/devices with vendor/device/class/numa_node files, a driver symlink into bus/pci/drivers, an
/// iommu_group symlink into kernel/iommu_groups/N whose devices/ directory links back to the members.
/// </summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Root = Directory.CreateTempSubdirectory("pp-sysfs-").FullName;
        Paths = new PciPaths(Path.Combine(Root, "sys"), Path.Combine(Root, "dev", "vfio"));
        Directory.CreateDirectory(Paths.Devices);
        Directory.CreateDirectory(Paths.IommuGroups);
    }

    public string Root { get; }

    public PciPaths Paths { get; }

    public PciAddress AddDevice(string address, ushort vendor, ushort device, uint classCode = 0x020000, string? driver = null,
        int? iommuGroup = null, int numaNode = -1, string? netInterface = null)
    {
        PciAddress a = PciAddress.Parse(address);
        string dir = Paths.Device(a);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "vendor"), $"0x{vendor:x4}\n");
        File.WriteAllText(Path.Combine(dir, "device"), $"0x{device:x4}\n");
        File.WriteAllText(Path.Combine(dir, "subsystem_vendor"), $"0x{vendor:x4}\n");
        File.WriteAllText(Path.Combine(dir, "subsystem_device"), "0x0003\n");
        File.WriteAllText(Path.Combine(dir, "class"), $"0x{classCode:x6}\n");
        File.WriteAllText(Path.Combine(dir, "numa_node"), numaNode.ToString(CultureInfo.InvariantCulture) + "\n");
        if (driver is not null)
        {
            string drvDir = Path.Combine(Paths.Sysfs, "bus", "pci", "drivers", driver);
            Directory.CreateDirectory(drvDir);
            File.CreateSymbolicLink(Path.Combine(dir, "driver"), Path.Combine("..", "..", "..", "..", "bus", "pci", "drivers", driver));
        }
        if (iommuGroup is int g)
        {
            string groupDir = Path.Combine(Paths.IommuGroups, g.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(Path.Combine(groupDir, "devices"));
            File.CreateSymbolicLink(Path.Combine(dir, "iommu_group"), groupDir);
            File.CreateSymbolicLink(Path.Combine(groupDir, "devices", address), dir);
        }
        if (netInterface is not null)
            Directory.CreateDirectory(Path.Combine(dir, "net", netInterface));
        return a;
    }

    /// <summary>Creates /dev/vfio with the given entries as plain files (a fake: ioctls on them fail).</summary>
    public void AddDevVfio(params string[] entries)
    {
        Directory.CreateDirectory(Paths.DevVfio);
        foreach (string e in entries)
            File.WriteAllText(Path.Combine(Paths.DevVfio, e), "");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
