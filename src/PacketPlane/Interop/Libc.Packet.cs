using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// AF_PACKET sockets with PACKET_MMAP rings (linux/if_packet.h, Documentation/networking/packet_mmap.rst),
/// used by net_af_packet. Names are the kernel's.
/// </summary>
internal static unsafe partial class Libc
{
    // <linux/socket.h>
    public const int SOL_PACKET = 263;

    // <linux/if_packet.h>: socket options at SOL_PACKET
    public const int PACKET_ADD_MEMBERSHIP = 1;
    public const int PACKET_DROP_MEMBERSHIP = 2;
    public const int PACKET_RX_RING = 5;
    public const int PACKET_STATISTICS = 6;
    public const int PACKET_VERSION = 10;
    public const int PACKET_TX_RING = 13;
    public const int PACKET_LOSS = 14;
    public const int PACKET_FANOUT = 18;
    public const int PACKET_QDISC_BYPASS = 20;
    public const int PACKET_ROLLOVER_STATS = 21;
    public const int PACKET_IGNORE_OUTGOING = 23;

    // struct packet_mreq mr_type
    public const ushort PACKET_MR_PROMISC = 1;
    public const ushort PACKET_MR_ALLMULTI = 2;

    // PACKET_FANOUT modes and flags (the mode in the low byte, flags above it; both go in the upper 16 bits of the argument)
    public const int PACKET_FANOUT_HASH = 0;
    public const int PACKET_FANOUT_FLAG_ROLLOVER = 0x1000;
    public const int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    public const int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000; // kernel 6.2+
    public const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    /// <summary>Members a fanout group takes unless created with struct fanout_args.max_num (PACKET_FANOUT_DEF_MAX).</summary>
    public const int PACKET_FANOUT_DEF_MAX = 256;

    // enum tpacket_versions
    public const int TPACKET_V2 = 1;

    // RX ring tp_status
    public const uint TP_STATUS_KERNEL = 0;
    public const uint TP_STATUS_USER = 1u << 0;
    public const uint TP_STATUS_COPY = 1u << 1;
    public const uint TP_STATUS_LOSING = 1u << 2;
    public const uint TP_STATUS_VLAN_VALID = 1u << 4;
    public const uint TP_STATUS_VLAN_TPID_VALID = 1u << 6;

    // TX ring tp_status
    public const uint TP_STATUS_AVAILABLE = 0;
    public const uint TP_STATUS_SEND_REQUEST = 1u << 0;
    public const uint TP_STATUS_SENDING = 1u << 1;
    public const uint TP_STATUS_WRONG_FORMAT = 1u << 2;

    // Both rings: timestamp source bits the kernel may leave set on a TX frame it has released (kernel commit
    // 171c3b151118 "net: packetmmap: fix only tx timestamp on request"), so they are masked off before comparing.
    public const uint TP_STATUS_TS_SOFTWARE = 1u << 29;
    public const uint TP_STATUS_TS_RAW_HARDWARE = 1u << 31;

    public const int TPACKET_ALIGNMENT = 16;

    /// <summary>TPACKET_ALIGN(x).</summary>
    public static int TPACKET_ALIGN(int x) => (x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);

    /// <summary>TPACKET2_HDRLEN: the aligned frame header plus a struct sockaddr_ll (52 bytes).</summary>
    public static readonly int TPACKET2_HDRLEN = TPACKET_ALIGN(sizeof(tpacket2_hdr)) + sizeof(sockaddr_ll);

    /// <summary>struct tpacket2_hdr, 32 bytes, at the start of every V2 ring frame.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct tpacket2_hdr
    {
        public uint tp_status;
        public uint tp_len;
        public uint tp_snaplen;
        public ushort tp_mac;
        public ushort tp_net;
        public uint tp_sec;
        public uint tp_nsec;
        public ushort tp_vlan_tci;
        public ushort tp_vlan_tpid;
        public fixed byte tp_padding[4];
    }

    /// <summary>struct tpacket_req: ring geometry for PACKET_RX_RING / PACKET_TX_RING (V1/V2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct tpacket_req
    {
        public uint tp_block_size;
        public uint tp_block_nr;
        public uint tp_frame_size;
        public uint tp_frame_nr;
    }

    /// <summary>struct tpacket_stats (PACKET_STATISTICS for V1/V2). Reading it resets the kernel's counters.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct tpacket_stats
    {
        public uint tp_packets;
        public uint tp_drops;
    }

    /// <summary>struct tpacket_rollover_stats (PACKET_ROLLOVER_STATS).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct tpacket_rollover_stats
    {
        public ulong tp_all;
        public ulong tp_huge;
        public ulong tp_failed;
    }

    /// <summary>struct packet_mreq (PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct packet_mreq
    {
        public int mr_ifindex;
        public ushort mr_type;
        public ushort mr_alen;
        public fixed byte mr_address[8];
    }
}
