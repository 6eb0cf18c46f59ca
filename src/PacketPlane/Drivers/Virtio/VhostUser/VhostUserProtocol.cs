using System.Runtime.InteropServices;

namespace PacketPlane.Drivers.Virtio.VhostUser;

/// <summary>
/// vhost-user message framing and payloads (QEMU docs/interop/vhost-user.rst; request numbers as DPDK 22.11
/// lib/vhost/vhost_user.h). Every message is a 12-byte header {request, flags, size} and a payload of
/// <c>size</c> bytes, native byte order, over an AF_UNIX stream socket; file descriptors ride along as SCM_RIGHTS.
/// </summary>
internal static class VhostUserProtocol
{
    public const uint VHOST_USER_GET_FEATURES = 1;
    public const uint VHOST_USER_SET_FEATURES = 2;
    public const uint VHOST_USER_SET_OWNER = 3;
    public const uint VHOST_USER_RESET_OWNER = 4;
    public const uint VHOST_USER_SET_MEM_TABLE = 5;
    public const uint VHOST_USER_SET_LOG_BASE = 6;
    public const uint VHOST_USER_SET_LOG_FD = 7;
    public const uint VHOST_USER_SET_VRING_NUM = 8;
    public const uint VHOST_USER_SET_VRING_ADDR = 9;
    public const uint VHOST_USER_SET_VRING_BASE = 10;
    public const uint VHOST_USER_GET_VRING_BASE = 11;
    public const uint VHOST_USER_SET_VRING_KICK = 12;
    public const uint VHOST_USER_SET_VRING_CALL = 13;
    public const uint VHOST_USER_SET_VRING_ERR = 14;
    public const uint VHOST_USER_GET_PROTOCOL_FEATURES = 15;
    public const uint VHOST_USER_SET_PROTOCOL_FEATURES = 16;
    public const uint VHOST_USER_GET_QUEUE_NUM = 17;
    public const uint VHOST_USER_SET_VRING_ENABLE = 18;
    public const uint VHOST_USER_SEND_RARP = 19;
    public const uint VHOST_USER_NET_SET_MTU = 20;
    public const uint VHOST_USER_SET_STATUS = 39;
    public const uint VHOST_USER_GET_STATUS = 40;

    /// <summary>Header flags: version 1 in bits 0-1, REPLY bit 2, NEED_REPLY bit 3.</summary>
    public const uint VHOST_USER_VERSION = 0x1;
    public const uint VHOST_USER_VERSION_MASK = 0x3;
    public const uint VHOST_USER_REPLY_MASK = 0x1 << 2;
    public const uint VHOST_USER_NEED_REPLY_MASK = 0x1 << 3;

    /// <summary>SET_VRING_KICK/CALL/ERR payload: ring index in bits 0-7, bit 8 "no file descriptor".</summary>
    public const ulong VHOST_USER_VRING_IDX_MASK = 0xff;
    public const ulong VHOST_USER_VRING_NOFD_MASK = 0x1 << 8;

    public const int VHOST_USER_PROTOCOL_F_MQ = 0;
    public const int VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1;
    public const int VHOST_USER_PROTOCOL_F_RARP = 2;
    public const int VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
    public const int VHOST_USER_PROTOCOL_F_NET_MTU = 4;
    public const int VHOST_USER_PROTOCOL_F_SLAVE_REQ = 5;
    public const int VHOST_USER_PROTOCOL_F_CONFIG = 9;
    public const int VHOST_USER_PROTOCOL_F_STATUS = 16;

    /// <summary>
    /// Most memory regions one SET_MEM_TABLE carries (VHOST_MEMORY_MAX_NREGIONS in QEMU and DPDK): the payload is a
    /// fixed array of 8 and one SCM_RIGHTS message carries their 8 file descriptors.
    /// </summary>
    public const int VHOST_MEMORY_MAX_NREGIONS = 8;

    /// <summary>Bytes of the header.</summary>
    public const int HeaderSize = 12;

    /// <summary>Largest payload of any request we handle (a full memory table).</summary>
    public const int MaxPayloadSize = 8 + VHOST_MEMORY_MAX_NREGIONS * 32;

    /// <summary>Most file descriptors accepted with one message.</summary>
    public const int MaxFds = VHOST_MEMORY_MAX_NREGIONS;

    /// <summary>Request name for logs: "SET_MEM_TABLE(5)".</summary>
    public static string Name(uint request) => request switch
    {
        VHOST_USER_GET_FEATURES => "GET_FEATURES(1)",
        VHOST_USER_SET_FEATURES => "SET_FEATURES(2)",
        VHOST_USER_SET_OWNER => "SET_OWNER(3)",
        VHOST_USER_RESET_OWNER => "RESET_OWNER(4)",
        VHOST_USER_SET_MEM_TABLE => "SET_MEM_TABLE(5)",
        VHOST_USER_SET_LOG_BASE => "SET_LOG_BASE(6)",
        VHOST_USER_SET_LOG_FD => "SET_LOG_FD(7)",
        VHOST_USER_SET_VRING_NUM => "SET_VRING_NUM(8)",
        VHOST_USER_SET_VRING_ADDR => "SET_VRING_ADDR(9)",
        VHOST_USER_SET_VRING_BASE => "SET_VRING_BASE(10)",
        VHOST_USER_GET_VRING_BASE => "GET_VRING_BASE(11)",
        VHOST_USER_SET_VRING_KICK => "SET_VRING_KICK(12)",
        VHOST_USER_SET_VRING_CALL => "SET_VRING_CALL(13)",
        VHOST_USER_SET_VRING_ERR => "SET_VRING_ERR(14)",
        VHOST_USER_GET_PROTOCOL_FEATURES => "GET_PROTOCOL_FEATURES(15)",
        VHOST_USER_SET_PROTOCOL_FEATURES => "SET_PROTOCOL_FEATURES(16)",
        VHOST_USER_GET_QUEUE_NUM => "GET_QUEUE_NUM(17)",
        VHOST_USER_SET_VRING_ENABLE => "SET_VRING_ENABLE(18)",
        VHOST_USER_SEND_RARP => "SEND_RARP(19)",
        VHOST_USER_NET_SET_MTU => "NET_SET_MTU(20)",
        VHOST_USER_SET_STATUS => "SET_STATUS(39)",
        VHOST_USER_GET_STATUS => "GET_STATUS(40)",
        _ => $"request {request}",
    };
}

/// <summary>The 12-byte message header.</summary>
[StructLayout(LayoutKind.Sequential, Size = 12)]
internal struct VhostUserHeader
{
    public uint Request;
    public uint Flags;
    public uint Size;
}

/// <summary>struct vhost_vring_state: ring index and a number.</summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
internal struct VhostVringState
{
    public uint Index;
    public uint Num;
}

/// <summary>struct vhost_vring_addr: ring index, flags and the three ring areas as user addresses.</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct VhostVringAddr
{
    public uint Index;
    public uint Flags;
    public ulong DescUserAddr;
    public ulong UsedUserAddr;
    public ulong AvailUserAddr;
    public ulong LogGuestAddr;
}

/// <summary>One region of a memory table (VhostUserMemoryRegion).</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
internal struct VhostUserMemoryRegion
{
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
    public ulong MmapOffset;
}
