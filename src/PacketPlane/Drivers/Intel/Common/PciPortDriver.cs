using System;
using System.Collections.Generic;
using System.Linq;
using PacketPlane.Bus.Pci;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;

namespace PacketPlane.Drivers.Intel.Common;

/// <summary>
/// Ports on PCI functions: device strings <c>pci:0000:03:00.0[,key=value...]</c> (DPDK's bus-prefixed form; the EAL's
/// <c>-a 0000:03:00.0</c> creates them). The function's vendor and device id pick the driver (ixgbe, i40e); the
/// function comes from <see cref="PciFunctions"/> (VFIO, or a device model attached for tests).
/// </summary>
internal sealed class PciPortDriver : EthDriver
{
    public const string Prefix = "pci:";

    public override string Name => Prefix;

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["rx_path"] = "receive burst implementation: auto (default: vector where the CPU has it, else bulk), scalar, bulk or vector",
    };

    public override string Requirements =>
        "the device bound to vfio-pci, /dev/vfio access (root), and an IOMMU (or VFIO no-IOMMU mode with --iova-mode pa)";

    public override EthDevice Create(DeviceArguments args)
    {
        // "pci:0000:03:00.0" or the bare address, as DPDK's -a takes it.
        string text = args.DeviceName.StartsWith(Prefix, StringComparison.Ordinal) ? args.DeviceName[Prefix.Length..] : args.DeviceName;
        if (!PciAddress.TryParse(text, out PciAddress address))
            throw new DeviceArgumentException($"device '{args.DeviceName}': '{text}' is not a PCI address; expected pci:DOMAIN:BUS:DEVICE.FUNCTION such as pci:0000:03:00.0");
        RxPath rxPath = ParseRxPath(args);
        (ushort vendor, ushort device) = Identify(address);
        PciDriverEntry entry = PciDriverTable.Find(vendor, device)
            ?? throw new DeviceArgumentException($"no PacketPlane driver for PCI device {address} ({vendor:x4}:{device:x4}). Supported: {PciDriverTable.Describe()}");
        IPciFunction pci = PciFunctions.Open(address);
        try
        {
            return entry.Create(args.DeviceName, pci, rxPath);
        }
        catch
        {
            pci.Dispose();
            throw;
        }
    }

    private static (ushort Vendor, ushort Device) Identify(PciAddress address)
    {
        // An attached function (a device model) answers for itself; otherwise sysfs says what sits at the address,
        // so an unsupported device is refused before VFIO is touched.
        if (PciFunctions.IsAttached(address))
        {
            IPciFunction attached = PciFunctions.Open(address);
            return (attached.VendorId, attached.DeviceId);
        }
        PciDeviceInfo info = PciBus.System.Find(address) ?? throw new PciException(VfioHelp.NotFound(address));
        return (info.VendorId, info.DeviceId);
    }

    private static RxPath ParseRxPath(DeviceArguments args) => args.GetString("rx_path")?.ToLowerInvariant() switch
    {
        null or "auto" => RxPath.Auto,
        "scalar" => RxPath.Scalar,
        "bulk" => RxPath.Bulk,
        "vector" => RxPath.Vector,
        string v => throw new DeviceArgumentException($"device '{args.DeviceName}': rx_path={v} is not valid; expected auto, scalar, bulk or vector"),
    };
}

/// <summary>A PCI driver: the ids it claims and how it makes a device.</summary>
internal sealed record PciDriverEntry(string DriverName, ushort VendorId, IReadOnlySet<ushort> DeviceIds, string Description,
    Func<string, IPciFunction, RxPath, EthDevice> Create);

/// <summary>The PCI drivers built into the package, by vendor and device id.</summary>
internal static class PciDriverTable
{
    private static readonly object s_lock = new();
    private static readonly List<PciDriverEntry> s_entries =
    [
        new(Ixgbe.IxgbeDriverInfo.Name, Ixgbe.IxgbeDriverInfo.VendorId, Ixgbe.IxgbeDriverInfo.DeviceIds, "Intel 82599 SFP+ (X520)",
            (name, pci, path) => new Ixgbe.IxgbeDevice(name, pci, path)),
        new(I40e.I40eDriverInfo.Name, I40e.I40eDriverInfo.VendorId, I40e.I40eDriverInfo.DeviceIds, "Intel X710/XL710/XXV710",
            (name, pci, path) => new I40e.I40eDevice(name, pci, path)),
        // Modern (1.0) virtio-net and the transitional id, driven through the modern interface; one queue pair,
        // split rings with merged buffers and IN_ORDER (VirtioPciNetDevice negotiates down what the device lacks).
        new("net_virtio", Virtio.Pci.VirtioPciNetDevice.VendorId,
            new HashSet<ushort> { Virtio.Pci.VirtioPciNetDevice.ModernNetDeviceId, Virtio.Pci.VirtioPciNetDevice.TransitionalNetDeviceId },
            "virtio-net (virtio 1.0 modern interface)",
            (name, pci, _) => new Virtio.Pci.VirtioPciNetDevice(name, pci, new Virtio.Spec.VirtioNetRequest(1, true, true, false), 256, null, ownsFunction: true)),
    ];

    /// <summary>Adds a driver (virtio-pci and others register here).</summary>
    public static void Register(PciDriverEntry entry)
    {
        lock (s_lock)
            s_entries.Add(entry);
    }

    public static PciDriverEntry? Find(ushort vendor, ushort device)
    {
        lock (s_lock)
            return s_entries.FirstOrDefault(e => e.VendorId == vendor && e.DeviceIds.Contains(device));
    }

    /// <summary>True when some driver claims the ids.</summary>
    public static bool Supports(ushort vendor, ushort device) => Find(vendor, device) is not null;

    public static string Describe()
    {
        lock (s_lock)
        {
            return string.Join("; ", s_entries.Select(e =>
                $"{e.DriverName} ({e.Description}): {string.Join(", ", e.DeviceIds.Order().Select(d => $"{e.VendorId:x4}:{d:x4}"))}"));
        }
    }
}
