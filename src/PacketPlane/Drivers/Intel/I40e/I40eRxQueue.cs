using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// X710 32-byte receive descriptor: read format (buffer addresses) and write-back format (RSS hash in qword 0,
/// status/error/packet type/length in qword 1) in the same bytes. DD is bit 0 of qword 1, which is where the header
/// buffer address lives in the read format, so writing a zero header address re-arms the descriptor.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct I40eRxDesc
{
    [FieldOffset(0)] public ulong PktAddr;
    [FieldOffset(8)] public ulong HdrAddr;
    [FieldOffset(16)] public ulong Reserved1;
    [FieldOffset(24)] public ulong Reserved2;

    [FieldOffset(4)] public uint Rss;            // write-back qword 0, high dword (FLTSTAT = RSS hash)
    [FieldOffset(8)] public ulong StatusErrorLen; // write-back qword 1
}

/// <summary>
/// An X710 receive queue. The device owns descriptors from its head (in the queue context) up to QRX_TAIL-1; the
/// driver reads completed ones (DD) in order, hands their mbufs out and moves the tail behind the re-armed ones,
/// keeping one armed descriptor back so tail == head never means "full". Scalar (refill one by one) and bulk
/// (refill every free-threshold descriptors in one pool get) paths.
/// </summary>
internal sealed unsafe class I40eRxQueue : RxQueue
{
    public const uint DefaultFreeThreshold = 32;
    private static readonly PacketType[] s_packetTypes = BuildPacketTypes();

    private readonly DmaMemory _ringMemory;
    private readonly I40eRxDesc* _ring;
    private readonly nint[] _swStorage;
    private readonly Mbuf** _sw;
    private readonly nint[] _scratchStorage;
    private readonly Mbuf** _scratch;
    private readonly uint _count;
    private readonly uint _mask;
    private readonly MbufPool _pool;
    private readonly ulong _rearm;
    private readonly uint _headroom;
    private readonly uint _freeThresh;
    private readonly Mmio _regs;
    private readonly int _tail;
    private uint _next;
    private uint _rearmFrom;
    private uint _hold;
    private bool _discarding;
    private bool _released;

    public I40eRxQueue(ushort portId, int queueId, int descriptors, MbufPool pool, RxQueueConf conf, DmaMemory ring, Mmio regs)
        : base(portId, queueId)
    {
        _ringMemory = ring;
        _ring = (I40eRxDesc*)ring.Pointer;
        _count = (uint)descriptors;
        _mask = _count - 1;
        _pool = pool;
        _headroom = (uint)pool.Headroom;
        _freeThresh = conf.FreeThreshold > 0 ? (uint)conf.FreeThreshold : Math.Min(DefaultFreeThreshold, _count / 2);
        _regs = regs;
        _tail = I40eRegs.QRX_TAIL(queueId);
        _swStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _sw = (Mbuf**)Unsafe.AsPointer(ref _swStorage[0]);
        _scratchStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _scratch = (Mbuf**)Unsafe.AsPointer(ref _scratchStorage[0]);
        _rearm = _headroom | (1UL << 16) | (1UL << 32) | ((ulong)portId << 48);
    }

    public uint Count => _count;

    public ulong RingIova => _ringMemory.Iova;

    public MbufPool Pool => _pool;

    /// <summary>Receive buffer size for the queue context (DBUFF, 128-byte units): the data room after headroom, rounded down.</summary>
    public uint BufferBytes => (uint)(_pool.DataRoomSize - _pool.Headroom) & ~127u;

    public RxPath Path { get; private set; } = RxPath.Bulk;

    public uint InitialTail => _count - 1;

    public uint FreeThreshold => _freeThresh;

    /// <summary>Gives every descriptor a buffer before the queue is enabled.</summary>
    public void Arm(RxPath path)
    {
        Path = path;
        for (uint i = 0; i < _count; i++)
        {
            if (_sw[i] == null && !_pool.GetBulkRaw(_sw + i, 1, null))
            {
                throw new EthDevException($"port {PortId} RX queue {QueueId}: pool '{_pool.Name}' ran out while filling {_count} descriptors " +
                    $"({_pool.InUse} of {_pool.Count} mbufs in use). Create the pool with at least MbufPool.RequiredCount(...) mbufs");
            }
            WriteReadFormat(_ring + i, _sw[i]);
        }
        _next = 0;
        _rearmFrom = 0;
        _hold = 0;
        _discarding = false;
    }

    public void OnStopped() => _hold = 0;

    public override int RxBurst(Span<Packet> packets)
    {
        fixed (Packet* p = packets)
            return Path == RxPath.Scalar ? RecvScalar((Mbuf**)p, packets.Length) : RecvBulk((Mbuf**)p, packets.Length);
    }

    private int RecvScalar(Mbuf** rx, int n)
    {
        uint next = _next;
        int got = 0;
        ulong bytes = 0;
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        while (got < n)
        {
            I40eRxDesc* d = _ring + next;
            // DD first; the acquire load keeps the reads of the rest of the write-back after it (pairs with the
            // device writing qword 1, DD included, after qword 0).
            ulong qw1 = Volatile.Read(ref d->StatusErrorLen);
            if ((qw1 & I40eDesc.RXD_DD) == 0)
                break;
            Mbuf* fresh;
            if (!_pool.GetBulkRaw(&fresh, 1, cache))
            {
                Counters.NoMbuf++;
                break;
            }
            Mbuf* m = _sw[next];
            _sw[next] = fresh;
            bool deliver = Accept(qw1);
            if (deliver)
                Fill(m, d, qw1);
            WriteReadFormat(d, fresh);
            next = (next + 1) & _mask;
            _hold++;
            if (!deliver)
            {
                MbufPool.FreeBulkRaw(&m, 1);
                continue;
            }
            bytes += m->PktLen;
            rx[got++] = m;
        }
        _next = next;
        if (_hold > _freeThresh)
        {
            _regs.Write32(_tail, (next - 1) & _mask);
            _hold = 0;
        }
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        return got;
    }

    private int RecvBulk(Mbuf** rx, int n)
    {
        uint next = _next;
        int got = 0;
        ulong bytes = 0;
        while (got < n)
        {
            I40eRxDesc* d = _ring + next;
            ulong qw1 = Volatile.Read(ref d->StatusErrorLen);
            if ((qw1 & I40eDesc.RXD_DD) == 0)
                break;
            Mbuf* m = _sw[next];
            _sw[next] = null;
            next = (next + 1) & _mask;
            _hold++;
            if (!Accept(qw1))
            {
                MbufPool.FreeBulkRaw(&m, 1);
                continue;
            }
            Fill(m, d, qw1);
            bytes += m->PktLen;
            rx[got++] = m;
        }
        _next = next;
        if (_hold >= _freeThresh)
            Refill();
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        return got;
    }

    /// <summary>A frame spanning descriptors (EOF clear) cannot be delivered without scatter: dropped whole, counted as an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(ulong qw1)
    {
        bool eof = (qw1 & I40eDesc.RXD_EOF) != 0;
        if (_discarding || !eof || (qw1 & I40eDesc.RXD_ERROR_MASK) != 0)
            return Reject(eof);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Reject(bool eof)
    {
        if (!_discarding)
            Counters.Errors++;
        _discarding = !eof;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Fill(Mbuf* m, I40eRxDesc* d, ulong qw1)
    {
        uint len = (uint)((qw1 >> I40eDesc.RXD_LENGTH_SHIFT) & I40eDesc.RXD_LENGTH_MASK);
        *(ulong*)((byte*)m + 16) = _rearm;
        bool rss = (qw1 & I40eDesc.RXD_FLTSTAT_MASK) == I40eDesc.RXD_FLTSTAT_RSS_HASH;
        m->OlFlags = rss ? OffloadFlags.RxRssHash : OffloadFlags.None;
        m->PacketType = s_packetTypes[(byte)(qw1 >> I40eDesc.RXD_PTYPE_SHIFT)];
        m->PktLen = len;
        m->DataLen = (ushort)len;
        m->VlanTci = 0;
        m->RssHash = rss ? d->Rss : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteReadFormat(I40eRxDesc* d, Mbuf* m)
    {
        // Header address 0 clears DD (same bit); the two reserved quadwords are zero in the read format.
        if (Vector256.IsHardwareAccelerated)
            Vector256.Create(m->BufIova + _headroom, 0UL, 0UL, 0UL).Store((ulong*)d);
        else
        {
            d->HdrAddr = 0;
            d->Reserved1 = 0;
            d->Reserved2 = 0;
            d->PktAddr = m->BufIova + _headroom;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Refill()
    {
        uint n = _hold;
        if (!_pool.GetBulkRaw(_scratch, n, _pool.CacheFor(Lcore.CurrentId)))
        {
            Counters.NoMbuf += n;
            return;
        }
        uint at = _rearmFrom;
        for (uint i = 0; i < n; i++)
        {
            _sw[at] = _scratch[i];
            WriteReadFormat(_ring + at, _scratch[i]);
            at = (at + 1) & _mask;
        }
        _rearmFrom = at;
        _hold = 0;
        // Release store: re-armed descriptors are visible before the tail passes them.
        _regs.Write32(_tail, (at - 1) & _mask);
    }

    protected internal override void Release()
    {
        if (_released)
            return;
        _released = true;
        for (uint i = 0; i < _count; i++)
        {
            if (_sw[i] != null)
            {
                Mbuf* m = _sw[i];
                _sw[i] = null;
                MbufPool.FreeBulkRaw(&m, 1);
            }
        }
        _ringMemory.Dispose();
    }

    /// <summary>The hardware packet types the driver decodes (the X710's PTYPE table; DPDK i40e_ptype_lookup).</summary>
    private static PacketType[] BuildPacketTypes()
    {
        var t = new PacketType[256];
        t[1] = PacketType.L2Ether;
        t[22] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Frag;
        t[23] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4NonFrag;
        t[24] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Udp;
        t[26] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Tcp;
        t[27] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Sctp;
        t[28] = PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Icmp;
        t[88] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Frag;
        t[89] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4NonFrag;
        t[90] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Udp;
        t[92] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Tcp;
        t[93] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Sctp;
        t[94] = PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Icmp;
        return t;
    }
}
