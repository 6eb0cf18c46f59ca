using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.Net;

/// <summary>
/// virtio-net transmit queue, driver side, for any transport and either ring layout. A packet the queue may write
/// in front of (one segment, sole owner, enough headroom) gets its zeroed header pushed into the headroom and goes
/// out as one descriptor pointing straight at the mbuf; anything else goes as a chain whose first descriptor
/// points at a header slot of the queue's own. The mbufs are freed when the device reports them used.
/// </summary>
internal sealed unsafe class VirtioNetTxQueue<TRing> : TxQueue, IVirtioNetQueue where TRing : struct, IDriverRing
{
    /// <summary>Bytes per header slot (a 12-byte header, 16-byte aligned).</summary>
    public const int HeaderSlotSize = 16;

    /// <summary>Most segments one packet may have (plus the header descriptor).</summary>
    private const int MaxSegments = 63;

    private TRing _ring = default;   // mutable struct state, always used in place
    private readonly VirtioNotifier _notifier;
    private readonly DmaPoolTable _reachable;
    private readonly bool _useVirtualAddresses;
    private readonly byte* _headerSlots;
    private readonly ulong _headerSlotsIova;
    private readonly nint* _done;
    private readonly uint* _lens;
    private readonly ulong* _chainAddrs;
    private readonly uint* _chainLens;
    private readonly bool _inOrder;
    private int _headerSize = VirtioNet.HeaderSizeModern;
    private bool _released;

    /// <param name="portId">Port.</param>
    /// <param name="queueId">TX queue N (virtqueue 2N+1).</param>
    /// <param name="layout">Ring memory, zeroed, reachable by the device.</param>
    /// <param name="inOrder">IN_ORDER will be negotiated.</param>
    /// <param name="headerSlots">layout.Size * <see cref="HeaderSlotSize"/> bytes reachable by the device.</param>
    /// <param name="headerSlotsIova">Device address of <paramref name="headerSlots"/>.</param>
    /// <param name="notifier">How to kick the device.</param>
    /// <param name="reachable">Pools the device can read from.</param>
    /// <param name="useVirtualAddresses">Descriptors carry virtual addresses (vhost-user) rather than IOVAs (PCI).</param>
    public VirtioNetTxQueue(ushort portId, int queueId, VringLayout layout, bool inOrder, nint headerSlots, ulong headerSlotsIova,
        VirtioNotifier notifier, DmaPoolTable reachable, bool useVirtualAddresses) : base(portId, queueId)
    {
        VringIndex = VirtioNet.TxVring(queueId);
        Layout = layout;
        _notifier = notifier;
        _reachable = reachable;
        _useVirtualAddresses = useVirtualAddresses;
        _headerSlots = (byte*)headerSlots;
        _headerSlotsIova = headerSlotsIova;
        _inOrder = inOrder;
        _ring.Init(layout, inOrder);
        _done = (nint*)NativeMemory.Alloc((nuint)layout.Size, (nuint)sizeof(nint));
        _lens = (uint*)NativeMemory.Alloc((nuint)layout.Size, sizeof(uint));
        _chainAddrs = (ulong*)NativeMemory.Alloc(MaxSegments + 1, sizeof(ulong));
        _chainLens = (uint*)NativeMemory.Alloc(MaxSegments + 1, sizeof(uint));
    }

    public int VringIndex { get; }

    public VringLayout Layout { get; }

    public QuiesceGate Gate { get; } = new();

    /// <summary>Packets handed to the device and not yet reported used.</summary>
    public int InFlight => _ring.Outstanding;

    public void Apply(VirtioQueueFeatures features)
    {
        _headerSize = features.HeaderSize;
        _ring.SetEventIdx(features.EventIdx);
        _ring.SuppressDeviceNotifications();     // completions are reaped by polling
    }

    public ushort ResumeIndex() => _ring.ResumeIndex();

    public void Kick() => _notifier.Notify();

    public void Reinitialize()
    {
        int n = _ring.DrainOutstanding(_done, _ring.Size);
        MbufPool.FreeBulkRaw((Mbuf**)_done, (uint)n);
        _ring.Dispose();
        Layout.Clear();
        _ring = default;
        _ring.Init(Layout, _inOrder);
    }

    public override int TxBurst(Span<Packet> packets)
    {
        if (packets.IsEmpty || !Gate.TryEnter())
            return 0;
        if (_ring.FreeDescriptors < packets.Length || _ring.FreeDescriptors < _ring.Size / 2)
            Reclaim();
        int sent = 0;
        int dropped = 0;
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            for (; sent < packets.Length; sent++)
            {
                Mbuf* m = mbufs[sent];
                uint len = m->PktLen;
                int r = Enqueue(m);
                if (r == Full)
                    break;
                if (r == Sent)
                    bytes += len;
                else
                    dropped++;
            }
        }
        if (sent > 0)
        {
            _ring.Publish();
            if (_ring.KickNeeded())
                _notifier.Notify();
        }
        Gate.Exit();
        Counters.Packets += (ulong)(sent - dropped);
        Counters.Bytes += bytes;
        Counters.Errors += (ulong)dropped;
        return sent;
    }

    private const int Full = 0, Sent = 1, Dropped = 2;

    /// <summary>Adds one packet: <see cref="Sent"/>, <see cref="Dropped"/> (freed), or <see cref="Full"/> (the packet stays the caller's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Enqueue(Mbuf* m)
    {
        int hdr = _headerSize;
        bool push = m->Next == null && m->RefCnt == 1 && (m->OlFlags & OffloadFlags.Indirect) == 0 && m->DataOff >= hdr;
        int need = push ? 1 : m->NbSegs + 1;
        if (_ring.FreeDescriptors < need)
        {
            Reclaim();
            if (_ring.FreeDescriptors < need)
                return Full;
        }
        if (!_reachable.Reachable(m) || m->NbSegs > MaxSegments)
        {
            // The device cannot read this memory (a pool created after the memory table was shared): drop it
            // rather than hand the device an address it cannot translate.
            MbufPool.FreeBulkRaw(&m, 1);
            return Dropped;
        }
        if (push)
        {
            byte* header = m->BufAddr + m->DataOff - hdr;
            ZeroHeader(header, hdr);
            ulong addr = _useVirtualAddresses ? (ulong)header : m->BufIova + (ulong)(m->DataOff - hdr);
            _ring.AddBuffer(addr, (uint)(hdr + m->DataLen), 0, (nint)m);
            return Sent;
        }
        EnqueueChain(m, hdr);
        return Sent;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnqueueChain(Mbuf* m, int hdr)
    {
        ushort id = _ring.NextBufferId;
        byte* slot = _headerSlots + id * HeaderSlotSize;
        ZeroHeader(slot, hdr);
        _chainAddrs[0] = _useVirtualAddresses ? (ulong)slot : _headerSlotsIova + (ulong)(id * HeaderSlotSize);
        _chainLens[0] = (uint)hdr;
        int n = 1;
        for (Mbuf* s = m; s != null; s = s->Next, n++)
        {
            _chainAddrs[n] = _useVirtualAddresses ? (ulong)(s->BufAddr + s->DataOff) : s->BufIova + s->DataOff;
            _chainLens[n] = s->DataLen;
        }
        _ring.AddChain(_chainAddrs, _chainLens, n, 0, (nint)m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroHeader(byte* header, int hdr)
    {
        // No offloads requested: flags, gso_type and all lengths are 0 (5.1.6.2); num_buffers is 0 on transmit.
        *(ulong*)header = 0;
        if (hdr == VirtioNet.HeaderSizeModern)
            *(uint*)(header + 8) = 0;
        else
            *(ushort*)(header + 8) = 0;
    }

    /// <summary>Frees the mbufs of every packet the device has finished with.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Reclaim()
    {
        int n = _ring.PollUsed(_done, _lens, _ring.Size);
        if (n > 0)
            MbufPool.FreeBulkRaw((Mbuf**)_done, (uint)n);
    }

    protected internal override void Release()
    {
        if (_released)
            return;
        _released = true;
        int n = _ring.DrainOutstanding(_done, _ring.Size);
        MbufPool.FreeBulkRaw((Mbuf**)_done, (uint)n);
        _ring.Dispose();
        NativeMemory.Free(_done);
        NativeMemory.Free(_lens);
        NativeMemory.Free(_chainAddrs);
        NativeMemory.Free(_chainLens);
    }
}
