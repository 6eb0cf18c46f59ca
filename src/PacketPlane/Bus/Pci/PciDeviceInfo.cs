namespace PacketPlane.Bus.Pci;

/// <summary>
/// One PCI function as sysfs describes it (read-only discovery: PacketPlane never binds or unbinds a device).
/// </summary>
public sealed record PciDeviceInfo
{
    /// <summary>PCI class code of Ethernet controllers (class 02, subclass 00).</summary>
    public const uint EthernetClass = 0x020000;

    /// <summary>The function's address.</summary>
    public required PciAddress Address { get; init; }

    /// <summary>Vendor id (0x8086 Intel).</summary>
    public required ushort VendorId { get; init; }

    /// <summary>Device id.</summary>
    public required ushort DeviceId { get; init; }

    /// <summary>Subsystem vendor id, 0 when sysfs does not show one.</summary>
    public ushort SubsystemVendorId { get; init; }

    /// <summary>Subsystem device id, 0 when sysfs does not show one.</summary>
    public ushort SubsystemDeviceId { get; init; }

    /// <summary>24-bit class code: class, subclass, programming interface (0x020000 Ethernet).</summary>
    public uint ClassCode { get; init; }

    /// <summary>Name of the kernel driver the function is bound to (ixgbe, vfio-pci), or null when unbound.</summary>
    public string? KernelDriver { get; init; }

    /// <summary>IOMMU group number, or null when the kernel put the device in none (IOMMU off and no no-IOMMU VFIO).</summary>
    public int? IommuGroup { get; init; }

    /// <summary>NUMA node the device is attached to, -1 when unknown or single-node.</summary>
    public int NumaNode { get; init; } = -1;

    /// <summary>Network interfaces the kernel driver created for this function (from sysfs net/), empty when none.</summary>
    public System.Collections.Generic.IReadOnlyList<string> NetInterfaces { get; init; } = [];

    /// <summary>True when bound to vfio-pci, the only driver PacketPlane opens devices through.</summary>
    public bool IsBoundToVfio => KernelDriver == "vfio-pci";

    /// <summary>True for an Ethernet controller (class 0x0200xx).</summary>
    public bool IsEthernet => (ClassCode >> 8) == EthernetClass >> 8;

    /// <summary>"0000:03:00.0 8086:10fb (ixgbe)".</summary>
    public override string ToString() =>
        $"{Address} {VendorId:x4}:{DeviceId:x4} ({KernelDriver ?? "no driver"})";
}
