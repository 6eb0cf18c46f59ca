using System.IO;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// Where the PCI bus and VFIO live in the file system. The defaults are the real ones; tests point them at a fake
/// tree in a temporary directory so discovery and every VFIO error path can be exercised on machines without an
/// IOMMU.
/// </summary>
/// <param name="Sysfs">The sysfs mount (/sys).</param>
/// <param name="DevVfio">The VFIO character devices (/dev/vfio).</param>
public sealed record PciPaths(string Sysfs = "/sys", string DevVfio = "/dev/vfio")
{
    /// <summary>The real system paths.</summary>
    public static PciPaths System { get; } = new();

    /// <summary>/sys/bus/pci/devices: one entry per PCI function, named by address.</summary>
    public string Devices => Path.Combine(Sysfs, "bus", "pci", "devices");

    /// <summary>/sys/kernel/iommu_groups.</summary>
    public string IommuGroups => Path.Combine(Sysfs, "kernel", "iommu_groups");

    /// <summary>/sys/module/vfio/parameters/enable_unsafe_noiommu_mode.</summary>
    public string NoIommuParameter => Path.Combine(Sysfs, "module", "vfio", "parameters", "enable_unsafe_noiommu_mode");

    /// <summary>/dev/vfio/vfio, the container device.</summary>
    public string Container => Path.Combine(DevVfio, "vfio");

    /// <summary>The directory of one function: /sys/bus/pci/devices/0000:03:00.0.</summary>
    public string Device(PciAddress address) => Path.Combine(Devices, address.ToString());

    /// <summary>/dev/vfio/N, or /dev/vfio/noiommu-N for a no-IOMMU group.</summary>
    public string Group(int group, bool noIommu) => Path.Combine(DevVfio, noIommu ? $"noiommu-{group}" : group.ToString(global::System.Globalization.CultureInfo.InvariantCulture));
}
