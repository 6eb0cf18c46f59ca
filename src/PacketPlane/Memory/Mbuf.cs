using System.Runtime.InteropServices;
using PacketPlane.Net;

namespace PacketPlane.Memory;

/// <summary>
/// The packet buffer header in native memory, laid out as DPDK's <c>struct rte_mbuf</c> (rte_mbuf_core.h,
/// 64-bit): two cache lines, with everything a receive path writes in the first one so RX touches a single
/// line per packet. Drivers use this struct; applications use the 8-byte <see cref="Packet"/> handle.
/// The layout is pinned by tests (our stand-in for RTE_BUILD_BUG_ON).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct Mbuf
{
    /// <summary>Bytes in the header: two cache lines.</summary>
    public const int Size = 128;

    /// <summary>Default headroom reserved in front of packet data (RTE_PKTMBUF_HEADROOM).</summary>
    public const int DefaultHeadroom = 128;

    // ---- cache line 0: written on RX ----

    /// <summary>Virtual address of the start of the data buffer (headroom included).</summary>
    [FieldOffset(0)] public byte* BufAddr;

    /// <summary>Device address (IOVA) of the start of the data buffer.</summary>
    [FieldOffset(8)] public ulong BufIova;

    /// <summary>Start of the "rearm" 8 bytes (data offset, refcount, segment count, port) that vector RX writes in one store.</summary>
    [FieldOffset(16)] public ulong RearmData;

    /// <summary>Offset of the first data byte from <see cref="BufAddr"/>.</summary>
    [FieldOffset(16)] public ushort DataOff;

    /// <summary>References to this buffer; 1 while owned by one holder, 0 never seen outside the pool.</summary>
    [FieldOffset(18)] public ushort RefCnt;

    /// <summary>Segments in the chain that starts here (valid in the first segment).</summary>
    [FieldOffset(20)] public ushort NbSegs;

    /// <summary>Input port.</summary>
    [FieldOffset(22)] public ushort Port;

    /// <summary>Offload flags.</summary>
    [FieldOffset(24)] public OffloadFlags OlFlags;

    /// <summary>Packet type (DPDK RTE_PTYPE layout). First of the RX descriptor fields.</summary>
    [FieldOffset(32)] public PacketType PacketType;

    /// <summary>Total packet length, all segments (valid in the first segment).</summary>
    [FieldOffset(36)] public uint PktLen;

    /// <summary>Data bytes in this segment.</summary>
    [FieldOffset(40)] public ushort DataLen;

    /// <summary>VLAN tag control information when <see cref="OffloadFlags.RxVlan"/> is set.</summary>
    [FieldOffset(42)] public ushort VlanTci;

    /// <summary>RSS hash when <see cref="OffloadFlags.RxRssHash"/> is set.</summary>
    [FieldOffset(44)] public uint RssHash;

    /// <summary>Second hash word (flow director id), as DPDK's hash.fdir.hi.</summary>
    [FieldOffset(48)] public uint HashHi;

    /// <summary>Outer VLAN tag (QinQ).</summary>
    [FieldOffset(52)] public ushort VlanTciOuter;

    /// <summary>Size of the data buffer (headroom + data room).</summary>
    [FieldOffset(54)] public ushort BufLen;

    /// <summary>Id of the owning <see cref="MbufPool"/> (DPDK keeps a pool pointer here).</summary>
    [FieldOffset(56)] public ushort PoolId;

    // ---- cache line 1: TX and slow path ----

    /// <summary>Next segment of a chained packet, or null.</summary>
    [FieldOffset(64)] public Mbuf* Next;

    /// <summary>Packed L2/L3/L4 header lengths for TX offloads (DPDK tx_offload).</summary>
    [FieldOffset(72)] public ulong TxOffload;

    /// <summary>Size of the application private area that follows the header.</summary>
    [FieldOffset(88)] public ushort PrivSize;

    /// <summary>Receive timestamp in TSC ticks or nanoseconds, set by drivers and tools that want one.</summary>
    [FieldOffset(96)] public ulong Timestamp;

    /// <summary>For an indirect (cloned) mbuf: the mbuf whose buffer it is attached to.</summary>
    [FieldOffset(104)] public Mbuf* Direct;

    /// <summary>Application scratch space (DPDK's dynfields), 16 bytes at offset 112.</summary>
    [FieldOffset(112)] public ulong UserData0;

    /// <summary>More application scratch space.</summary>
    [FieldOffset(120)] public ulong UserData1;

    /// <summary>First data byte.</summary>
    public readonly byte* Data => BufAddr + DataOff;
}
