using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.Net;

/// <summary>
/// virtio-net receive queue, driver side, for any transport and either ring layout (<typeparamref name="TRing"/>
/// is a struct, so each layout gets its own specialised code). Every posted buffer is one mbuf's buffer: the
/// device writes the virtio-net header into the 12 bytes of headroom just before the data, and the packet where
/// the mbuf's data starts, so nothing is copied on our side.
/// </summary>
internal sealed unsafe class VirtioNetRxQueue<TRing> : RxQueue, IVirtioNetQueue where TRing : struct, IDriverRing
{
    /// <summary>Refill when at least this many descriptors are free (DPDK's rx_free_thresh default).</summary>
    private const int RefillThreshold = 32;
    private const int RefillBatch = 64;
    private const int MaxHeader = VirtioNet.HeaderSizeModern;

    private TRing _ring = default;   // mutable struct state, always used in place
    private readonly MbufPool _pool;
    private readonly VirtioNotifier _notifier;
    private readonly bool _useVirtualAddresses;
    private readonly uint _bufferLength;          // bytes offered per buffer: 12 header bytes + the data room
    private readonly nint* _tokens;
    private readonly uint* _lens;
    private readonly bool _inOrder;
    private int _headerSize = VirtioNet.HeaderSizeModern;
    private bool _merge;
    private Mbuf* _partialHead;                   // a merged packet whose remaining buffers have not arrived yet
    private Mbuf* _partialTail;
    private int _partialRemaining;
    private bool _released;

    /// <param name="portId">Port.</param>
    /// <param name="queueId">RX queue N (virtqueue 2N).</param>
    /// <param name="layout">Ring memory, zeroed, reachable by the device.</param>
    /// <param name="inOrder">IN_ORDER will be negotiated (decides descriptor allocation).</param>
    /// <param name="pool">Where buffers come from.</param>
    /// <param name="notifier">How to kick the device.</param>
    /// <param name="useVirtualAddresses">Descriptors carry virtual addresses (vhost-user) rather than IOVAs (PCI).</param>
    public VirtioNetRxQueue(ushort portId, int queueId, VringLayout layout, bool inOrder, MbufPool pool,
        VirtioNotifier notifier, bool useVirtualAddresses) : base(portId, queueId)
    {
        if (pool.Headroom < MaxHeader)
            throw new Ethdev.EthDevException($"RX queue {queueId}: pool '{pool.Name}' has {pool.Headroom} bytes of headroom; virtio needs at least {MaxHeader} for the virtio-net header");
        VringIndex = VirtioNet.RxVring(queueId);
        Layout = layout;
        _pool = pool;
        _notifier = notifier;
        _useVirtualAddresses = useVirtualAddresses;
        _bufferLength = (uint)(pool.DataRoomSize - pool.Headroom + MaxHeader);
        _inOrder = inOrder;
        _ring.Init(layout, inOrder);
        _tokens = (nint*)NativeMemory.Alloc((nuint)layout.Size, (nuint)sizeof(nint));
        _lens = (uint*)NativeMemory.Alloc((nuint)layout.Size, sizeof(uint));
        Refill(kick: false);     // no notification before the device is live (3.1.1); the transport kicks later
    }

    public int VringIndex { get; }

    public VringLayout Layout { get; }

    public QuiesceGate Gate { get; } = new();

    /// <summary>Buffers posted to the device (for tests and xstats).</summary>
    public int Posted => _ring.Outstanding;

    public void Apply(VirtioQueueFeatures features)
    {
        _headerSize = features.HeaderSize;
        _merge = features.MergeRxBuffers;
        _ring.SetEventIdx(features.EventIdx);
        _ring.SuppressDeviceNotifications();     // we poll: no used-buffer notifications wanted
    }

    public ushort ResumeIndex() => _ring.ResumeIndex();

    public void Kick() => _notifier.Notify();

    public void Reinitialize()
    {
        DropPartial();
        FreeOutstanding();
        _ring.Dispose();
        Layout.Clear();
        _ring = default;
        _ring.Init(Layout, _inOrder);
        Refill(kick: false);
    }

    private void FreeOutstanding()
    {
        nint* tokens = (nint*)NativeMemory.Alloc((nuint)_ring.Size, (nuint)sizeof(nint));
        int n = _ring.DrainOutstanding(tokens, _ring.Size);
        MbufPool.FreeBulkRaw((Mbuf**)tokens, (uint)n);
        NativeMemory.Free(tokens);
    }

    public override int RxBurst(Span<Packet> packets)
    {
        if (packets.IsEmpty || !Gate.TryEnter())
            return 0;
        int n;
        fixed (Packet* p = packets)
            n = _merge ? ReceiveMerged((Mbuf**)p, packets.Length) : Receive((Mbuf**)p, packets.Length);
        if (_ring.FreeDescriptors >= RefillThreshold)
            Refill(kick: true);
        Gate.Exit();
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Receive(Mbuf** out_, int max)
    {
        // Tokens are the mbuf pointers themselves: the used buffers land straight in the caller's span.
        int n = _ring.PollUsed((nint*)out_, _lens, max);
        int good = 0;
        ulong bytes = 0;
        ulong rearm = Rearm((ushort)(_pool.Headroom - MaxHeader + _headerSize));
        for (int i = 0; i < n; i++)
        {
            Mbuf* m = out_[i];
            uint len = _lens[i];
            if (len <= (uint)_headerSize || len > _bufferLength)
            {
                Counters.Errors++;
                _pool.PutOne(m);
                continue;
            }
            uint dataLen = len - (uint)_headerSize;
            Initialise(m, rearm, dataLen);
            out_[good++] = m;
            bytes += dataLen;
        }
        Counters.Packets += (ulong)good;
        Counters.Bytes += bytes;
        return good;
    }

    // MRG_RXBUF (5.1.6.4): the first buffer's header says how many buffers (num_buffers) the packet fills; the
    // others hold data from their first byte. A packet split across two bursts waits in _partialHead.
    private int ReceiveMerged(Mbuf** out_, int max)
    {
        int n = _ring.PollUsed(_tokens, _lens, max);
        int good = 0;
        ulong bytes = 0;
        for (int i = 0; i < n; i++)
        {
            Mbuf* m = (Mbuf*)_tokens[i];
            uint len = _lens[i];
            if (len > _bufferLength)
            {
                Counters.Errors++;
                _pool.PutOne(m);
                DropPartial();
                continue;
            }
            if (_partialRemaining == 0)
            {
                if (!StartPacket(m, len))
                    continue;
            }
            else
            {
                m->DataOff = (ushort)(_pool.Headroom - MaxHeader);
                m->DataLen = (ushort)len;
                m->OlFlags = 0;
                _partialTail->Next = m;
                _partialTail = m;
                _partialHead->NbSegs++;
                _partialHead->PktLen += len;
                _partialRemaining--;
            }
            if (_partialRemaining == 0)
            {
                out_[good++] = _partialHead;
                bytes += _partialHead->PktLen;
                _partialHead = _partialTail = null;
            }
        }
        Counters.Packets += (ulong)good;
        Counters.Bytes += bytes;
        return good;
    }

    private bool StartPacket(Mbuf* m, uint len)
    {
        byte* header = m->BufAddr + _pool.Headroom - MaxHeader;
        ushort buffers = _headerSize == VirtioNet.HeaderSizeModern ? *(ushort*)(header + VirtioNet.NumBuffersOffset) : (ushort)1;
        if (len < (uint)_headerSize || buffers == 0 || buffers > _ring.Size)
        {
            Counters.Errors++;
            _pool.PutOne(m);
            return false;
        }
        uint dataLen = len - (uint)_headerSize;
        Initialise(m, Rearm((ushort)(_pool.Headroom - MaxHeader + _headerSize)), dataLen);
        _partialHead = _partialTail = m;
        _partialRemaining = buffers - 1;
        return true;
    }

    /// <summary>
    /// The 8 "rearm" bytes of a received mbuf in one store, as DPDK's mbuf_initializer: data offset, refcount 1,
    /// one segment, our port.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Rearm(ushort dataOff) => dataOff | (1UL << 16) | (1UL << 32) | ((ulong)PortId << 48);

    /// <summary>
    /// Fills the first-cache-line fields of a received mbuf. Buffers are posted straight from the pool without a
    /// reset (which would also write the second cache line): the pool hands out mbufs with no next segment, one
    /// segment and refcount 1, and everything else the application reads is set here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Initialise(Mbuf* m, ulong rearm, uint dataLen)
    {
        m->RearmData = rearm;
        m->OlFlags = 0;
        m->PacketType = 0;
        m->PktLen = dataLen;
        m->DataLen = (ushort)dataLen;
        m->VlanTci = 0;
    }

    private void DropPartial()
    {
        if (_partialHead == null)
            return;
        Mbuf* head = _partialHead;
        MbufPool.FreeBulkRaw(&head, 1);
        _partialHead = _partialTail = null;
        _partialRemaining = 0;
    }

    /// <summary>Posts fresh mbufs on every free descriptor (in batches from the lcore's cache), then kicks if asked.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Refill(bool kick)
    {
        Mbuf** batch = stackalloc Mbuf*[RefillBatch];
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        int free = _ring.FreeDescriptors;
        bool added = false;
        while (free > 0)
        {
            int k = Math.Min(free, RefillBatch);
            if (!_pool.GetBulkRaw(batch, (uint)k, cache))
            {
                Counters.NoMbuf += (ulong)k;
                break;
            }
            for (int i = 0; i < k; i++)
            {
                Mbuf* m = batch[i];
                // Not reset here: Initialise sets the fields when the buffer comes back full. The buffer starts
                // 12 bytes before the data so the header lands in the headroom (any header size: the packet then
                // starts at headroom - 12 + header size).
                ulong addr = _useVirtualAddresses
                    ? (ulong)(m->BufAddr + _pool.Headroom - MaxHeader)
                    : m->BufIova + (ulong)(_pool.Headroom - MaxHeader);
                _ring.AddBuffer(addr, _bufferLength, VringFlags.VRING_DESC_F_WRITE, (nint)m);
            }
            free -= k;
            added = true;
        }
        if (!added)
            return;
        _ring.Publish();
        if (_ring.KickNeeded() && kick)
            _notifier.Notify();
    }

    protected internal override void Release()
    {
        if (_released)
            return;
        _released = true;
        DropPartial();
        FreeOutstanding();
        _ring.Dispose();
        NativeMemory.Free(_tokens);
        NativeMemory.Free(_lens);
    }
}
