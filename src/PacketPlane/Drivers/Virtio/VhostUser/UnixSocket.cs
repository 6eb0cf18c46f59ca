using System;
using System.Text;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Virtio.VhostUser;

/// <summary>AF_UNIX stream sockets for vhost-user: listen, accept, connect. Control path.</summary>
internal static unsafe class UnixSocket
{
    /// <summary>Longest path sockaddr_un holds (108 bytes with the terminating NUL).</summary>
    public const int MaxPathBytes = 107;

    /// <summary>Throws a <see cref="Ethdev.DeviceArgumentException"/> when <paramref name="path"/> cannot be a socket path.</summary>
    public static void ValidatePath(string device, string key, string path)
    {
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
            throw new Ethdev.DeviceArgumentException($"device '{device}': {key}={path} is too long for a UNIX socket ({MaxPathBytes} bytes at most); use a shorter path such as /tmp/vhost0.sock");
    }

    /// <summary>Creates a listening socket at <paramref name="path"/>, replacing a stale socket file. Returns the fd or -errno.</summary>
    public static int Listen(string path)
    {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0)
            return -Libc.LastErrno;
        Libc.sockaddr_un addr = Address(path);
        Libc.unlink(path);   // a socket file left by a process that died; bind fails on it otherwise
        if (Libc.bind(fd, &addr, (uint)sizeof(Libc.sockaddr_un)) != 0 || Libc.listen(fd, 1) != 0)
        {
            int errno = Libc.LastErrno;
            Libc.close(fd);
            return -errno;
        }
        return fd;
    }

    /// <summary>Accepts one connection (blocking mode for the result). Returns the fd or -errno.</summary>
    public static int Accept(int listenFd)
    {
        int fd = Libc.accept4(listenFd, null, null, Libc.SOCK_CLOEXEC);
        return fd >= 0 ? fd : -Libc.LastErrno;
    }

    /// <summary>Connects to <paramref name="path"/>. Returns the fd or -errno.</summary>
    public static int Connect(string path)
    {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -Libc.LastErrno;
        Libc.sockaddr_un addr = Address(path);
        if (Libc.connect(fd, &addr, (uint)sizeof(Libc.sockaddr_un)) != 0)
        {
            int errno = Libc.LastErrno;
            Libc.close(fd);
            return -errno;
        }
        return fd;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for any of two descriptors (-1 entries are ignored); returns a bit per readable one.</summary>
    public static int WaitReadable(int fd1, int fd2, int timeoutMs)
    {
        var fds = stackalloc Libc.pollfd[2];
        fds[0] = new Libc.pollfd { fd = fd1, events = Libc.POLLIN };
        fds[1] = new Libc.pollfd { fd = fd2, events = Libc.POLLIN };
        int r = Libc.poll(fds, 2, timeoutMs);
        if (r <= 0)
            return 0;
        int mask = 0;
        if (fd1 >= 0 && fds[0].revents != 0)
            mask |= 1;
        if (fd2 >= 0 && fds[1].revents != 0)
            mask |= 2;
        return mask;
    }

    private static Libc.sockaddr_un Address(string path)
    {
        var addr = new Libc.sockaddr_un { sun_family = Libc.AF_UNIX };
        Span<byte> dst = new(addr.sun_path, 108);
        dst.Clear();
        Encoding.UTF8.GetBytes(path, dst[..MaxPathBytes]);
        return addr;
    }
}

/// <summary>An eventfd used to wake a control thread blocked in poll, and as kick/call notifiers.</summary>
internal static unsafe class EventFd
{
    /// <summary>Creates a non-blocking eventfd; throws <see cref="PacketPlaneException"/> on failure.</summary>
    public static int Create()
    {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0)
            throw new PacketPlaneException($"eventfd failed: {Libc.Describe(Libc.LastErrno)}");
        return fd;
    }

    /// <summary>Adds 1 to the counter (wakes a reader). Never throws.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        Libc.write(fd, &one, sizeof(ulong));
    }

    /// <summary>Resets the counter to 0. Never throws.</summary>
    public static void Drain(int fd)
    {
        ulong value;
        Libc.read(fd, &value, sizeof(ulong));
    }
}
