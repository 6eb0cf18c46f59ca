using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using PacketPlane.Net;

namespace PacketPlane.Interop;

/// <summary>
/// A kernel network interface seen through ioctls on a throw-away socket and /sys/class/net: index, MAC,
/// MTU, flags, link state, queue (channel) counts. Used by every driver bound to a netdev (af_packet, af_xdp,
/// tap) so each reads and reports interface state the same way.
/// </summary>
internal sealed unsafe class NetInterface
{
    // <linux/sockios.h>
    public const ulong SIOCGIFFLAGS = 0x8913;
    public const ulong SIOCSIFFLAGS = 0x8914;
    public const ulong SIOCGIFMTU = 0x8921;
    public const ulong SIOCSIFMTU = 0x8922;
    public const ulong SIOCGIFHWADDR = 0x8927;
    public const ulong SIOCSIFHWADDR = 0x8924;
    public const ulong SIOCETHTOOL = 0x8946;

    // <linux/if.h>
    public const short IFF_UP = 0x1;
    public const short IFF_RUNNING = 0x40;
    public const short IFF_PROMISC = 0x100;
    public const short IFF_ALLMULTI = 0x200;
    public const int IFNAMSIZ = 16;

    // <linux/ethtool.h>
    public const uint ETHTOOL_GCHANNELS = 0x3c;

    /// <summary>struct ifreq: a 16-byte name then a 24-byte union.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct ifreq
    {
        [FieldOffset(0)] public fixed byte ifr_name[IFNAMSIZ];
        [FieldOffset(16)] public short ifr_flags;
        [FieldOffset(16)] public int ifr_mtu;
        [FieldOffset(16)] public ushort sa_family; // ifr_hwaddr.sa_family
        [FieldOffset(18)] public fixed byte sa_data[14]; // ifr_hwaddr.sa_data
        [FieldOffset(16)] public void* ifr_data;
    }

    /// <summary>struct ethtool_channels.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ethtool_channels
    {
        public uint cmd;
        public uint max_rx;
        public uint max_tx;
        public uint max_other;
        public uint max_combined;
        public uint rx_count;
        public uint tx_count;
        public uint other_count;
        public uint combined_count;
    }

    private NetInterface(string name, int index)
    {
        Name = name;
        Index = index;
    }

    /// <summary>Interface name.</summary>
    public string Name { get; }

    /// <summary>Interface index.</summary>
    public int Index { get; }

    /// <summary>
    /// Looks up <paramref name="name"/>; throws <see cref="PacketPlaneException"/> naming the interfaces that do exist
    /// when it is missing.
    /// </summary>
    public static NetInterface Open(string name, string forDevice)
    {
        if (string.IsNullOrEmpty(name) || name.Length >= IFNAMSIZ)
            throw new Ethdev.DeviceArgumentException($"device '{forDevice}': iface='{name}' is not a valid interface name (1 to 15 characters)");
        uint index = Libc.if_nametoindex(name);
        if (index == 0)
            throw new PacketPlaneException($"device '{forDevice}': interface '{name}' does not exist in this network namespace. Interfaces here: {string.Join(", ", ListNames())}. Check the name with: ip link show");
        return new NetInterface(name, (int)index);
    }

    /// <summary>True when an interface of that name exists now.</summary>
    public static bool Exists(string name) => Libc.if_nametoindex(name) != 0;

    /// <summary>
    /// Interfaces that carry an IPv4 default route (destination and mask 0 in /proc/net/route): the machine's uplink,
    /// which tools and messages must never suggest taking from the kernel.
    /// </summary>
    public static System.Collections.Generic.HashSet<string> DefaultRouteInterfaces(string procNetRoute = "/proc/net/route")
    {
        var set = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(procNetRoute))
            return set;
        bool header = true;
        foreach (string line in File.ReadLines(procNetRoute))
        {
            if (header)
            {
                header = false;
                continue;
            }
            string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && f[1] == "00000000" && f[7] == "00000000")
                set.Add(f[0]);
        }
        return set;
    }

    /// <summary>Names of the interfaces in this namespace.</summary>
    public static string[] ListNames() =>
        Directory.Exists("/sys/class/net") ? Array.ConvertAll(Directory.GetDirectories("/sys/class/net"), d => Path.GetFileName(d)!) : [];

    /// <summary>Hardware address.</summary>
    public MacAddress MacAddress
    {
        get
        {
            ifreq req = Request();
            Ioctl(SIOCGIFHWADDR, &req, "read the MAC address");
            return new MacAddress(new ReadOnlySpan<byte>(req.sa_data, 6));
        }
    }

    /// <summary>Sets the hardware address (the interface may need to be down on some drivers).</summary>
    public void SetMacAddress(MacAddress mac)
    {
        ifreq req = Request();
        req.sa_family = 1; // ARPHRD_ETHER
        mac.CopyTo(new Span<byte>(req.sa_data, 6));
        Ioctl(SIOCSIFHWADDR, &req, "set the MAC address");
    }

    /// <summary>MTU.</summary>
    public int Mtu
    {
        get
        {
            ifreq req = Request();
            Ioctl(SIOCGIFMTU, &req, "read the MTU");
            return req.ifr_mtu;
        }
        set
        {
            ifreq req = Request();
            req.ifr_mtu = value;
            Ioctl(SIOCSIFMTU, &req, $"set the MTU to {value}");
        }
    }

    /// <summary>Interface flags (IFF_*).</summary>
    public short Flags
    {
        get
        {
            ifreq req = Request();
            Ioctl(SIOCGIFFLAGS, &req, "read the interface flags");
            return req.ifr_flags;
        }
    }

    /// <summary>Sets or clears flag bits (IFF_UP, IFF_PROMISC, IFF_ALLMULTI).</summary>
    public void SetFlag(short flag, bool on)
    {
        ifreq req = Request();
        Ioctl(SIOCGIFFLAGS, &req, "read the interface flags");
        req.ifr_flags = on ? (short)(req.ifr_flags | flag) : (short)(req.ifr_flags & ~flag);
        Ioctl(SIOCSIFFLAGS, &req, "set the interface flags");
    }

    /// <summary>True when the interface still exists.</summary>
    public bool IsPresent => Libc.if_nametoindex(Name) == (uint)Index;

    /// <summary>Link state from /sys/class/net (operstate and speed); down when the interface has gone.</summary>
    public Ethdev.LinkStatus Link
    {
        get
        {
            if (!IsPresent)
                return new Ethdev.LinkStatus(false, 0);
            string dir = $"/sys/class/net/{Name}";
            string oper = ReadSys(Path.Combine(dir, "operstate")) ?? "unknown";
            bool up = oper == "up" || (oper == "unknown" && (Flags & IFF_RUNNING) != 0);
            uint speed = uint.TryParse(ReadSys(Path.Combine(dir, "speed")), NumberStyles.None, CultureInfo.InvariantCulture, out uint s) ? s : 0;
            // Virtual interfaces (veth, tap) report speed 10000 or nothing; DPDK's software PMDs report 10G too.
            return new Ethdev.LinkStatus(up, speed == 0 ? 10_000 : speed);
        }
    }

    /// <summary>
    /// Queue counts from ETHTOOL_GCHANNELS: (max, current) of combined or RX channels; falls back to the
    /// number of rx-N queues in sysfs (veth answers EOPNOTSUPP on older kernels).
    /// </summary>
    public (int Max, int Current) RxChannels
    {
        get
        {
            ethtool_channels ch = default;
            ch.cmd = ETHTOOL_GCHANNELS;
            ifreq req = Request();
            req.ifr_data = &ch;
            if (TryIoctl(SIOCETHTOOL, &req))
            {
                int max = (int)Math.Max(ch.max_combined, ch.max_rx);
                int cur = (int)Math.Max(ch.combined_count, ch.rx_count);
                if (max > 0)
                    return (max, Math.Max(cur, 1));
            }
            string queues = $"/sys/class/net/{Name}/queues";
            int n = Directory.Exists(queues) ? Directory.GetDirectories(queues, "rx-*").Length : 1;
            return (Math.Max(n, 1), Math.Max(n, 1));
        }
    }

    private ifreq Request()
    {
        ifreq req = default;
        byte[] bytes = Encoding.ASCII.GetBytes(Name);
        for (int i = 0; i < bytes.Length && i < IFNAMSIZ - 1; i++)
            req.ifr_name[i] = bytes[i];
        return req;
    }

    private void Ioctl(ulong request, ifreq* req, string what)
    {
        if (!TryIoctl(request, req))
        {
            int errno = Libc.LastErrno;
            string hint = errno == Libc.EPERM ? " (needs CAP_NET_ADMIN: run as root or grant the capability)" : "";
            throw new PacketPlaneException($"interface {Name}: could not {what}: {Libc.Describe(errno)}{hint}");
        }
    }

    private static bool TryIoctl(ulong request, ifreq* req)
    {
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            return false;
        try
        {
            return Libc.ioctl(fd, request, req) == 0;
        }
        finally
        {
            // close() would overwrite errno; keep the ioctl's for the caller.
            int errno = Marshal.GetLastPInvokeError();
            Libc.close(fd);
            Marshal.SetLastPInvokeError(errno);
        }
    }

    private static string? ReadSys(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
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
}
