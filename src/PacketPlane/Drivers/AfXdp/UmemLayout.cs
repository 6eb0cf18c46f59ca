using System;
using System.Runtime.CompilerServices;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// How an <see cref="MbufPool"/>'s own memory is registered as an AF_XDP UMEM, so a received frame is already an
/// mbuf and nothing is copied on RX.
/// </summary>
/// <remarks>
/// <para>
/// We use unaligned chunks (XDP_UMEM_UNALIGNED_CHUNK_FLAG, Linux 5.4+), the route DPDK's af_xdp takes, rather than
/// an aligned 2K/4K-chunk UMEM (MbufPoolOptions.ObjectAlignment = 4096). Reasons: (1) any pool works as created
/// with the defaults, no special alignment, so the same pool serves every port; (2) an mbuf stays 2304 bytes apart
/// instead of 4096, so pools need 44 % less memory; (3) the UMEM headroom covers the whole mbuf header and the
/// mbuf headroom, so the kernel's XDP headroom (where an XDP program may write with bpf_xdp_adjust_head/meta) sits
/// inside the data buffer and can never overwrite the header. The cost: the zero-copy driver must support
/// unaligned mode (i40e, ice, mlx5 and the copy path all do).
/// </para>
/// <para>
/// Layout of one pool object, one UMEM chunk, at offset i * ElementSize from the region base:
/// <c>[mbuf header 128][private area][pool headroom][XDP_PACKET_HEADROOM 256][frame ...]</c>. The chunk starts at
/// the header (that offset is what goes in the fill ring) and is header + private + data room long; the UMEM
/// headroom is header + private + pool headroom; the kernel puts the frame at chunk + UMEM headroom + 256 and
/// reports that offset in the top 16 bits of the RX descriptor's address. The mbuf's data offset is then
/// pool headroom + 256 (384 with the defaults, as DPDK's).
/// </para>
/// </remarks>
internal readonly unsafe struct UmemLayout
{
    private readonly ulong _reciprocal;

    private UmemLayout(MbufPool pool)
    {
        Pool = pool;
        Base = (byte*)pool.Region.BaseAddress;
        Length = (ulong)pool.Region.Length;
        ElementSize = (uint)pool.ElementSize;
        BufferOffset = (uint)(Mbuf.Size + pool.PrivateSize);
        ChunkSize = BufferOffset + (uint)pool.DataRoomSize;
        Headroom = BufferOffset + (uint)pool.Headroom;
        Count = pool.Count;
        PageSize = pool.Region.PageSize;
        // ceil(2^64 / ElementSize): offset * this >> 64 == offset / ElementSize for every offset below 2^48
        // (the error term offset * (ceil - exact) / 2^64 stays under 1 / ElementSize). Spares a division per packet.
        _reciprocal = ulong.MaxValue / ElementSize + 1;
    }

    /// <summary>The pool whose memory this is.</summary>
    public MbufPool Pool { get; }

    /// <summary>Start of the pool's region: UMEM offset 0, and the first mbuf.</summary>
    public byte* Base { get; }

    /// <summary>Bytes registered (the whole region).</summary>
    public ulong Length { get; }

    /// <summary>Distance between mbufs.</summary>
    public uint ElementSize { get; }

    /// <summary>Bytes from an mbuf to its data buffer (header + private area).</summary>
    public uint BufferOffset { get; }

    /// <summary>UMEM chunk size: header + private area + data room.</summary>
    public uint ChunkSize { get; }

    /// <summary>UMEM headroom: header + private area + pool headroom.</summary>
    public uint Headroom { get; }

    /// <summary>Mbufs in the pool (entries of the per-socket frame ownership tables).</summary>
    public int Count { get; }

    /// <summary>Page size of the pool's memory (4096, or the hugepage size).</summary>
    public long PageSize { get; }

    /// <summary>
    /// True when mbuf <paramref name="index"/>'s chunk crosses a page boundary of the pool's memory. A zero-copy
    /// driver DMA-maps the UMEM page by page and refuses such a chunk (net/xdp/xsk_buff_pool.c,
    /// xp_check_unaligned / xp_desc_crosses_non_contig_pg) unless the next page happens to be physically adjacent;
    /// within one hugepage it always is. Copy mode has no such rule.
    /// </summary>
    public bool Straddles(uint index)
    {
        ulong start = (ulong)index * ElementSize;
        return start / (ulong)PageSize != (start + ChunkSize - 1) / (ulong)PageSize;
    }

    /// <summary>How many mbufs of the pool straddle a page boundary.</summary>
    public int CountStraddling()
    {
        int n = 0;
        for (uint i = 0; i < (uint)Count; i++)
        {
            if (Straddles(i))
                n++;
        }
        return n;
    }

    /// <summary>Largest frame the kernel will place in a chunk (its xsk_pool_get_rx_frame_size).</summary>
    public int MaxFrameLength => (int)(ChunkSize - Headroom) - Xsk.XDP_PACKET_HEADROOM;

    /// <summary>Checks the pool fits AF_XDP's rules and returns its layout.</summary>
    /// <exception cref="Ethdev.EthDevException">The pool's buffers are too small or its headroom too large.</exception>
    public static UmemLayout For(MbufPool pool, string device)
    {
        var layout = new UmemLayout(pool);
        if (layout.ChunkSize < Xsk.XDP_UMEM_MIN_CHUNK_SIZE)
            throw new Ethdev.EthDevException(
                $"{device}: pool '{pool.Name}' has {pool.DataRoomSize}-byte buffers; AF_XDP needs each UMEM chunk (128-byte mbuf header + " +
                $"{pool.PrivateSize} private + data room) to be at least {Xsk.XDP_UMEM_MIN_CHUNK_SIZE} bytes. Create the pool with " +
                $"dataRoomSize >= {Xsk.XDP_UMEM_MIN_CHUNK_SIZE - layout.BufferOffset} (the default {MbufPool.DefaultDataRoomSize} works)");
        if (layout.MaxFrameLength < 64)
            throw new Ethdev.EthDevException(
                $"{device}: pool '{pool.Name}' leaves {layout.MaxFrameLength} bytes for a frame after its {pool.Headroom}-byte headroom and the kernel's " +
                $"{Xsk.XDP_PACKET_HEADROOM}-byte XDP headroom; use a larger data room or a smaller headroom");
        if (((nint)layout.Base & 4095) != 0)
            throw new Ethdev.EthDevException($"{device}: pool '{pool.Name}' memory is not page-aligned; AF_XDP registers whole pages");
        return layout;
    }

    /// <summary>Index of the mbuf containing UMEM offset <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint IndexOf(ulong offset) => (uint)Math.BigMul(offset, _reciprocal, out _);

    /// <summary>The mbuf with index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Mbuf* MbufAt(uint index) => (Mbuf*)(Base + (ulong)index * ElementSize);

    /// <summary>UMEM offset of an mbuf of this pool (its chunk address for the fill ring).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong OffsetOf(Mbuf* m) => (ulong)((byte*)m - Base);
}
