using System;
using System.Buffers.Binary;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Drivers.Virtio.Pci;

/// <summary>One virtio structure located by a vendor-specific PCI capability (virtio 1.2 section 4.1.4).</summary>
/// <param name="Bar">BAR holding it.</param>
/// <param name="Offset">Offset within the BAR.</param>
/// <param name="Length">Length in bytes.</param>
internal readonly record struct VirtioPciRegion(int Bar, long Offset, long Length);

/// <summary>
/// The vendor-specific capabilities of a modern virtio PCI function: where the common configuration, notification,
/// ISR and device-specific configuration structures live, and the notification multiplier.
/// </summary>
internal sealed class VirtioPciCapabilities
{
    // <linux/virtio_pci.h>
    public const byte VIRTIO_PCI_CAP_COMMON_CFG = 1;
    public const byte VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
    public const byte VIRTIO_PCI_CAP_ISR_CFG = 3;
    public const byte VIRTIO_PCI_CAP_DEVICE_CFG = 4;
    public const byte VIRTIO_PCI_CAP_PCI_CFG = 5;

    // PCI 3.0 configuration header.
    private const int PCI_STATUS = 0x06;
    private const ushort PCI_STATUS_CAP_LIST = 0x10;
    private const int PCI_CAPABILITY_LIST = 0x34;
    private const byte PCI_CAP_ID_VNDR = 0x09;
    private const int MaxCapabilities = 48;   // 192 bytes of capability space / 4-byte minimum

    public VirtioPciRegion Common { get; private set; }
    public VirtioPciRegion Notify { get; private set; }
    public VirtioPciRegion Isr { get; private set; }
    public VirtioPciRegion Device { get; private set; }
    public uint NotifyOffMultiplier { get; private set; }
    private bool _common, _notify, _isr, _device;

    /// <summary>
    /// Walks the capability list. Throws <see cref="Ethdev.EthDevException"/> when a structure the driver needs is
    /// missing (a legacy-only device, or not virtio at all).
    /// </summary>
    public static VirtioPciCapabilities Parse(IPciFunction fn)
    {
        var caps = new VirtioPciCapabilities();
        Span<byte> b = stackalloc byte[20];
        fn.ReadConfig(PCI_STATUS, b[..2]);
        if ((BinaryPrimitives.ReadUInt16LittleEndian(b) & PCI_STATUS_CAP_LIST) == 0)
            throw new Ethdev.EthDevException($"{fn.Address}: the function has no PCI capability list, so no virtio 1.0 structures; legacy-only virtio devices are not supported");
        fn.ReadConfig(PCI_CAPABILITY_LIST, b[..1]);
        int pos = b[0] & 0xfc;
        for (int n = 0; pos >= 0x40 && n < MaxCapabilities; n++)
        {
            fn.ReadConfig(pos, b);
            if (b[0] == PCI_CAP_ID_VNDR && b[2] >= 16)
                caps.Take(b, fn);
            pos = b[1] & 0xfc;
        }
        caps.RequireAll(fn);
        return caps;
    }

    // virtio 1.2 4.1.4: "the driver SHOULD use the first instance of each virtio structure type it can support";
    // BAR numbers above 5 are reserved and such capabilities are ignored.
    private void Take(ReadOnlySpan<byte> cap, IPciFunction fn)
    {
        byte type = cap[3];
        int bar = cap[4];
        if (bar > 5)
            return;
        var region = new VirtioPciRegion(bar, BinaryPrimitives.ReadUInt32LittleEndian(cap[8..]), BinaryPrimitives.ReadUInt32LittleEndian(cap[12..]));
        switch (type)
        {
            case VIRTIO_PCI_CAP_COMMON_CFG when !_common:
                Common = region;
                _common = true;
                break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG when !_notify && cap[2] >= 20:
                Notify = region;
                NotifyOffMultiplier = BinaryPrimitives.ReadUInt32LittleEndian(cap[16..]);
                _notify = true;
                break;
            case VIRTIO_PCI_CAP_ISR_CFG when !_isr:
                Isr = region;
                _isr = true;
                break;
            case VIRTIO_PCI_CAP_DEVICE_CFG when !_device:
                Device = region;
                _device = true;
                break;
        }
    }

    private void RequireAll(IPciFunction fn)
    {
        string missing = (_common ? "" : "common configuration, ") + (_notify ? "" : "notification, ") + (_device ? "" : "device configuration, ");
        if (missing.Length > 0)
            throw new Ethdev.EthDevException($"{fn.Address}: virtio capabilities missing: {missing.TrimEnd(',', ' ')}; the device is not a modern (virtio 1.0+) virtio-net function");
        if (Common.Length < VirtioPciCommonConfig.Size)
            throw new Ethdev.EthDevException($"{fn.Address}: the common configuration structure is {Common.Length} bytes; virtio 1.0 defines {VirtioPciCommonConfig.Size}");
    }
}
