using System;
using System.Runtime.InteropServices;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Virtio.VhostUser;

/// <summary>How reading one vhost-user message ended.</summary>
internal enum ReceiveStatus
{
    /// <summary>A whole message arrived.</summary>
    Ok,
    /// <summary>The peer closed the connection cleanly between messages.</summary>
    Closed,
    /// <summary>Nothing arrived within the timeout.</summary>
    Timeout,
    /// <summary>The socket failed, or the peer went away in the middle of a message.</summary>
    Failed,
    /// <summary>The header announced a payload larger than any request we know carries.</summary>
    PayloadTooLarge,
    /// <summary>More file descriptors arrived than any request carries (the kernel truncated them).</summary>
    TooManyFds,
}

/// <summary>One received message: header, payload bytes in a caller buffer, and the file descriptors that came with it.</summary>
internal ref struct VhostUserMessage
{
    public VhostUserHeader Header;
    public Span<byte> Payload;
    public Span<int> Fds;

    public readonly uint Request => Header.Request;

    /// <summary>Reads a payload struct; the caller checked the size.</summary>
    public readonly T Read<T>(int offset = 0) where T : unmanaged => MemoryMarshal.Read<T>(Payload[offset..]);
}

/// <summary>
/// A connected vhost-user socket: sends and receives whole messages with their file descriptors. Control path
/// only; blocking with timeouts, never throwing for what the peer does: results say what happened.
/// </summary>
internal sealed unsafe class VhostUserChannel : IDisposable
{
    private int _fd;

    public VhostUserChannel(int fd) => _fd = fd;

    /// <summary>The socket descriptor (for poll).</summary>
    public int Fd => _fd;

    /// <summary>True until disposed.</summary>
    public bool IsOpen => _fd >= 0;

    /// <summary>Sends header + payload with <paramref name="fds"/> as SCM_RIGHTS. Returns 0, or the errno.</summary>
    public int Send(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default)
    {
        int total = VhostUserProtocol.HeaderSize + payload.Length;
        Span<byte> buffer = stackalloc byte[VhostUserProtocol.HeaderSize + Math.Max(payload.Length, 0)];
        var header = new VhostUserHeader { Request = request, Flags = flags, Size = (uint)payload.Length };
        MemoryMarshal.Write(buffer, in header);
        payload.CopyTo(buffer[VhostUserProtocol.HeaderSize..]);
        return SendRaw(buffer[..total], fds);
    }

    /// <summary>Sends a struct payload.</summary>
    public int Send<T>(uint request, uint flags, in T payload, ReadOnlySpan<int> fds = default) where T : unmanaged =>
        Send(request, flags, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds);

    /// <summary>Sends raw bytes with optional descriptors (tests use it to send malformed messages).</summary>
    public int SendRaw(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds)
    {
        if (_fd < 0)
            return Libc.EBADF;
        int controlLen = fds.Length == 0 ? 0 : (int)Libc.CMSG_SPACE((nuint)(fds.Length * sizeof(int)));
        byte* control = stackalloc byte[Math.Max(controlLen, 1)];
        fixed (byte* data = bytes)
        fixed (int* fdPtr = fds)
        {
            var iov = new Libc.iovec { iov_base = data, iov_len = (nuint)bytes.Length };
            var msg = new Libc.msghdr { msg_iov = &iov, msg_iovlen = 1 };
            if (controlLen > 0)
            {
                new Span<byte>(control, controlLen).Clear();
                var cmsg = (Libc.cmsghdr*)control;
                cmsg->cmsg_len = Libc.CMSG_LEN((nuint)(fds.Length * sizeof(int)));
                cmsg->cmsg_level = Libc.SOL_SOCKET;
                cmsg->cmsg_type = Libc.SCM_RIGHTS;
                Buffer.MemoryCopy(fdPtr, control + Libc.CMSG_ALIGN((nuint)sizeof(Libc.cmsghdr)), fds.Length * sizeof(int), fds.Length * sizeof(int));
                msg.msg_control = control;
                msg.msg_controllen = (nuint)controlLen;
            }
            int sent = 0;
            while (sent < bytes.Length)
            {
                iov.iov_base = data + sent;
                iov.iov_len = (nuint)(bytes.Length - sent);
                nint r = Libc.sendmsg(_fd, &msg, Libc.MSG_NOSIGNAL);
                if (r < 0)
                {
                    int errno = Libc.LastErrno;
                    if (errno == Libc.EINTR)
                        continue;
                    return errno;
                }
                sent += (int)r;
                msg.msg_control = null;      // descriptors travel with the first byte only
                msg.msg_controllen = 0;
            }
        }
        return 0;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for a message and reads it whole into <paramref name="payloadBuffer"/>
    /// and <paramref name="fdBuffer"/>. File descriptors received are the caller's to use or close (also on failure,
    /// they are closed here).
    /// </summary>
    public ReceiveStatus Receive(ref VhostUserMessage message, Span<byte> payloadBuffer, Span<int> fdBuffer, int timeoutMs)
    {
        message.Payload = default;
        message.Fds = default;
        if (_fd < 0)
            return ReceiveStatus.Failed;
        if (!WaitReadable(timeoutMs))
            return ReceiveStatus.Timeout;
        VhostUserHeader header;
        ReceiveStatus status = ReceiveHeader(&header, fdBuffer, out int fdCount);
        if (status != ReceiveStatus.Ok)
            return status;
        message.Header = header;
        message.Fds = fdBuffer[..fdCount];
        if (header.Size > (uint)payloadBuffer.Length)
            return ReceiveStatus.PayloadTooLarge;
        message.Payload = payloadBuffer[..(int)header.Size];
        fixed (byte* p = message.Payload)
        {
            if (!ReadExactly(p, (int)header.Size, 1000))
            {
                CloseAll(message.Fds);
                message.Fds = default;
                return ReceiveStatus.Failed;
            }
        }
        return ReceiveStatus.Ok;
    }

    private ReceiveStatus ReceiveHeader(VhostUserHeader* header, Span<int> fdBuffer, out int fdCount)
    {
        fdCount = 0;
        int controlLen = (int)Libc.CMSG_SPACE((nuint)(VhostUserProtocol.MaxFds * sizeof(int)));
        byte* control = stackalloc byte[controlLen];
        var iov = new Libc.iovec { iov_base = header, iov_len = VhostUserProtocol.HeaderSize };
        var msg = new Libc.msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (nuint)controlLen };
        nint r;
        do
        {
            r = Libc.recvmsg(_fd, &msg, Libc.MSG_CMSG_CLOEXEC);
        }
        while (r < 0 && Libc.LastErrno == Libc.EINTR);
        if (r == 0)
            return ReceiveStatus.Closed;
        if (r < 0)
            return ReceiveStatus.Failed;
        fdCount = CollectFds(&msg, fdBuffer);
        bool truncated = (msg.msg_flags & Libc.MSG_CTRUNC) != 0;
        if (r < VhostUserProtocol.HeaderSize && !ReadExactly((byte*)header + r, VhostUserProtocol.HeaderSize - (int)r, 1000))
        {
            CloseAll(fdBuffer[..fdCount]);
            fdCount = 0;
            return ReceiveStatus.Failed;
        }
        if (truncated || fdCount < 0)
        {
            CloseAll(fdBuffer[..Math.Max(fdCount, 0)]);
            fdCount = 0;
            return ReceiveStatus.TooManyFds;
        }
        return ReceiveStatus.Ok;
    }

    // Walks the control messages for SCM_RIGHTS; every descriptor received is stored (or closed if it does not fit).
    private static int CollectFds(Libc.msghdr* msg, Span<int> fdBuffer)
    {
        int count = 0;
        bool overflow = false;
        byte* p = (byte*)msg->msg_control;
        byte* end = p + msg->msg_controllen;
        nuint headerSize = Libc.CMSG_ALIGN((nuint)sizeof(Libc.cmsghdr));
        while (p + sizeof(Libc.cmsghdr) <= end)
        {
            var cmsg = (Libc.cmsghdr*)p;
            if (cmsg->cmsg_len < (nuint)sizeof(Libc.cmsghdr))
                break;
            if (cmsg->cmsg_level == Libc.SOL_SOCKET && cmsg->cmsg_type == Libc.SCM_RIGHTS)
            {
                int n = (int)((cmsg->cmsg_len - headerSize) / sizeof(int));
                int* fds = (int*)(p + headerSize);
                for (int i = 0; i < n; i++)
                {
                    if (count < fdBuffer.Length)
                        fdBuffer[count++] = fds[i];
                    else
                    {
                        Libc.close(fds[i]);
                        overflow = true;
                    }
                }
            }
            p += Libc.CMSG_ALIGN(cmsg->cmsg_len);
        }
        if (overflow)
        {
            CloseAll(fdBuffer[..count]);
            return -1;
        }
        return count;
    }

    private bool ReadExactly(byte* buffer, int length, int timeoutMs)
    {
        int got = 0;
        while (got < length)
        {
            if (!WaitReadable(timeoutMs))
                return false;
            nint r = Libc.recvfrom(_fd, buffer + got, (nuint)(length - got), 0, null, null);
            if (r == 0)
                return false;
            if (r < 0)
            {
                if (Libc.LastErrno == Libc.EINTR)
                    continue;
                return false;
            }
            got += (int)r;
        }
        return true;
    }

    private bool WaitReadable(int timeoutMs)
    {
        var pfd = new Libc.pollfd { fd = _fd, events = Libc.POLLIN };
        while (true)
        {
            int r = Libc.poll(&pfd, 1, timeoutMs);
            if (r > 0)
                return true;
            if (r == 0)
                return false;
            if (Libc.LastErrno != Libc.EINTR)
                return true;   // let the read report the error
        }
    }

    /// <summary>Closes every descriptor in <paramref name="fds"/>.</summary>
    public static void CloseAll(ReadOnlySpan<int> fds)
    {
        foreach (int fd in fds)
        {
            if (fd >= 0)
                Libc.close(fd);
        }
    }

    /// <summary>Closes the socket. Idempotent.</summary>
    public void Dispose()
    {
        int fd = _fd;
        _fd = -1;
        if (fd >= 0)
        {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
            Libc.close(fd);
        }
    }
}
