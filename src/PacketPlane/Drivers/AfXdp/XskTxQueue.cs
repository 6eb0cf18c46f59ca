using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// An AF_XDP transmit queue, sharing the socket of the RX queue with the same index (DPDK pairs them the same way).
/// A packet whose mbuf lives in the socket's UMEM (same pool, direct, one segment) is sent in place; any other packet
/// (another pool, a clone, a chain) is copied into a fresh mbuf of the UMEM pool and the original freed. Sent mbufs
/// are freed when the kernel returns them on the COMPLETION ring. The kernel is kicked with sendto(MSG_DONTWAIT)
/// only when the TX ring's XDP_RING_NEED_WAKEUP flag asks for it (copy mode always does: the kernel transmits inside
/// that call, at most 32 frames per call, hence the retry loop, as DPDK's kick_tx). No allocation, no exception,
/// no lock.
/// </summary>
internal sealed unsafe class XskTxQueue : TxQueue
{
    private const uint CompletionBatch = 64;
    private const uint FreeBatch = 64;

    /// <summary>Frames the kernel's copy-mode transmit (xsk_generic_xmit) sends per sendto: TX_BATCH_SIZE.</summary>
    private const uint KernelTxBatch = 32;

    private XskSocket? _socket;
    private XskRing _tx;
    private XskRing _cq;
    private UmemLayout _layout;
    private byte* _base;
    private ushort* _held;
    private int _fd;
    private MbufPool? _pool;
    private ushort _poolId;
    private uint _copyHeadroom;
    private uint _copyCapacity;
    private int _maxKicks;
    private byte* _unusable;
    private Mbuf** _completed;
    private Mbuf** _copiedOriginals;

    /// <summary>Packets sent from their own mbuf (no copy).</summary>
    internal ulong SentInPlace;
    /// <summary>Packets copied into the UMEM first.</summary>
    internal ulong SentCopied;
    /// <summary>sendto() kicks made.</summary>
    internal ulong Kicks;
    /// <summary>Kicks answered EBUSY: the device dropped a frame (NET_XMIT_DROP), which is still completed.</summary>
    internal ulong KickDrops;
    /// <summary>Kicks that failed otherwise (interface down: ENETDOWN).</summary>
    internal ulong KickErrors;
    /// <summary>Packets longer than a UMEM frame, dropped.</summary>
    internal ulong Oversize;

    public XskTxQueue(ushort portId, int queueId) : base(portId, queueId)
    {
        _completed = (Mbuf**)NativeMemory.Alloc(CompletionBatch, (nuint)sizeof(Mbuf*));
        _copiedOriginals = (Mbuf**)NativeMemory.Alloc(FreeBatch, (nuint)sizeof(Mbuf*));
    }

    /// <summary>TX ring entries the kernel has not taken yet.</summary>
    public uint TxOccupancy => _socket is { IsDisposed: false } ? _tx.Occupancy : 0;

    /// <summary>COMPLETION ring entries not reclaimed yet.</summary>
    public uint CompletionOccupancy => _socket is { IsDisposed: false } ? _cq.Occupancy : 0;

    /// <summary>Attaches the queue to the socket of the RX queue with the same index (at port start).</summary>
    public void Connect(XskSocket socket)
    {
        if (ReferenceEquals(_socket, socket))
            return;
        _socket = socket;
        _layout = socket.Layout;
        _base = _layout.Base;
        _held = socket.TxHeld;
        _fd = socket.Fd;
        _pool = _layout.Pool;
        _poolId = _pool.Id;
        _copyHeadroom = (uint)_pool.Headroom;
        _copyCapacity = (uint)(_pool.DataRoomSize - _pool.Headroom);
        _unusable = socket.Unusable;
        _tx = socket.Tx;
        _cq = socket.Completion;
        // A queue set up again on a socket that already sent picks up where the rings are.
        _tx.Resync(weProduce: true);
        _cq.Resync(weProduce: false);
        _maxKicks = (int)(_tx.Size / KernelTxBatch) + 2;
    }

    public override int TxBurst(Span<Packet> packets)
    {
        ReclaimCompletions();
        uint n = Math.Min(_tx.FreeSlots((uint)packets.Length), (uint)packets.Length);
        if (n == 0)
        {
            Kick();
            return 0;
        }
        uint taken = 0, queued = 0, inPlace = 0, pendingFree = 0;
        ulong bytes = 0;
        MempoolCache? cache = _pool!.CacheFor(Lcore.CurrentId);
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            uint prod = _tx.CachedProducer;
            for (; taken < n; taken++)
            {
                Mbuf* m = mbufs[taken];
                Xsk.xdp_desc* d = _tx.Descriptor(prod + queued);
                // nb_segs rather than next: both say "one segment", and nb_segs is in the first cache line.
                if (m->PoolId == _poolId && m->NbSegs == 1 && (m->OlFlags & OffloadFlags.Indirect) == 0 && Usable(m))
                {
                    QueueInPlace(m, d);
                    inPlace++;
                }
                else
                {
                    int r = QueueCopy(m, d, cache);
                    if (r < 0)
                        break; // the UMEM pool is empty: the caller keeps this packet and the rest
                    // The original is ours now (sent as a copy, or dropped as too long): free it in batches.
                    _copiedOriginals[pendingFree++] = m;
                    if (pendingFree == FreeBatch)
                    {
                        MbufPool.FreeBulkRaw(_copiedOriginals, pendingFree);
                        pendingFree = 0;
                    }
                    if (r == 0)
                        continue;
                }
                bytes += d->len;
                queued++;
            }
            _tx.CachedProducer = prod + queued;
            if (queued != 0)
                _tx.Submit();
        }
        if (pendingFree != 0)
            MbufPool.FreeBulkRaw(_copiedOriginals, pendingFree);
        Kick();
        Counters.Packets += queued;
        Counters.Bytes += bytes;
        SentInPlace += inPlace;
        SentCopied += queued - inPlace;
        return (int)taken;
    }

    /// <summary>False for an mbuf whose chunk a zero-copy driver would refuse (it is sent as a copy instead).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Usable(Mbuf* m) => _unusable == null || _unusable[_layout.IndexOf((ulong)((byte*)m - _base))] == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void QueueInPlace(Mbuf* m, Xsk.xdp_desc* d)
    {
        ulong addr = (ulong)(m->BufAddr + m->DataOff - _base);
        d->addr = addr;
        d->len = m->DataLen;
        d->options = 0;
        _held[_layout.IndexOf(addr)]++;
    }

    /// <summary>Copies <paramref name="m"/> (all segments) into a fresh UMEM mbuf. 1: queued; 0: too long, dropped; -1: pool empty.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int QueueCopy(Mbuf* m, Xsk.xdp_desc* d, MempoolCache? cache)
    {
        uint len = m->PktLen;
        if (len > _copyCapacity)
        {
            Oversize++;
            Counters.Errors++;
            return 0;
        }
        Mbuf* f;
        do
        {
            if (!_pool!.GetBulkRaw(&f, 1, cache))
                return -1;
            if (Usable(f))
                break;
            // Set aside for good (returned at close): the zero-copy driver would refuse this chunk.
            _socket!.TxQuarantine[_socket.TxQuarantined++] = f;
        }
        while (true);
        byte* dst = f->BufAddr + _copyHeadroom;
        for (Mbuf* seg = m; seg != null; seg = seg->Next)
        {
            Buffer.MemoryCopy(seg->BufAddr + seg->DataOff, dst, seg->DataLen, seg->DataLen);
            dst += seg->DataLen;
        }
        ulong addr = (ulong)(f->BufAddr + _copyHeadroom - _base);
        d->addr = addr;
        d->len = len;
        d->options = 0;
        _held[_layout.IndexOf(addr)]++;
        return 1;
    }

    /// <summary>Frees the mbufs the kernel has finished sending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReclaimCompletions()
    {
        while (true)
        {
            uint n = Math.Min(_cq.Available(CompletionBatch), CompletionBatch);
            if (n == 0)
                return;
            uint index = _cq.CachedConsumer;
            for (uint i = 0; i < n; i++)
            {
                ulong a = *_cq.Address(index + i);
                uint element = _layout.IndexOf((a & Xsk.XSK_UNALIGNED_BUF_ADDR_MASK) + (a >> Xsk.XSK_UNALIGNED_BUF_OFFSET_SHIFT));
                _held[element]--;
                _completed[i] = _layout.MbufAt(element);
            }
            _cq.CachedConsumer = index + n;
            _cq.Release();
            MbufPool.FreeBulkRaw(_completed, n);
            if (n < CompletionBatch)
                return;
        }
    }

    /// <summary>sendto() until the kernel has taken everything queued, when the ring says it needs waking.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Kick()
    {
        if (!_tx.NeedsWakeup())
            return;
        for (int attempt = 0; attempt < _maxKicks; attempt++)
        {
            Kicks++;
            if (sendto(_fd, null, 0, MSG_DONTWAIT, null, 0) >= 0)
                return;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EBUSY)
                KickDrops++;
            else if (errno != EAGAIN && errno != EINTR)
            {
                KickErrors++;
                return;
            }
            ReclaimCompletions();
            if (_tx.IsDrained())
                return;
        }
    }

    /// <summary>Frees what the kernel has completed; mbufs still in flight are returned when the socket closes.</summary>
    protected internal override void Release()
    {
        if (_socket is { IsDisposed: false })
            ReclaimCompletions();
        NativeMemory.Free(_completed);
        NativeMemory.Free(_copiedOriginals);
        _completed = null;
        _copiedOriginals = null;
    }
}
