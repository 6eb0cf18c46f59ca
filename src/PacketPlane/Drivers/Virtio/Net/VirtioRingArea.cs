using System;
using PacketPlane.Drivers.Virtio.Virtqueue;

namespace PacketPlane.Drivers.Virtio.Net;

/// <summary>
/// The memory every vring of one device lives in: one region (so it costs one vhost-user memory table entry or
/// one DMA mapping), carved into equal slots per virtqueue index, each holding the ring and, for transmit
/// queues, the header slots used when a packet's header cannot be pushed into its headroom.
/// </summary>
internal sealed unsafe class VirtioRingArea : IDisposable
{
    private readonly long _slotBytes;

    public VirtioRingArea(string deviceName, int vrings, int queueSize, bool packed, int numaNode = -1)
    {
        QueueSize = queueSize;
        Packed = packed;
        long ring = VringLayout.Bytes(queueSize, packed);
        long headers = (long)queueSize * VirtioNetTxQueue<SplitDriverRing>.HeaderSlotSize;
        _slotBytes = (ring + headers + 4095) & ~4095L;
        Region = Eal.AllocateMemory("vrings_" + deviceName, _slotBytes * vrings, numaNode);
        Vrings = vrings;
    }

    /// <summary>The region holding every ring.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Entries per ring.</summary>
    public int QueueSize { get; }

    /// <summary>Layout of every ring.</summary>
    public bool Packed { get; }

    /// <summary>Virtqueues with a slot.</summary>
    public int Vrings { get; }

    /// <summary>Zeroes virtqueue <paramref name="vring"/>'s slot (a fresh ring) and returns its layout.</summary>
    public VringLayout Fresh(int vring)
    {
        new Span<byte>((byte*)SlotBase(vring), (int)_slotBytes).Clear();
        return Layout(vring);
    }

    /// <summary>Virtqueue <paramref name="vring"/>'s layout (memory as it is).</summary>
    public VringLayout Layout(int vring) => VringLayout.At(SlotBase(vring), QueueSize, Packed);

    /// <summary>The transmit header slots of virtqueue <paramref name="vring"/>.</summary>
    public nint HeaderSlots(int vring) => SlotBase(vring) + (nint)VringLayout.Bytes(QueueSize, Packed);

    private nint SlotBase(int vring)
    {
        if ((uint)vring >= (uint)Vrings)
            throw new ArgumentOutOfRangeException(nameof(vring), $"virtqueue {vring} has no ring slot; the device has {Vrings}");
        return Region.BaseAddress + (nint)(_slotBytes * vring);
    }

    public void Dispose()
    {
        Eal.Current?.Disown(Region);
        Region.Dispose();
    }
}
