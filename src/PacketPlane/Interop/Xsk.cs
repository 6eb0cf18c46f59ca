using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// AF_XDP socket ABI from &lt;linux/if_xdp.h&gt; (checked against the Debian 12 headers; the values have not
/// changed since Linux 5.4). Names are the kernel's so they grep against the header.
/// </summary>
internal static class Xsk
{
    // <linux/socket.h>
    public const int SOL_XDP = 283;

    // Options for the sxdp_flags field.
    public const ushort XDP_SHARED_UMEM = 1 << 0;
    public const ushort XDP_COPY = 1 << 1;
    public const ushort XDP_ZEROCOPY = 1 << 2;
    public const ushort XDP_USE_NEED_WAKEUP = 1 << 3;

    // xdp_umem_reg.flags
    public const uint XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1 << 0;

    // xdp_ring_offset.flags word
    public const uint XDP_RING_NEED_WAKEUP = 1 << 0;

    // Socket options (level SOL_XDP).
    public const int XDP_MMAP_OFFSETS = 1;
    public const int XDP_RX_RING = 2;
    public const int XDP_TX_RING = 3;
    public const int XDP_UMEM_REG = 4;
    public const int XDP_UMEM_FILL_RING = 5;
    public const int XDP_UMEM_COMPLETION_RING = 6;
    public const int XDP_STATISTICS = 7;
    public const int XDP_OPTIONS = 8;

    // xdp_options.flags
    public const uint XDP_OPTIONS_ZEROCOPY = 1 << 0;

    // mmap page offsets of the four rings.
    public const long XDP_PGOFF_RX_RING = 0;
    public const long XDP_PGOFF_TX_RING = 0x80000000;
    public const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    public const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

    // Unaligned-chunk addresses carry an offset in their top 16 bits.
    public const int XSK_UNALIGNED_BUF_OFFSET_SHIFT = 48;
    public const ulong XSK_UNALIGNED_BUF_ADDR_MASK = (1UL << XSK_UNALIGNED_BUF_OFFSET_SHIFT) - 1;

    // <linux/bpf.h>: bytes the kernel reserves in front of every XDP frame.
    public const int XDP_PACKET_HEADROOM = 256;

    // net/xdp/xdp_umem.c: smallest UMEM chunk the kernel accepts (not in the uapi header).
    public const int XDP_UMEM_MIN_CHUNK_SIZE = 2048;

    /// <summary>struct sockaddr_xdp, 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct sockaddr_xdp
    {
        public ushort sxdp_family;
        public ushort sxdp_flags;
        public uint sxdp_ifindex;
        public uint sxdp_queue_id;
        public uint sxdp_shared_umem_fd;
    }

    /// <summary>struct xdp_ring_offset, 32 bytes (v2, with flags: Linux 5.4+).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct xdp_ring_offset
    {
        public ulong producer;
        public ulong consumer;
        public ulong desc;
        public ulong flags;
    }

    /// <summary>struct xdp_mmap_offsets, 128 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct xdp_mmap_offsets
    {
        public xdp_ring_offset rx;
        public xdp_ring_offset tx;
        public xdp_ring_offset fr;
        public xdp_ring_offset cr;
    }

    /// <summary>struct xdp_umem_reg, 32 bytes with its tail padding (flags: Linux 5.4+).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 32)]
    public struct xdp_umem_reg
    {
        public ulong addr;
        public ulong len;
        public uint chunk_size;
        public uint headroom;
        public uint flags;
    }

    /// <summary>struct xdp_statistics, 48 bytes (the last three fields: Linux 5.9+).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct xdp_statistics
    {
        public ulong rx_dropped;
        public ulong rx_invalid_descs;
        public ulong tx_invalid_descs;
        public ulong rx_ring_full;
        public ulong rx_fill_ring_empty_descs;
        public ulong tx_ring_empty_descs;
    }

    /// <summary>struct xdp_options.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct xdp_options
    {
        public uint flags;
    }

    /// <summary>struct xdp_desc: an RX or TX ring entry, 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct xdp_desc
    {
        public ulong addr;
        public uint len;
        public uint options;
    }
}
