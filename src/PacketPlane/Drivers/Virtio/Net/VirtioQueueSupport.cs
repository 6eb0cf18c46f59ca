using System;
using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.Net;

/// <summary>
/// How a driver tells the device a queue has new buffers: an eventfd write (virtio-user's kick, a syscall) or a
/// 16-bit MMIO write of the queue index to its notify address (virtio-pci, 4.1.4.4). Only called when the ring's
/// suppression state says the device wants it.
/// </summary>
internal readonly unsafe struct VirtioNotifier
{
    private readonly int _kickFd;
    private readonly ushort* _notifyAddress;
    private readonly ushort _queueIndex;

    private VirtioNotifier(int kickFd, ushort* notifyAddress, ushort queueIndex)
    {
        _kickFd = kickFd;
        _notifyAddress = notifyAddress;
        _queueIndex = queueIndex;
    }

    /// <summary>Kicks through an eventfd.</summary>
    public static VirtioNotifier EventFd(int kickFd) => new(kickFd, null, 0);

    /// <summary>Notifies through MMIO: writes <paramref name="queueIndex"/> to <paramref name="address"/>.</summary>
    public static VirtioNotifier Mmio(nint address, ushort queueIndex) => new(-1, (ushort*)address, queueIndex);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Notify()
    {
        if (_notifyAddress != null)
            Volatile.Write(ref *_notifyAddress, _queueIndex);   // a device register: one ordered store
        else
            VhostUser.EventFd.Signal(_kickFd);
    }
}

/// <summary>Per-connection datapath settings a queue takes from feature negotiation.</summary>
/// <param name="HeaderSize">virtio-net header bytes.</param>
/// <param name="MergeRxBuffers">MRG_RXBUF: a received packet may span buffers.</param>
/// <param name="EventIdx">EVENT_IDX notification suppression.</param>
internal readonly record struct VirtioQueueFeatures(int HeaderSize, bool MergeRxBuffers, bool EventIdx)
{
    public static VirtioQueueFeatures From(NegotiatedFeatures f) => new(f.HeaderSize, f.MergeRxBuffers, f.EventIdx);
}

/// <summary>What a transport (virtio-user, virtio-pci) needs from a net queue, whatever its ring type.</summary>
internal interface IVirtioNetQueue
{
    /// <summary>Virtqueue index (2N receive, 2N+1 transmit).</summary>
    int VringIndex { get; }

    /// <summary>Where the ring lives.</summary>
    VringLayout Layout { get; }

    /// <summary>Closed while the transport re-synchronises the ring with a (re)connected device.</summary>
    QuiesceGate Gate { get; }

    /// <summary>Applies the negotiated settings; call with the gate closed.</summary>
    void Apply(VirtioQueueFeatures features);

    /// <summary>SET_VRING_BASE for a device (re)starting on this ring; call with the gate closed.</summary>
    ushort ResumeIndex();

    /// <summary>Notifies the device unconditionally (once it is live, for buffers posted before).</summary>
    void Kick();

    /// <summary>
    /// After a device reset (which forgets every ring): frees what the ring held, zeroes it and starts it fresh
    /// (receive queues post new buffers). Call with the gate closed and the device no longer using the ring.
    /// </summary>
    void Reinitialize();
}

/// <summary>
/// Which mbuf pools a device can reach: a pool whose memory was not shared with the vhost-user backend (or not
/// DMA-mapped for a PCI device) cannot be sent from. Indexed by pool id; the datapath reads one byte per segment.
/// </summary>
internal sealed class DmaPoolTable
{
    private readonly byte[] _reachable = GC.AllocateArray<byte>(4096, pinned: true);

    /// <summary>Marks exactly <paramref name="pools"/> reachable. Control path, with the TX gates closed.</summary>
    public void Set(System.Collections.Generic.IEnumerable<MbufPool> pools)
    {
        Array.Clear(_reachable);
        foreach (MbufPool p in pools)
            _reachable[p.Id] = 1;
    }

    /// <summary>True when every segment of the packet lives in a reachable pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Reachable(Mbuf* m)
    {
        for (; m != null; m = m->Next)
        {
            Mbuf* owner = (m->OlFlags & OffloadFlags.Indirect) != 0 ? m->Direct : m;
            if (_reachable[owner->PoolId] == 0)
                return false;
        }
        return true;
    }
}
