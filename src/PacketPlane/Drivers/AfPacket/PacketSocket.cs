using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// One AF_PACKET socket of a queue pair: TPACKET_V2 RX and TX rings mapped into this process (RX ring first,
/// then TX ring, as packet_mmap lays them out), bound to one interface. Control path only; the queues read
/// the frame tables it builds.
/// </summary>
/// <remarks>
/// TPACKET_V2 rather than V3 for RX: V3 hands whole blocks to user space and retires a partly filled block
/// only when its timer (tp_retire_blk_tov, 1 ms at best) fires, so a poll-mode port would add up to a
/// millisecond of latency at low rates, and a block can only be returned once every packet in it has been
/// copied. V2 hands over and takes back single frames, which matches a burst API, and it is what DPDK's
/// af_packet uses, so the two compare like for like. V3's advantage (variable-size packing) matters for
/// capture, not for forwarding, where frames are copied into mbufs anyway.
/// </remarks>
internal sealed unsafe class PacketSocket : IDisposable
{
    private readonly nint[] _rxFrames;
    private readonly nint[] _txFrames;
    private nint _map;
    private nuint _mapLength;

    private PacketSocket(int fd, nint map, nuint mapLength, nint[] rxFrames, nint[] txFrames)
    {
        Fd = fd;
        _map = map;
        _mapLength = mapLength;
        _rxFrames = rxFrames;
        _txFrames = txFrames;
    }

    /// <summary>The socket.</summary>
    public int Fd { get; private set; }

    /// <summary>Addresses of the RX ring frames, in ring order (empty for a TX-only socket). Pinned.</summary>
    public nint* RxFrames => _rxFrames.Length == 0 ? null : (nint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_rxFrames));

    /// <summary>RX ring frames.</summary>
    public int RxFrameCount => _rxFrames.Length;

    /// <summary>Addresses of the TX ring frames, in ring order. Pinned.</summary>
    public nint* TxFrames => (nint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_txFrames));

    /// <summary>TX ring frames.</summary>
    public int TxFrameCount => _txFrames.Length;

    /// <summary>
    /// Opens a socket with rings on <paramref name="ifindex"/>. A receiving socket is bound to ETH_P_ALL; a
    /// transmit-only one is bound with protocol 0, which gives it the device for sending but no receive hook,
    /// so it never collects copies of the traffic. With <paramref name="bind"/> false the socket is left unbound
    /// (a probe of privileges and ring geometry that must not see traffic).
    /// </summary>
    public static PacketSocket Open(string device, string iface, int ifindex, AfPacketOptions o, bool receive, bool bind = true)
    {
        // Protocol 0 at creation: the socket hears nothing until bind() below names the interface, so no frame
        // of another interface lands in the ring in between (DPDK opens with ETH_P_ALL and has that window).
        int fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw SocketError(device, Libc.LastErrno);
        nint map = Libc.MAP_FAILED;
        nuint length = 0;
        try
        {
            SetInt(fd, Libc.PACKET_VERSION, Libc.TPACKET_V2, device, "PACKET_VERSION TPACKET_V2");
            // Frames the kernel cannot send are marked available again instead of stopping the TX ring.
            SetInt(fd, Libc.PACKET_LOSS, 1, device, "PACKET_LOSS");
            if (o.QdiscBypass)
                SetInt(fd, Libc.PACKET_QDISC_BYPASS, 1, device, "PACKET_QDISC_BYPASS");
            Libc.tpacket_req req = o.Request;
            if (receive)
                SetRing(fd, Libc.PACKET_RX_RING, req, device, o);
            SetRing(fd, Libc.PACKET_TX_RING, req, device, o);
            length = (nuint)(o.RingBytes * (receive ? 2 : 1));
            map = Libc.mmap(0, length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            if (map == Libc.MAP_FAILED)
                throw new PacketPlaneException($"device '{device}': mapping the {length >> 20} MiB AF_PACKET rings failed: {Libc.Describe(Libc.LastErrno)}; lower framecnt or blocksz");
            nint[] rx = receive ? FrameTable(map, o) : [];
            nint[] tx = FrameTable(map + (receive ? (nint)o.RingBytes : 0), o);
            if (receive)
                IgnoreOutgoing(fd);
            if (bind)
                Bind(fd, ifindex, receive ? Libc.htons(Libc.ETH_P_ALL) : (ushort)0, device, iface);
            return new PacketSocket(fd, map, length, rx, tx);
        }
        catch
        {
            if (map != Libc.MAP_FAILED)
                Libc.munmap(map, length);
            Libc.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Joins (or, with <paramref name="groupId"/> null, creates) the PACKET_FANOUT group that spreads received
    /// frames over the queue pairs by flow hash; returns the group id. Each frame goes to exactly one member.
    /// </summary>
    /// <remarks>
    /// Mode PACKET_FANOUT_HASH with PACKET_FANOUT_FLAG_ROLLOVER (as DPDK: a full ring spills to another member
    /// instead of dropping) and PACKET_FANOUT_FLAG_IGNORE_OUTGOING (a port never receives what it sent, as a
    /// NIC). Not PACKET_FANOUT_FLAG_DEFRAG, which DPDK sets: it makes the kernel reassemble IPv4 fragments before
    /// delivery, so the port would receive a frame that never was on the wire (and one larger than framesz);
    /// the flow hash already keeps the fragments of one datagram together, since it hashes fragments on
    /// addresses only. The id comes from the kernel (PACKET_FANOUT_FLAG_UNIQUEID), so two ports or two
    /// processes on one interface can never join each other's group by accident, as (pid ^ ifindex) ids can.
    /// </remarks>
    public int JoinFanout(int? groupId, string device, string iface)
    {
        int flags = Libc.PACKET_FANOUT_FLAG_ROLLOVER | Libc.PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
        if (groupId is int id)
        {
            if (TrySetFanout(id, flags, out int errno) || TrySetFanout(id, flags & ~Libc.PACKET_FANOUT_FLAG_IGNORE_OUTGOING, out errno))
                return id;
            throw FanoutError(device, iface, errno);
        }
        if (!TrySetFanout(0, flags | Libc.PACKET_FANOUT_FLAG_UNIQUEID, out int err)
            && !TrySetFanout(0, (flags & ~Libc.PACKET_FANOUT_FLAG_IGNORE_OUTGOING) | Libc.PACKET_FANOUT_FLAG_UNIQUEID, out err))
            throw FanoutError(device, iface, err);
        int value = 0;
        uint len = sizeof(int);
        if (Libc.getsockopt(Fd, Libc.SOL_PACKET, Libc.PACKET_FANOUT, &value, &len) != 0)
            throw new PacketPlaneException($"device '{device}': reading the PACKET_FANOUT group id failed: {Libc.Describe(Libc.LastErrno)}");
        return value & 0xffff;
    }

    /// <summary>PACKET_STATISTICS: frames the socket received (drops included) and dropped since the last read. Reading resets them.</summary>
    public (uint Packets, uint Drops) ReadStatistics()
    {
        Libc.tpacket_stats st = default;
        uint len = (uint)sizeof(Libc.tpacket_stats);
        if (Fd < 0 || Libc.getsockopt(Fd, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, &st, &len) != 0)
            return (0, 0);
        return (st.tp_packets, st.tp_drops);
    }

    /// <summary>PACKET_ROLLOVER_STATS, or zeros when the socket is in no rollover group.</summary>
    public Libc.tpacket_rollover_stats ReadRolloverStatistics()
    {
        Libc.tpacket_rollover_stats st = default;
        uint len = (uint)sizeof(Libc.tpacket_rollover_stats);
        if (Fd < 0 || Libc.getsockopt(Fd, Libc.SOL_PACKET, Libc.PACKET_ROLLOVER_STATS, &st, &len) != 0)
            return default;
        return st;
    }

    /// <summary>
    /// Adds or drops a PACKET_MR_PROMISC / PACKET_MR_ALLMULTI membership. The kernel counts it on the device
    /// and drops it when the socket closes, so a crash never leaves the interface promiscuous.
    /// </summary>
    public void SetMembership(ushort type, bool on, int ifindex, string device, string iface)
    {
        Libc.packet_mreq mreq = default;
        mreq.mr_ifindex = ifindex;
        mreq.mr_type = type;
        int opt = on ? Libc.PACKET_ADD_MEMBERSHIP : Libc.PACKET_DROP_MEMBERSHIP;
        if (Libc.setsockopt(Fd, Libc.SOL_PACKET, opt, &mreq, (uint)sizeof(Libc.packet_mreq)) != 0)
        {
            string what = type == Libc.PACKET_MR_PROMISC ? "promiscuous" : "all-multicast";
            throw new PacketPlaneException($"device '{device}': could not turn {what} mode {(on ? "on" : "off")} on {iface}: {Libc.Describe(Libc.LastErrno)}");
        }
    }

    /// <summary>Unmaps the rings and closes the socket. Idempotent.</summary>
    public void Dispose()
    {
        if (_map != 0 && _map != Libc.MAP_FAILED)
            Libc.munmap(_map, _mapLength);
        _map = 0;
        _mapLength = 0;
        if (Fd >= 0)
            Libc.close(Fd);
        Fd = -1;
    }

    private bool TrySetFanout(int id, int flags, out int errno)
    {
        int arg = (id & 0xffff) | ((Libc.PACKET_FANOUT_HASH | flags) << 16);
        bool ok = Libc.setsockopt(Fd, Libc.SOL_PACKET, Libc.PACKET_FANOUT, &arg, sizeof(int)) == 0;
        errno = ok ? 0 : Libc.LastErrno;
        return ok;
    }

    /// <summary>
    /// Frame addresses: frames never span blocks, so when blocksz is not a multiple of framesz each block ends
    /// in unused bytes and frame i lives at block (i / per-block) plus its slot in that block.
    /// </summary>
    private static nint[] FrameTable(nint ring, AfPacketOptions o)
    {
        nint[] frames = GC.AllocateArray<nint>(o.FrameCount, pinned: true);
        int perBlock = o.FramesPerBlock;
        for (int i = 0; i < frames.Length; i++)
            frames[i] = ring + (nint)((long)(i / perBlock) * o.BlockSize + (long)(i % perBlock) * o.FrameSize);
        return frames;
    }

    private static void IgnoreOutgoing(int fd)
    {
        // A NIC's RX never sees the port's own TX; without this a socket also receives every frame the host
        // (or another queue) sends on the interface. Kernels before 4.20 lack it: the port still works.
        int one = 1;
        Libc.setsockopt(fd, Libc.SOL_PACKET, Libc.PACKET_IGNORE_OUTGOING, &one, sizeof(int));
    }

    private static void Bind(int fd, int ifindex, ushort protocol, string device, string iface)
    {
        Libc.sockaddr_ll sll = default;
        sll.sll_family = Libc.AF_PACKET;
        sll.sll_protocol = protocol;
        sll.sll_ifindex = ifindex;
        if (Libc.bind(fd, &sll, (uint)sizeof(Libc.sockaddr_ll)) != 0)
        {
            int errno = Libc.LastErrno;
            string hint = errno == Libc.ENODEV ? $"; interface '{iface}' no longer exists (check with: ip link show)" : "";
            throw new PacketPlaneException($"device '{device}': binding the AF_PACKET socket to {iface} failed: {Libc.Describe(errno)}{hint}");
        }
    }

    private static void SetInt(int fd, int option, int value, string device, string what)
    {
        if (Libc.setsockopt(fd, Libc.SOL_PACKET, option, &value, sizeof(int)) != 0)
            throw new PacketPlaneException($"device '{device}': setting {what} on the AF_PACKET socket failed: {Libc.Describe(Libc.LastErrno)}");
    }

    private static void SetRing(int fd, int option, Libc.tpacket_req req, string device, AfPacketOptions o)
    {
        if (Libc.setsockopt(fd, Libc.SOL_PACKET, option, &req, (uint)sizeof(Libc.tpacket_req)) == 0)
            return;
        int errno = Libc.LastErrno;
        string ring = option == Libc.PACKET_RX_RING ? "PACKET_RX_RING" : "PACKET_TX_RING";
        string hint = errno switch
        {
            Libc.ENOMEM => $"the kernel could not allocate {o.RingBytes >> 20} MiB for the ring; lower framecnt (now {o.FrameCount}) or blocksz (now {o.BlockSize})",
            Libc.EINVAL => $"the kernel refused the geometry blocksz={o.BlockSize} framesz={o.FrameSize} framecnt={o.FrameCount} " +
                $"({o.BlockCount} blocks of {o.FramesPerBlock} frames); blocksz must be a page multiple, framesz a multiple of {Libc.TPACKET_ALIGNMENT}, framecnt a multiple of frames per block",
            _ => "",
        };
        throw new PacketPlaneException($"device '{device}': {ring} failed: {Libc.Describe(errno)}{(hint.Length > 0 ? "; " + hint : "")}");
    }

    private static PacketPlaneException SocketError(string device, int errno) => errno switch
    {
        Libc.EPERM or Libc.EACCES => new PrivilegeException(
            $"device '{device}': opening an AF_PACKET socket was refused ({Libc.Describe(errno)}): net_af_packet needs CAP_NET_RAW. " +
            "Run as root, or grant it: sudo setcap cap_net_raw+ep $(readlink -f $(which dotnet)) (in a container: --cap-add NET_RAW)"),
        Libc.EAFNOSUPPORT => new PacketPlaneException($"device '{device}': this kernel has no AF_PACKET support (CONFIG_PACKET)"),
        _ => new PacketPlaneException($"device '{device}': opening an AF_PACKET socket failed: {Libc.Describe(errno)}"),
    };

    private static PacketPlaneException FanoutError(string device, string iface, int errno)
    {
        string hint = errno == Libc.EINVAL
            ? $"; some kernels join only sockets of a running interface: is {iface} up? (ip link set {iface} up)"
            : "";
        return new PacketPlaneException($"device '{device}': joining the PACKET_FANOUT group that spreads {iface}'s traffic over the queue pairs failed: {Libc.Describe(errno)}{hint}");
    }
}
