using System;
using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Net;

namespace PacketPlane.Memory;

/// <summary>
/// An 8-byte handle to a packet (an <see cref="Mbuf"/> chain in pool memory). Bursts move arrays of these;
/// the bytes are reached through <see cref="Data"/>. Safe code pays nothing for the safety: the handle is a
/// pointer, the accessors are spans.
/// </summary>
/// <remarks>
/// Ownership follows DPDK: a packet is owned by exactly one party at a time. <c>TxBurst</c> takes the packets it
/// reports as sent; the rest stay with the caller, who must send or <see cref="Free"/> them. Using a handle after
/// freeing it is a bug, as in DPDK.
/// </remarks>
public readonly unsafe struct Packet : IEquatable<Packet>
{
    internal readonly Mbuf* M;

    internal Packet(Mbuf* m) => M = m;

    /// <summary>True for the default (empty) handle, as returned by a failed allocation.</summary>
    public bool IsNull => M == null;

    /// <summary>Address of the mbuf header (for logs, and interop with native code).</summary>
    public nint Address => (nint)M;

    /// <summary>The data of the first segment.</summary>
    public Span<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(M->BufAddr + M->DataOff, M->DataLen);
    }

    /// <summary>Total length over all segments (pkt_len).</summary>
    public int Length => (int)M->PktLen;

    /// <summary>Length of the first segment (data_len).</summary>
    public int DataLength => M->DataLen;

    /// <summary>Segments in the chain.</summary>
    public int SegmentCount => M->NbSegs;

    /// <summary>The next segment, or a null packet.</summary>
    public Packet NextSegment => new(M->Next);

    /// <summary>Free bytes in front of the first segment's data.</summary>
    public int Headroom => M->DataOff;

    /// <summary>Free bytes after the last segment's data.</summary>
    public int Tailroom
    {
        get
        {
            Mbuf* last = LastSegment(M);
            return last->BufLen - last->DataOff - last->DataLen;
        }
    }

    /// <summary>Port the packet arrived on, or 65535.</summary>
    public ushort Port
    {
        get => M->Port;
        set => M->Port = value;
    }

    /// <summary>Packet type (DPDK RTE_PTYPE layout).</summary>
    public PacketType PacketType
    {
        get => M->PacketType;
        set => M->PacketType = value;
    }

    /// <summary>Offload flags.</summary>
    public OffloadFlags Flags
    {
        get => M->OlFlags;
        set => M->OlFlags = value;
    }

    /// <summary>RSS hash (valid with <see cref="OffloadFlags.RxRssHash"/>).</summary>
    public uint RssHash
    {
        get => M->RssHash;
        set => M->RssHash = value;
    }

    /// <summary>VLAN TCI (valid with <see cref="OffloadFlags.RxVlan"/>; used on TX with <see cref="OffloadFlags.TxVlan"/>).</summary>
    public ushort VlanTci
    {
        get => M->VlanTci;
        set => M->VlanTci = value;
    }

    /// <summary>Receive timestamp, when the driver or application set one.</summary>
    public ulong Timestamp
    {
        get => M->Timestamp;
        set => M->Timestamp = value;
    }

    /// <summary>Packed header lengths for TX offloads: l2_len (7 bits), l3_len (9), l4_len (8), as DPDK's tx_offload.</summary>
    public ulong TxOffload
    {
        get => M->TxOffload;
        set => M->TxOffload = value;
    }

    /// <summary>References to the packet's buffer.</summary>
    public int RefCount => Volatile.Read(ref M->RefCnt);

    /// <summary>The pool the packet came from.</summary>
    public MbufPool Pool => MbufPool.FromMbuf(M);

    /// <summary>
    /// Sets the length of a single-segment packet (data_len and pkt_len). False, with nothing changed, when the
    /// packet has more than one segment or the length does not fit the buffer.
    /// </summary>
    public bool TrySetLength(int length)
    {
        if (M->Next != null || (uint)length > (uint)(M->BufLen - M->DataOff))
            return false;
        M->DataLen = (ushort)length;
        M->PktLen = (uint)length;
        return true;
    }

    /// <summary>Grows the front of the packet by <paramref name="length"/> bytes (rte_pktmbuf_prepend). False when the headroom is too small.</summary>
    public bool TryPrepend(int length)
    {
        if ((uint)length > M->DataOff)
            return false;
        M->DataOff -= (ushort)length;
        M->DataLen += (ushort)length;
        M->PktLen += (uint)length;
        return true;
    }

    /// <summary>Grows the end of the last segment by <paramref name="length"/> bytes (rte_pktmbuf_append). False when the tailroom is too small.</summary>
    public bool TryAppend(int length)
    {
        Mbuf* last = LastSegment(M);
        if ((uint)length > (uint)(last->BufLen - last->DataOff - last->DataLen))
            return false;
        last->DataLen += (ushort)length;
        M->PktLen += (uint)length;
        return true;
    }

    /// <summary>Removes <paramref name="length"/> bytes from the front of the first segment (rte_pktmbuf_adj). False when the segment is shorter.</summary>
    public bool TryAdjust(int length)
    {
        if ((uint)length > M->DataLen)
            return false;
        M->DataOff += (ushort)length;
        M->DataLen -= (ushort)length;
        M->PktLen -= (uint)length;
        return true;
    }

    /// <summary>Removes <paramref name="length"/> bytes from the end of the last segment (rte_pktmbuf_trim). False when that segment is shorter.</summary>
    public bool TryTrim(int length)
    {
        Mbuf* last = LastSegment(M);
        if ((uint)length > last->DataLen)
            return false;
        last->DataLen -= (ushort)length;
        M->PktLen -= (uint)length;
        return true;
    }

    /// <summary>
    /// Appends the chain <paramref name="tail"/> to this packet (rte_pktmbuf_chain); the packet now owns it.
    /// False, with nothing changed, when the result would exceed 65535 segments.
    /// </summary>
    public bool TryChain(Packet tail)
    {
        if (M->NbSegs + tail.M->NbSegs > ushort.MaxValue)
            return false;
        LastSegment(M)->Next = tail.M;
        M->NbSegs += tail.M->NbSegs;
        M->PktLen += tail.M->PktLen;
        tail.M->NbSegs = 1;
        tail.M->PktLen = tail.M->DataLen;
        return true;
    }

    /// <summary>Copies the whole packet (all segments) into <paramref name="destination"/>; returns the bytes copied.</summary>
    public int CopyTo(Span<byte> destination)
    {
        int copied = 0;
        for (Mbuf* seg = M; seg != null && copied < destination.Length; seg = seg->Next)
        {
            int n = Math.Min(seg->DataLen, destination.Length - copied);
            new ReadOnlySpan<byte>(seg->BufAddr + seg->DataOff, n).CopyTo(destination[copied..]);
            copied += n;
        }
        return copied;
    }

    /// <summary>Adds a reference to the packet's buffer; it is then returned to its pool only after one more <see cref="Free"/>.</summary>
    public void AddRef() => RefCountUpdate(M, 1);

    /// <summary>
    /// Returns the packet, all its segments, to their pools, honouring reference counts and detaching clones
    /// (rte_pktmbuf_free). Never throws.
    /// </summary>
    public void Free()
    {
        Mbuf* seg = M;
        while (seg != null)
        {
            Mbuf* next = seg->Next;
            Mbuf* toPut = PrepareSegmentForPool(seg);
            if (toPut != null)
                MbufPool.FromMbuf(toPut).PutOne(toPut);
            seg = next;
        }
    }

    /// <summary>Frees every packet in <paramref name="packets"/> (rte_pktmbuf_free_bulk); null handles are skipped.</summary>
    public static void FreeBulk(ReadOnlySpan<Packet> packets)
    {
        fixed (Packet* p = packets)
            MbufPool.FreeBulkRaw((Mbuf**)p, (uint)packets.Length);
    }

    /// <summary>
    /// Makes a clone that shares this packet's data (rte_pktmbuf_clone): new headers from <paramref name="pool"/>,
    /// attached to this packet's buffers, whose reference counts go up. Returns a null packet when
    /// <paramref name="pool"/> is empty. The data is shared: write to neither while both are in use.
    /// </summary>
    public Packet Clone(MbufPool pool)
    {
        Packet head = pool.Alloc();
        if (head.IsNull)
            return default;
        Mbuf* mi = head.M;
        Mbuf* prev = null;
        for (Mbuf* seg = M; seg != null; seg = seg->Next)
        {
            if (prev != null)
            {
                Packet next = pool.Alloc();
                if (next.IsNull)
                {
                    head.Free();
                    return default;
                }
                mi = next.M;
                prev->Next = mi;
            }
            Attach(mi, seg);
            prev = mi;
        }
        head.M->NbSegs = M->NbSegs;
        head.M->PktLen = M->PktLen;
        head.M->Port = M->Port;
        head.M->PacketType = M->PacketType;
        head.M->RssHash = M->RssHash;
        head.M->VlanTci = M->VlanTci;
        return head;
    }

    /// <summary>Resets metadata and makes the packet empty, keeping its buffer (rte_pktmbuf_reset).</summary>
    public void Reset() => MbufPool.FromMbuf(M).ResetForAlloc(M);

    private static void Attach(Mbuf* mi, Mbuf* seg)
    {
        Mbuf* direct = (seg->OlFlags & OffloadFlags.Indirect) != 0 ? seg->Direct : seg;
        RefCountUpdate(direct, 1);
        mi->BufAddr = seg->BufAddr;
        mi->BufIova = seg->BufIova;
        mi->BufLen = seg->BufLen;
        mi->DataOff = seg->DataOff;
        mi->DataLen = seg->DataLen;
        mi->Direct = direct;
        mi->OlFlags = (seg->OlFlags & ~OffloadFlags.Indirect) | OffloadFlags.Indirect;
        mi->PktLen = mi->DataLen;
        mi->NbSegs = 1;
    }

    /// <summary>
    /// DPDK's rte_pktmbuf_prefree_seg: drops one reference; when it was the last, detaches a clone and unlinks
    /// the segment so it can go back to its pool, and returns it. Returns null while references remain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Mbuf* PrepareSegmentForPool(Mbuf* m)
    {
        // Sole owner: no atomic needed, nobody else can see the count change.
        if (m->RefCnt != 1 && RefCountUpdate(m, -1) != 0)
            return null;
        if ((m->OlFlags & OffloadFlags.Indirect) != 0)
            Detach(m);
        m->Next = null;
        m->NbSegs = 1;
        m->RefCnt = 1;
        return m;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Detach(Mbuf* mi)
    {
        Mbuf* direct = mi->Direct;
        MbufPool.FromMbuf(mi).RestoreOwnBuffer(mi);
        if (RefCountUpdate(direct, -1) == 0)
        {
            direct->Next = null;
            direct->NbSegs = 1;
            direct->RefCnt = 1;
            MbufPool.FromMbuf(direct).PutOne(direct);
        }
    }

    private static int RefCountUpdate(Mbuf* m, int delta)
    {
        // 16-bit counter updated with a compare-and-swap loop (there is no 16-bit atomic add). Only clones
        // and AddRef reach here; the common sole-owner free never does.
        ref ushort rc = ref m->RefCnt;
        while (true)
        {
            ushort old = Volatile.Read(ref rc);
            ushort updated = (ushort)(old + delta);
            if (Interlocked.CompareExchange(ref rc, updated, old) == old)
                return updated;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Mbuf* LastSegment(Mbuf* m)
    {
        while (m->Next != null)
            m = m->Next;
        return m;
    }

    /// <inheritdoc/>
    public bool Equals(Packet other) => M == other.M;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Packet p && Equals(p);

    /// <inheritdoc/>
    public override int GetHashCode() => ((nint)M).GetHashCode();

    /// <summary>Same mbuf.</summary>
    public static bool operator ==(Packet left, Packet right) => left.Equals(right);

    /// <summary>Different mbufs.</summary>
    public static bool operator !=(Packet left, Packet right) => !left.Equals(right);

    /// <summary>Address and length, for logs.</summary>
    public override string ToString() => IsNull ? "Packet(null)" : $"Packet(0x{(nint)M:x}, {M->PktLen} bytes, {M->NbSegs} seg)";
}
