using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Threading;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>
/// 82599 advanced receive descriptor (datasheet 7.1.6): the read format the driver writes (buffer addresses) and
/// the write-back format the device overwrites it with, in the same 16 bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct IxgbeRxDesc
{
    // Read format (7.1.6.1).
    [FieldOffset(0)] public ulong PktAddr;
    [FieldOffset(8)] public ulong HdrAddr;     // bit 0 doubles as DD in write-back, so writing 0 re-arms

    // Write-back format (7.1.6.2).
    [FieldOffset(0)] public ushort PktInfo;    // RSS type 3:0, packet type 15:4
    [FieldOffset(2)] public ushort HdrInfo;
    [FieldOffset(4)] public uint Rss;          // RSS hash (RXCSUM.PCSD = 1)
    [FieldOffset(8)] public uint StatusError;  // DD bit 0, EOP bit 1, errors 31:20
    [FieldOffset(12)] public ushort Length;
    [FieldOffset(14)] public ushort Vlan;
}

/// <summary>
/// An 82599 receive queue. The ring is owned by the device from RDH to RDT-1; the driver reads completed
/// descriptors (DD set) from <c>_next</c>, hands their mbufs out, gives fresh buffers back and moves RDT.
/// RDT always trails the last re-armed descriptor by one: RDT == RDH would tell the device the ring is empty
/// (datasheet 7.1.9), so one armed descriptor is kept back (ixy: "intentionally off by one").
/// </summary>
internal sealed unsafe class IxgbeRxQueue : RxQueue
{
    public const uint DefaultFreeThreshold = 32;

    private static readonly PacketType[] s_packetTypes = BuildPacketTypes();

    private readonly DmaMemory _ringMemory;
    private readonly IxgbeRxDesc* _ring;
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
    private readonly int _rdt;
    private uint _next;       // next descriptor to look at for DD
    private uint _rearmFrom;  // first descriptor handed out but not re-armed (bulk and vector paths)
    private uint _hold;       // descriptors handed out and not yet given back to the device
    private bool _discarding; // inside a multi-descriptor frame we cannot deliver (scatter is off)
    private bool _released;

    public IxgbeRxQueue(ushort portId, int queueId, int descriptors, MbufPool pool, RxQueueConf conf, DmaMemory ring, Mmio regs)
        : base(portId, queueId)
    {
        _ringMemory = ring;
        _ring = (IxgbeRxDesc*)ring.Pointer;
        _count = (uint)descriptors;
        _mask = _count - 1;
        _pool = pool;
        _headroom = (uint)pool.Headroom;
        _freeThresh = conf.FreeThreshold > 0 ? (uint)conf.FreeThreshold : Math.Min(DefaultFreeThreshold, _count / 2);
        DropWhenFull = conf.DropWhenFull;
        _regs = regs;
        _rdt = IxgbeRegs.RDT(queueId);
        _swStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _sw = (Mbuf**)Unsafe.AsPointer(ref _swStorage[0]);
        _scratchStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _scratch = (Mbuf**)Unsafe.AsPointer(ref _scratchStorage[0]);
        // rte_mbuf "rearm" 8 bytes at offset 16: data_off, refcnt 1, nb_segs 1, port (the pool keeps refcnt 1 and
        // nb_segs 1 on free buffers, so one store sets all four).
        _rearm = _headroom | (1UL << 16) | (1UL << 32) | ((ulong)portId << 48);
    }

    public uint Count => _count;

    public uint FreeThreshold => _freeThresh;

    public bool DropWhenFull { get; }

    public MbufPool Pool => _pool;

    public ulong RingIova => _ringMemory.Iova;

    public uint RingBytes => _count * 16;

    /// <summary>Receive buffer size programmed into SRRCTL.BSIZEPKT: the data room after headroom, in whole KiB.</summary>
    public uint BufferKiB => (uint)(_pool.DataRoomSize - _pool.Headroom) >> IxgbeRegs.SRRCTL_BSIZEPKT_SHIFT;

    public RxPath Path { get; private set; } = RxPath.Scalar;

    /// <summary>
    /// Gives every descriptor a buffer (read format) before the queue is enabled, and resets the ring indexes.
    /// The device must not own the ring yet (RXDCTL.ENABLE clear).
    /// </summary>
    /// <exception cref="EthDevException">The pool cannot fill the ring.</exception>
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

    /// <summary>The first tail value after enabling: every descriptor but the last belongs to the device.</summary>
    public uint InitialTail => _count - 1;

    /// <summary>After the device stopped the queue: every buffer is back in the software ring, indexes restart at Arm.</summary>
    public void OnStopped()
    {
        // Descriptors handed out but not re-armed have null slots; Arm refills them at the next start.
        _hold = 0;
    }

    public override int RxBurst(Span<Packet> packets)
    {
        fixed (Packet* p = packets)
        {
            Mbuf** rx = (Mbuf**)p;
            return Path switch
            {
                RxPath.Vector => RecvVector(rx, packets.Length),
                RxPath.Bulk => RecvBulk(rx, packets.Length),
                _ => RecvScalar(rx, packets.Length),
            };
        }
    }

    // ---- scalar: one descriptor at a time, re-armed with a fresh mbuf immediately (DPDK's ixgbe_recv_pkts) ----

    private int RecvScalar(Mbuf** rx, int n)
    {
        uint next = _next;
        int got = 0;
        ulong bytes = 0;
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        while (got < n)
        {
            IxgbeRxDesc* d = _ring + next;
            // 7.1.6.2: read DD first; the acquire load keeps the reads of the other fields after it (pairs with
            // the device writing the status word, DD included, after the rest of the write-back).
            uint status = Volatile.Read(ref d->StatusError);
            if ((status & IxgbeDesc.RXD_STAT_DD) == 0)
                break;
            Mbuf* fresh;
            if (!_pool.GetBulkRaw(&fresh, 1, cache))
            {
                // Leave the descriptor completed; the packet is taken on a later burst when buffers are back.
                Counters.NoMbuf++;
                break;
            }
            Mbuf* m = _sw[next];
            _sw[next] = fresh;
            bool deliver = Accept(status);
            if (deliver)
                Fill(m, d, status);
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
            _regs.Write32(_rdt, (next - 1) & _mask);
            _hold = 0;
        }
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        return got;
    }

    // ---- bulk: hand out a run of completed descriptors, refill them in one pool get (DPDK's bulk-alloc RX) ----

    private int RecvBulk(Mbuf** rx, int n)
    {
        uint next = _next;
        int got = 0;
        ulong bytes = 0;
        while (got < n)
        {
            IxgbeRxDesc* d = _ring + next;
            uint status = Volatile.Read(ref d->StatusError);
            if ((status & IxgbeDesc.RXD_STAT_DD) == 0)
                break;
            Mbuf* m = _sw[next];
            _sw[next] = null;
            next = (next + 1) & _mask;
            _hold++;
            if (!Accept(status))
            {
                MbufPool.FreeBulkRaw(&m, 1);
                continue;
            }
            Fill(m, d, status);
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

    // ---- vector: four descriptors per step, fields moved into the mbufs with Vector128 shuffles (DPDK's _recv_raw_pkts_vec) ----

    private int RecvVector(Mbuf** rx, int n)
    {
        uint next = _next;
        int got = 0;
        ulong bytes = 0;
        Vector128<byte> shuffle = s_descToRxFields;
        Vector128<ulong> rearmOl = Vector128.Create(_rearm, 0UL);
        Vector128<ulong> rearmOlRss = Vector128.Create(_rearm, (ulong)OffloadFlags.RxRssHash);
        while (got + 4 <= n && next + 4 <= _count && !_discarding)
        {
            IxgbeRxDesc* d = _ring + next;
            // The device writes descriptors back in ring order. Reading DD of the later ones first means that when
            // descriptor k shows DD, descriptors before k (read after it, acquire order) are complete too.
            uint s3 = Volatile.Read(ref d[3].StatusError);
            uint s2 = Volatile.Read(ref d[2].StatusError);
            uint s1 = Volatile.Read(ref d[1].StatusError);
            uint s0 = Volatile.Read(ref d[0].StatusError);
            uint dd = (s0 & 1) | ((s1 & 1) << 1) | ((s2 & 1) << 2) | ((s3 & 1) << 3);
            uint eop = ((s0 >> 1) & 1) | (((s1 >> 1) & 1) << 1) | (((s2 >> 1) & 1) << 2) | (((s3 >> 1) & 1) << 3);
            int done = BitOperations.TrailingZeroCount(~dd);
            if (done == 0)
                break;
            if ((eop & ((1u << done) - 1)) != ((1u << done) - 1) || (((s0 | s1 | s2 | s3) & IxgbeDesc.RXDADV_ERR_MASK) != 0))
                break; // a multi-descriptor or errored frame: the scalar finisher below handles it one by one
            for (int k = 0; k < done; k++)
            {
                Mbuf* m = _sw[next + (uint)k];
                Vector128<byte> desc = Vector128.Load((byte*)(d + k));
                // desc bytes 12-13 length, 4-7 RSS hash -> mbuf bytes 32.. : ptype(4) pkt_len(4) data_len(2) vlan(2) hash(4)
                Vector128<byte> fields = Shuffle(desc, shuffle);
                ushort pktInfo = d[k].PktInfo;
                fields = fields.AsUInt32().WithElement(0, (uint)s_packetTypes[(pktInfo >> 4) & 0x7F]).AsByte();
                fields.Store((byte*)m + 32);
                // rearm (data_off, refcnt, nb_segs, port) and ol_flags in one 16-byte store at offset 16
                ((pktInfo & IxgbeDesc.RXDADV_RSSTYPE_MASK) != 0 ? rearmOlRss : rearmOl).Store((ulong*)((byte*)m + 16));
                bytes += d[k].Length;
                rx[got + k] = m;
                _sw[next + (uint)k] = null;
            }
            got += done;
            next = (next + (uint)done) & _mask;
            _hold += (uint)done;
            if (done < 4)
                break;
        }
        _next = next;
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        // The ring end, a short burst or an unusual frame: finish with the one-at-a-time bulk code.
        if (got < n && (next + 4 > _count || n - got < 4 || _discarding || DescriptorDone(next)))
            got += RecvBulk(rx + got, n - got);
        else if (_hold >= _freeThresh)
            Refill();
        return got;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool DescriptorDone(uint index) => (Volatile.Read(ref _ring[index].StatusError) & IxgbeDesc.RXD_STAT_DD) != 0;

    private static readonly Vector128<byte> s_descToRxFields = Vector128.Create(
        (byte)0x80, 0x80, 0x80, 0x80,   // packet_type: filled from the table
        12, 13, 0x80, 0x80,             // pkt_len = length
        12, 13,                         // data_len = length
        0x80, 0x80,                     // vlan_tci: no stripping configured
        4, 5, 6, 7);                    // hash.rss

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Shuffle(Vector128<byte> value, Vector128<byte> indices)
    {
        // Index bytes with the top bit set produce 0 in both PSHUFB and TBL.
        if (Ssse3.IsSupported)
            return Ssse3.Shuffle(value, indices);
        if (AdvSimd.Arm64.IsSupported)
            return AdvSimd.Arm64.VectorTableLookup(value, indices);
        return Vector128.Shuffle(value, indices);
    }

    /// <summary>True when this CPU runs the vector path in hardware.</summary>
    public static bool VectorSupported => Vector128.IsHardwareAccelerated && (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported);

    // ---- shared pieces ----

    /// <summary>
    /// Frames that span descriptors (EOP clear) cannot be delivered without scatter, which the driver does not
    /// enable; they only happen when a frame exceeds the buffer. They are dropped whole and counted as errors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(uint status)
    {
        bool eop = (status & IxgbeDesc.RXD_STAT_EOP) != 0;
        if (_discarding || !eop || (status & IxgbeDesc.RXDADV_ERR_MASK) != 0)
            return Reject(eop);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Reject(bool eop)
    {
        if (!_discarding)
            Counters.Errors++;
        _discarding = !eop;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Fill(Mbuf* m, IxgbeRxDesc* d, uint status)
    {
        ushort pktInfo = d->PktInfo;
        uint len = d->Length;
        *(ulong*)((byte*)m + 16) = _rearm;
        m->OlFlags = (pktInfo & IxgbeDesc.RXDADV_RSSTYPE_MASK) != 0 ? OffloadFlags.RxRssHash : OffloadFlags.None;
        m->PacketType = s_packetTypes[(pktInfo >> 4) & 0x7F];
        m->PktLen = len;
        m->DataLen = (ushort)len;
        m->VlanTci = 0;
        m->RssHash = d->Rss;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteReadFormat(IxgbeRxDesc* d, Mbuf* m)
    {
        // hdr_addr 0 also clears DD, which shares its bit. One 16-byte store where the CPU has it.
        if (Vector128.IsHardwareAccelerated)
            Vector128.Create(m->BufIova + _headroom, 0UL).Store((ulong*)d);
        else
        {
            d->HdrAddr = 0;
            d->PktAddr = m->BufIova + _headroom;
        }
    }

    /// <summary>
    /// Gives the <c>_hold</c> descriptors from <c>_rearmFrom</c> fresh buffers (one pool get) and moves RDT behind
    /// the last of them. On an empty pool nothing moves; the device drops into the shrunken ring and the next burst
    /// retries.
    /// </summary>
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
            Mbuf* m = _scratch[i];
            _sw[at] = m;
            WriteReadFormat(_ring + at, m);
            at = (at + 1) & _mask;
        }
        _rearmFrom = at;
        _hold = 0;
        // Release store: the re-armed descriptors are visible to the device before the tail moves past them.
        _regs.Write32(_rdt, (at - 1) & _mask);
    }

    /// <summary>Returns every buffer the queue holds to its pool and frees the ring.</summary>
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

    private static PacketType[] BuildPacketTypes()
    {
        // Index: pkt_info bits 10:4 (7.1.6.2 packet type): IPv4 0x01, IPv4 with options 0x02, IPv6 0x04, IPv6 ext 0x08,
        // TCP 0x10, UDP 0x20, SCTP 0x40.
        var table = new PacketType[128];
        for (int i = 0; i < table.Length; i++)
        {
            PacketType t = PacketType.L2Ether;
            if ((i & 0x02) != 0)
                t |= PacketType.L3Ipv4Ext;
            else if ((i & 0x01) != 0)
                t |= PacketType.L3Ipv4;
            else if ((i & 0x08) != 0)
                t |= PacketType.L3Ipv6Ext;
            else if ((i & 0x04) != 0)
                t |= PacketType.L3Ipv6;
            if ((i & 0x10) != 0)
                t |= PacketType.L4Tcp;
            else if ((i & 0x20) != 0)
                t |= PacketType.L4Udp;
            else if ((i & 0x40) != 0)
                t |= PacketType.L4Sctp;
            table[i] = t;
        }
        return table;
    }
}
