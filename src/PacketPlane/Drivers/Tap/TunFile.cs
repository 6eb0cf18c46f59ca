using System;
using System.Globalization;
using System.IO;
using System.Text;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Tap;

/// <summary>
/// Opens one queue of a multi-queue TAP interface: a /dev/net/tun file attached with TUNSETIFF
/// (IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE; Documentation/networking/tuntap.rst, "Multiqueue tuntap interface").
/// The first open of a new name creates the interface; every further open of the same name adds a queue.
/// Control path only.
/// </summary>
internal static unsafe class TunFile
{
    /// <summary>
    /// Opens a non-blocking queue file on <paramref name="name"/> (a name with %d lets the kernel pick the
    /// number); returns the fd and the interface's actual name.
    /// </summary>
    public static (int Fd, string Name) Open(string device, string name)
    {
        int fd = Libc.open(Libc.TunDevicePath, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
            throw OpenError(device, Libc.LastErrno);
        NetInterface.ifreq req = default;
        byte[] bytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i < bytes.Length && i < NetInterface.IFNAMSIZ - 1; i++)
            req.ifr_name[i] = bytes[i];
        req.ifr_flags = Libc.IFF_TAP | Libc.IFF_NO_PI | Libc.IFF_MULTI_QUEUE;
        if (Libc.ioctl(fd, Libc.TUNSETIFF, &req) != 0)
        {
            int errno = Libc.LastErrno;
            Libc.close(fd);
            throw SetIffError(device, name, errno);
        }
        return (fd, ReadName(req));
    }

    /// <summary>Keeps the interface after the last queue file closes (TUNSETPERSIST), or stops doing so.</summary>
    public static void SetPersist(int fd, bool persist, string device, string name)
    {
        if (Libc.ioctl(fd, Libc.TUNSETPERSIST, persist ? 1 : 0) != 0)
        {
            int errno = Libc.LastErrno;
            string hint = errno == Libc.EPERM ? " (needs CAP_NET_ADMIN)" : "";
            throw new PacketPlaneException($"device '{device}': making {name} {(persist ? "" : "non-")}persistent (TUNSETPERSIST) failed: {Libc.Describe(errno)}{hint}");
        }
    }

    /// <summary>TUN flags of an existing tun/tap interface from sysfs, or null when it is not one.</summary>
    public static int? ExistingTunFlags(string name)
    {
        try
        {
            string text = File.ReadAllText($"/sys/class/net/{name}/tun_flags").Trim();
            if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                text = text[2..];
            return int.Parse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string ReadName(NetInterface.ifreq req)
    {
        int len = 0;
        while (len < NetInterface.IFNAMSIZ && req.ifr_name[len] != 0)
            len++;
        return Encoding.ASCII.GetString(req.ifr_name, len);
    }

    private static PacketPlaneException OpenError(string device, int errno) => errno switch
    {
        Libc.ENOENT or Libc.ENODEV => new PacketPlaneException(
            $"device '{device}': {Libc.TunDevicePath} does not exist ({Libc.Describe(errno)}). Load the tun module (modprobe tun), " +
            $"or in a container pass the device in: --device {Libc.TunDevicePath}"),
        Libc.EACCES or Libc.EPERM => new PrivilegeException(
            $"device '{device}': opening {Libc.TunDevicePath} was refused ({Libc.Describe(errno)}). It is normally mode 0666 (ls -l {Libc.TunDevicePath}); " +
            $"in a container pass it in with --device {Libc.TunDevicePath}"),
        _ => new PacketPlaneException($"device '{device}': opening {Libc.TunDevicePath} failed: {Libc.Describe(errno)}"),
    };

    private static PacketPlaneException SetIffError(string device, string name, int errno)
    {
        if (errno == Libc.EPERM)
            return new PrivilegeException(
                $"device '{device}': creating or attaching TAP interface '{name}' (TUNSETIFF) was refused: net_tap needs CAP_NET_ADMIN. Run as root, " +
                "or grant it: sudo setcap cap_net_admin+ep $(readlink -f $(which dotnet)) (in a container: --cap-add NET_ADMIN --device /dev/net/tun). " +
                $"Without it, use a TAP made for your user beforehand: sudo ip tuntap add dev {name.Replace("%d", "0", StringComparison.Ordinal)} mode tap multi_queue user $USER");
        if (errno == Libc.EBUSY)
            return new PacketPlaneException($"device '{device}': TAP interface '{name}' is in use by another process (a single-queue TAP takes one file). Pick another iface= name");
        if (errno == Libc.EINVAL && !name.Contains('%', StringComparison.Ordinal) && NetInterface.Exists(name))
        {
            int? flags = ExistingTunFlags(name);
            string why = flags switch
            {
                null => "it exists and is not a TUN/TAP device",
                int f when (f & Libc.IFF_TAP) == 0 => "it exists as a TUN (layer 3) device, not a TAP",
                int f when (f & Libc.IFF_MULTI_QUEUE) == 0 => $"it exists as a single-queue TAP; net_tap needs a multi-queue one (ip link del {name}; ip tuntap add dev {name} mode tap multi_queue)",
                _ => "the kernel refused its flags",
            };
            return new PacketPlaneException($"device '{device}': cannot use interface '{name}': {why}. Pick another iface= name or remove it (ip link del {name})");
        }
        return new PacketPlaneException($"device '{device}': TUNSETIFF on '{name}' failed: {Libc.Describe(errno)}");
    }
}
