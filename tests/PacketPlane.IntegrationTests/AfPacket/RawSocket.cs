using System;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Threading;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// A plain AF_PACKET socket opened by the test itself, optionally inside another network namespace (the
/// socket stays in the namespace it was created in): the independent kernel-side sender and receiver for the
/// net_af_packet and net_tap tests. Uses only the socket API, not PacketPlane's code.
/// </summary>
public sealed class RawSocket : IDisposable
{
    private const int AF_PACKET = 17;
    private const int SOCK_RAW = 3;
    private const int SOL_SOCKET = 1;
    private const int SO_RCVBUFFORCE = 33;
    private const int SO_SNDBUFFORCE = 32;
    private const int SOL_PACKET = 263;
    private const int PACKET_IGNORE_OUTGOING = 23;
    private const int MSG_DONTWAIT = 0x40;
    private const int EAGAIN = 11;
    private const int ENOBUFS = 105;
    private const int CLONE_NEWNET = 0x40000000;
    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;

    private int _fd;

    private RawSocket(int fd) => _fd = fd;

    /// <summary>
    /// Opens a socket on <paramref name="iface"/> receiving <paramref name="etherType"/> (0x0003 for all) and
    /// never its own outgoing frames; inside <paramref name="netns"/> when given.
    /// </summary>
    public static RawSocket Open(string iface, ushort etherType, string? netns = null)
    {
        int fd = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // setns() moves only this thread; it ends right after, so no other code runs in the namespace.
                if (netns is not null)
                {
                    int ns = open($"/var/run/netns/{netns}", O_RDONLY | O_CLOEXEC);
                    Check(ns, $"open /var/run/netns/{netns}");
                    int rc = setns(ns, CLONE_NEWNET);
                    close(ns);
                    Check(rc, "setns");
                }
                fd = CreateBound(iface, etherType);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw failure;
        return new RawSocket(fd);
    }

    /// <summary>Sends one frame; retries while the kernel reports its queue full.</summary>
    public void Send(byte[] frame)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (send(_fd, frame, frame.Length, 0) >= 0)
                return;
            int errno = Marshal.GetLastPInvokeError();
            if ((errno != ENOBUFS && errno != EAGAIN) || attempt > 100_000)
                throw new Win32Exception(errno, $"send failed: errno {errno}");
            Thread.Sleep(0);
        }
    }

    /// <summary>Receives one frame into <paramref name="buffer"/> without waiting; returns its length or -1 when none is queued.</summary>
    public int TryReceive(byte[] buffer)
    {
        nint n = recv(_fd, buffer, buffer.Length, MSG_DONTWAIT);
        if (n >= 0)
            return (int)n;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EAGAIN)
            return -1;
        throw new Win32Exception(errno, $"recv failed: errno {errno}");
    }

    /// <summary>Receives one frame, waiting up to <paramref name="timeout"/>; returns null on timeout.</summary>
    public byte[]? Receive(TimeSpan timeout)
    {
        var buffer = new byte[65536];
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            int n = TryReceive(buffer);
            if (n >= 0)
                return buffer.AsSpan(0, n).ToArray();
            if (DateTime.UtcNow > deadline)
                return null;
            Thread.Sleep(1);
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        if (_fd >= 0)
            close(_fd);
        _fd = -1;
    }

    private static int CreateBound(string iface, ushort etherType)
    {
        ushort protocol = BinaryPrimitives.ReverseEndianness(etherType);
        int fd = socket(AF_PACKET, SOCK_RAW, protocol);
        Check(fd, "socket(AF_PACKET)");
        int ifindex = (int)if_nametoindex(iface);
        if (ifindex == 0)
        {
            close(fd);
            throw new InvalidOperationException($"no interface {iface} in this namespace");
        }
        var sll = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(sll, AF_PACKET);
        BinaryPrimitives.WriteUInt16LittleEndian(sll.AsSpan(2), protocol);
        BinaryPrimitives.WriteInt32LittleEndian(sll.AsSpan(4), ifindex);
        Check(bind(fd, sll, sll.Length), "bind");
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, ref one, sizeof(int));
        int big = 64 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ref big, sizeof(int));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, ref big, sizeof(int));
        return fd;
    }

    private static void Check(int rc, string what)
    {
        if (rc < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{what} failed");
    }

#pragma warning disable SYSLIB1054 // DllImport keeps the test assembly free of unsafe code (LibraryImport needs it).
    [DllImport("libc", SetLastError = true)]
    private static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    private static extern int bind(int fd, byte[] addr, int len);

    [DllImport("libc", SetLastError = true)]
    private static extern nint send(int fd, byte[] buf, nint len, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(int fd, byte[] buf, nint len, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int fd, int level, int option, ref int value, int len);

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern uint if_nametoindex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
#pragma warning restore SYSLIB1054
}
