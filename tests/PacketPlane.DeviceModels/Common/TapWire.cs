using System;
using System.Runtime.InteropServices;
using System.Text;

namespace PacketPlane.DeviceModels.Common;

/// <summary>
/// Bridges a model's wire to a TAP interface the model opens itself on /dev/net/tun (Documentation/networking/tuntap.rst):
/// frames the device transmits are written to the TAP, so the kernel receives them on that interface; frames the
/// kernel sends out of the interface arrive at the device. Needs CAP_NET_ADMIN.
/// </summary>
public sealed class TapWire : IEthernetWire, IDisposable
{
    // <linux/if_tun.h>
    private const ulong TUNSETIFF = 0x400454ca;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;
    private const int O_RDWR = 2;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;

    private readonly int _fd;
    private readonly byte[] _buffer = new byte[16384];
    private long _written;
    private long _read;

    /// <summary>Creates (or attaches to) TAP interface <paramref name="name"/>.</summary>
    public TapWire(string name)
    {
        if (name.Length >= 16)
            throw new ArgumentException("interface names are at most 15 characters", nameof(name));
        _fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (_fd < 0)
            throw new InvalidOperationException($"open /dev/net/tun failed: errno {Marshal.GetLastPInvokeError()}");
        // struct ifreq: 16-byte name, then ifr_flags (short) in the 24-byte union.
        var ifr = new byte[40];
        Encoding.ASCII.GetBytes(name, ifr);
        BitConverter.TryWriteBytes(ifr.AsSpan(16), (short)(IFF_TAP | IFF_NO_PI));
        if (ioctl(_fd, TUNSETIFF, ifr) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            close(_fd);
            throw new InvalidOperationException($"TUNSETIFF {name} failed: errno {errno} (needs CAP_NET_ADMIN)");
        }
        Name = name;
    }

    /// <summary>The interface name.</summary>
    public string Name { get; }

    /// <summary>Frames written to the kernel.</summary>
    public long FramesToKernel => System.Threading.Interlocked.Read(ref _written);

    /// <summary>Frames read from the kernel.</summary>
    public long FramesFromKernel => System.Threading.Interlocked.Read(ref _read);

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        frame.CopyTo(_buffer);
        if (write(_fd, _buffer, frame.Length) == frame.Length)
            System.Threading.Interlocked.Increment(ref _written);
    }

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer)
    {
        nint n = read(_fd, _buffer, _buffer.Length);
        if (n <= 0)
            return 0; // EAGAIN: nothing from the kernel now
        _buffer.AsSpan(0, (int)n).CopyTo(buffer);
        System.Threading.Interlocked.Increment(ref _read);
        return (int)n;
    }

    /// <summary>Closes the TAP; the kernel removes the interface.</summary>
    public void Dispose() => close(_fd);

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int ioctl(int fd, ulong request, byte[] arg);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
