using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>Sockets, poll, ioctl and eventfd: shared by the AF_PACKET, AF_XDP, TAP and vhost-user code.</summary>
internal static unsafe partial class Libc
{
    // <sys/socket.h>, <linux/socket.h>
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_NETLINK = 16;
    public const int AF_PACKET = 17;
    public const int AF_XDP = 44;
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_SNDBUF = 7;
    public const int SO_BUSY_POLL = 46;
    public const int SO_PREFER_BUSY_POLL = 69;
    public const int SO_BUSY_POLL_BUDGET = 70;
    public const int SCM_RIGHTS = 1;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    // <linux/if_ether.h>
    public const ushort ETH_P_ALL = 0x0003;

    // <poll.h>
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;

    // <sys/eventfd.h>
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    public struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    /// <summary>struct sockaddr_ll (linux/if_packet.h), 20 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct sockaddr_ll
    {
        public ushort sll_family;
        public ushort sll_protocol; // network byte order
        public int sll_ifindex;
        public ushort sll_hatype;
        public byte sll_pkttype;
        public byte sll_halen;
        public fixed byte sll_addr[8];
    }

    /// <summary>struct sockaddr_un (sys/un.h), 110 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[108];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    /// <summary>CMSG_ALIGN for 64-bit Linux.</summary>
    public static nuint CMSG_ALIGN(nuint len) => (len + (nuint)sizeof(nuint) - 1) & ~((nuint)sizeof(nuint) - 1);

    /// <summary>CMSG_SPACE.</summary>
    public static nuint CMSG_SPACE(nuint len) => CMSG_ALIGN(len) + CMSG_ALIGN((nuint)sizeof(cmsghdr));

    /// <summary>CMSG_LEN.</summary>
    public static nuint CMSG_LEN(nuint len) => CMSG_ALIGN((nuint)sizeof(cmsghdr)) + len;

    [LibraryImport(LibName, EntryPoint = "socket", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(LibName, EntryPoint = "bind", SetLastError = true)]
    public static partial int bind(int fd, void* addr, uint addrlen);

    [LibraryImport(LibName, EntryPoint = "connect", SetLastError = true)]
    public static partial int connect(int fd, void* addr, uint addrlen);

    [LibraryImport(LibName, EntryPoint = "listen", SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(LibName, EntryPoint = "accept4", SetLastError = true)]
    public static partial int accept4(int fd, void* addr, uint* addrlen, int flags);

    [LibraryImport(LibName, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(LibName, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport(LibName, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint sendto(int fd, void* buf, nuint len, int flags, void* addr, uint addrlen);

    [LibraryImport(LibName, EntryPoint = "recvfrom", SetLastError = true)]
    public static partial nint recvfrom(int fd, void* buf, nuint len, int flags, void* addr, uint* addrlen);

    [LibraryImport(LibName, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint sendmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(LibName, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint recvmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(LibName, EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(pollfd* fds, nuint nfds, int timeout);

    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, void* arg);

    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, nint arg);

    [LibraryImport(LibName, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(LibName, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);

    /// <summary>htons: host to network byte order for 16 bits.</summary>
    public static ushort htons(ushort v) => System.BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v;
}
