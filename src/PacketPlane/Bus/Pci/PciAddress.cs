using System;
using System.Globalization;

namespace PacketPlane.Bus.Pci;

/// <summary>A PCI function address, DOMAIN:BUS:DEVICE.FUNCTION (0000:03:00.0).</summary>
public readonly record struct PciAddress(ushort Domain, byte Bus, byte Device, byte Function)
{
    /// <summary>Parses "0000:03:00.0" or the short "03:00.0".</summary>
    public static PciAddress Parse(string text)
    {
        if (!TryParse(text, out PciAddress address))
            throw new FormatException($"'{text}' is not a PCI address; expected DOMAIN:BUS:DEVICE.FUNCTION such as 0000:03:00.0");
        return address;
    }

    /// <summary>Parses "0000:03:00.0" or "03:00.0"; false when malformed.</summary>
    public static bool TryParse(string? text, out PciAddress address)
    {
        address = default;
        if (text is null)
            return false;
        string full = text.Length == 7 ? "0000:" + text : text;
        if (full.Length != 12 || full[4] != ':' || full[7] != ':' || full[10] != '.')
            return false;
        if (!ushort.TryParse(full.AsSpan(0, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ushort domain)
            || !byte.TryParse(full.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte bus)
            || !byte.TryParse(full.AsSpan(8, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte device)
            || device > 0x1f
            || !byte.TryParse(full.AsSpan(11, 1), NumberStyles.None, CultureInfo.InvariantCulture, out byte function)
            || function > 7)
            return false;
        address = new PciAddress(domain, bus, device, function);
        return true;
    }

    /// <summary>"0000:03:00.0".</summary>
    public override string ToString() => $"{Domain:x4}:{Bus:x2}:{Device:x2}.{Function:x1}";
}

/// <summary>
/// An opened PCI function: configuration space, BARs and DMA. VFIO implements it for real devices; tests
/// implement it over device models, so drivers (ixgbe, i40e, virtio-pci) are written once against this.
/// </summary>
public interface IPciFunction : IDisposable
{
    /// <summary>The function's address.</summary>
    PciAddress Address { get; }

    /// <summary>PCI vendor id (0x8086 Intel, 0x1af4 virtio).</summary>
    ushort VendorId { get; }

    /// <summary>PCI device id.</summary>
    ushort DeviceId { get; }

    /// <summary>NUMA node the device is attached to, or -1 when unknown.</summary>
    int NumaNode { get; }

    /// <summary>Reads configuration space at <paramref name="offset"/> into <paramref name="buffer"/>; returns bytes read.</summary>
    int ReadConfig(int offset, Span<byte> buffer);

    /// <summary>Writes <paramref name="data"/> to configuration space at <paramref name="offset"/>.</summary>
    void WriteConfig(int offset, ReadOnlySpan<byte> data);

    /// <summary>Maps BAR <paramref name="bar"/> for MMIO; returns its address and length. Mapped once, unmapped at dispose.</summary>
    (nint Address, long Length) MapBar(int bar);

    /// <summary>Sets the bus-master bit so the device may DMA.</summary>
    void EnableBusMaster();

    /// <summary>Makes <paramref name="region"/> reachable by device DMA at <see cref="MemoryRegion.Iova"/> addresses.</summary>
    void MapDma(MemoryRegion region);
}
