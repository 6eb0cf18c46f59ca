using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>TUN/TAP devices through /dev/net/tun (linux/if_tun.h), and vectored I/O, used by net_tap.</summary>
internal static unsafe partial class Libc
{
    public const string TunDevicePath = "/dev/net/tun";

    // <linux/if_tun.h> ioctls (_IOW('T', n, int) / _IOR('T', n, unsigned int))
    public const ulong TUNSETIFF = 0x400454ca;
    public const ulong TUNSETPERSIST = 0x400454cb;
    public const ulong TUNGETFEATURES = 0x800454cf;
    public const ulong TUNGETIFF = 0x800454d2;

    // TUNSETIFF ifr_flags
    public const short IFF_TAP = 0x0002;
    public const short IFF_MULTI_QUEUE = 0x0100;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_PERSIST = 0x0800;

    // <errno.h> values the TAP paths tell apart
    public const int ENXIO = 6;
    public const int EBADFD = 77;
    public const int ENETDOWN = 100;
    public const int EMSGSIZE = 90;

    /// <summary>Most queues a multi-queue TUN/TAP device takes (MAX_TAP_QUEUES in drivers/net/tun.c).</summary>
    public const int MAX_TAP_QUEUES = 256;

    [LibraryImport(LibName, EntryPoint = "readv", SetLastError = true)]
    public static partial nint readv(int fd, iovec* iov, int iovcnt);

    [LibraryImport(LibName, EntryPoint = "writev", SetLastError = true)]
    public static partial nint writev(int fd, iovec* iov, int iovcnt);
}
