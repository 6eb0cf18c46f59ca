using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Drivers.Virtio.Pci;

/// <summary>
/// Register access to struct virtio_pci_common_cfg (virtio 1.2 4.1.4.3; offsets as linux/virtio_pci.h) in a mapped
/// BAR, one ordered MMIO access per call. Register names keep the header's.
/// </summary>
/// <remarks>
/// After each write that a following access depends on (a select register, a status change, a queue address)
/// the driver calls <see cref="Settle"/>: a PCI configuration read of the vendor id. On hardware it completes
/// only after the earlier posted MMIO writes (PCIe ordering: a read does not pass posted writes), so it costs a
/// round trip and changes nothing; for a device model it is the point where the model sees those writes, since
/// plain memory cannot trap an access. Control path only.
/// </remarks>
internal sealed unsafe class VirtioPciCommonConfig
{
    public const int VIRTIO_PCI_COMMON_DFSELECT = 0;
    public const int VIRTIO_PCI_COMMON_DF = 4;
    public const int VIRTIO_PCI_COMMON_GFSELECT = 8;
    public const int VIRTIO_PCI_COMMON_GF = 12;
    public const int VIRTIO_PCI_COMMON_MSIX = 16;
    public const int VIRTIO_PCI_COMMON_NUMQ = 18;
    public const int VIRTIO_PCI_COMMON_STATUS = 20;
    public const int VIRTIO_PCI_COMMON_CFGGENERATION = 21;
    public const int VIRTIO_PCI_COMMON_Q_SELECT = 22;
    public const int VIRTIO_PCI_COMMON_Q_SIZE = 24;
    public const int VIRTIO_PCI_COMMON_Q_MSIX = 26;
    public const int VIRTIO_PCI_COMMON_Q_ENABLE = 28;
    public const int VIRTIO_PCI_COMMON_Q_NOFF = 30;
    public const int VIRTIO_PCI_COMMON_Q_DESCLO = 32;
    public const int VIRTIO_PCI_COMMON_Q_DESCHI = 36;
    public const int VIRTIO_PCI_COMMON_Q_AVAILLO = 40;
    public const int VIRTIO_PCI_COMMON_Q_AVAILHI = 44;
    public const int VIRTIO_PCI_COMMON_Q_USEDLO = 48;
    public const int VIRTIO_PCI_COMMON_Q_USEDHI = 52;

    /// <summary>Bytes of the virtio 1.0 structure (up to queue_used_hi).</summary>
    public const int Size = 56;

    private readonly byte* _base;
    private readonly IPciFunction _fn;

    public VirtioPciCommonConfig(nint address, IPciFunction fn)
    {
        _base = (byte*)address;
        _fn = fn;
    }

    public byte Read8(int offset) => Volatile.Read(ref *(_base + offset));

    public ushort Read16(int offset) => Volatile.Read(ref *(ushort*)(_base + offset));

    public uint Read32(int offset) => Volatile.Read(ref *(uint*)(_base + offset));

    public void Write8(int offset, byte value) => Volatile.Write(ref *(_base + offset), value);

    public void Write16(int offset, ushort value) => Volatile.Write(ref *(ushort*)(_base + offset), value);

    public void Write32(int offset, uint value) => Volatile.Write(ref *(uint*)(_base + offset), value);

    /// <summary>A 64-bit register written as two 32-bit halves, low first (4.1.3.1: 64-bit fields may be split).</summary>
    public void Write64(int offsetLo, ulong value)
    {
        Write32(offsetLo, (uint)value);
        Write32(offsetLo + 4, (uint)(value >> 32));
    }

    /// <summary>Orders the writes so far before what follows (see the class remarks).</summary>
    public void Settle()
    {
        Span<byte> vendor = stackalloc byte[2];
        _fn.ReadConfig(0, vendor);
    }

    /// <summary>Writes device_status and settles.</summary>
    public void SetStatus(byte status)
    {
        Write8(VIRTIO_PCI_COMMON_STATUS, status);
        Settle();
    }

    public byte Status
    {
        get
        {
            Settle();
            return Read8(VIRTIO_PCI_COMMON_STATUS);
        }
    }

    /// <summary>Resets the device and waits for device_status to read 0 (4.1.4.3.2: the driver must wait).</summary>
    public bool Reset(TimeSpan timeout)
    {
        SetStatus(0);
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Status != 0)
        {
            if (Stopwatch.GetTimestamp() > deadline)
                return false;
            Thread.Sleep(1);
        }
        return true;
    }

    /// <summary>Reads the 64 device feature bits through the feature select window.</summary>
    public ulong DeviceFeatures()
    {
        Write32(VIRTIO_PCI_COMMON_DFSELECT, 0);
        Settle();
        ulong low = Read32(VIRTIO_PCI_COMMON_DF);
        Write32(VIRTIO_PCI_COMMON_DFSELECT, 1);
        Settle();
        ulong high = Read32(VIRTIO_PCI_COMMON_DF);
        return low | (high << 32);
    }

    /// <summary>Writes the 64 driver feature bits through the feature select window.</summary>
    public void SetDriverFeatures(ulong features)
    {
        Write32(VIRTIO_PCI_COMMON_GFSELECT, 0);
        Settle();
        Write32(VIRTIO_PCI_COMMON_GF, (uint)features);
        Settle();
        Write32(VIRTIO_PCI_COMMON_GFSELECT, 1);
        Settle();
        Write32(VIRTIO_PCI_COMMON_GF, (uint)(features >> 32));
        Settle();
    }

    /// <summary>Selects queue <paramref name="index"/> for the queue_* registers.</summary>
    public void SelectQueue(int index)
    {
        Write16(VIRTIO_PCI_COMMON_Q_SELECT, (ushort)index);
        Settle();
    }
}
