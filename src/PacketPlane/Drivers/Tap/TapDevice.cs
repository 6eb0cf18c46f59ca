using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Interop;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Tap;

/// <summary>
/// A net_tap port: a multi-queue TAP interface, one /dev/net/tun file per queue pair. The kernel side sees
/// exactly the frames the port sends, as frames received on the interface, and the port receives what the
/// kernel sends out of it. Start brings the interface up and Stop takes it down, as DPDK's tap does; the
/// interface goes away at Close unless persist=1.
/// </summary>
internal sealed class TapDevice : EthDevice
{
    private readonly ILogger _log = Log.For("PacketPlane.Drivers.Tap");
    private readonly List<int> _fds = [];
    private readonly NetInterface _iface;
    private TapRxQueue?[] _rx = [];
    private TapTxQueue?[] _tx = [];
    private MacAddress _mac;
    private int _mtu;

    public TapDevice(string name, TapOptions options) : base(name)
    {
        bool existed = !options.Interface.Contains('%', StringComparison.Ordinal) && NetInterface.Exists(options.Interface);
        (int fd, string ifname) = TunFile.Open(name, options.Interface);
        _fds.Add(fd);
        try
        {
            InterfaceName = ifname;
            if (options.Persist)
                TunFile.SetPersist(fd, true, name, ifname);
            _iface = NetInterface.Open(ifname, name);
            if (options.Mac is MacAddress mac)
                _iface.SetMacAddress(mac);
            _mac = _iface.MacAddress;
            _mtu = _iface.Mtu;
        }
        catch
        {
            CloseFiles();
            throw;
        }
        Info = new DevInfo
        {
            DriverName = TapDriver.DriverName,
            InterfaceIndex = _iface.Index,
            MaxRxQueues = Libc.MAX_TAP_QUEUES,
            MaxTxQueues = Libc.MAX_TAP_QUEUES,
            MaxRxPacketLength = ushort.MaxValue,
            MinMtu = 68,
            MaxMtu = ushort.MaxValue - 14,
            RxOffloadCapabilities = RxOffloads.Scatter,
            TxOffloadCapabilities = TxOffloads.MultiSegs,
            Mode = $"TAP interface {ifname} via {Libc.TunDevicePath} ({(existed ? "attached to an existing interface" : "created")}" +
                $"{(options.Persist ? ", persistent" : "")}): one queue file per queue pair, readv into mbufs, write/writev out",
        };
        _log.LogInformation("{Device}: TAP interface {Iface} {How}, MAC {Mac}", name, ifname, existed ? "attached" : "created", _mac);
    }

    public override DevInfo Info { get; }

    /// <summary>The kernel interface's name (dtap0 when iface= was not given).</summary>
    public string InterfaceName { get; }

    /// <summary>The queue files, for tests and diagnostics: queue pair q uses file q.</summary>
    internal IReadOnlyList<int> QueueFiles => _fds;

    public override MacAddress MacAddress
    {
        get
        {
            try
            {
                _mac = _iface.MacAddress;
            }
            catch (PacketPlaneException)
            {
            }
            return _mac;
        }
    }

    public override void SetMacAddress(MacAddress mac)
    {
        _iface.SetMacAddress(mac);
        _mac = mac;
    }

    public override int Mtu
    {
        get
        {
            try
            {
                _mtu = _iface.Mtu;
            }
            catch (PacketPlaneException)
            {
            }
            return _mtu;
        }
        protected set => _mtu = value;
    }

    public override void SetMtu(int mtu)
    {
        _iface.Mtu = mtu;
        _mtu = mtu;
        foreach (TapRxQueue? q in _rx)
            q?.SetMaxFrame(MaxFrame(mtu));
    }

    /// <summary>From the interface: up once started (IFF_UP) with a queue attached (carrier); down when removed.</summary>
    public override LinkStatus Link
    {
        get
        {
            try
            {
                return _iface.Link;
            }
            catch (PacketPlaneException)
            {
                return new LinkStatus(false, 0);
            }
        }
    }

    /// <summary>The interface's IFF_PROMISC flag.</summary>
    public override bool Promiscuous
    {
        get => HasFlag(NetInterface.IFF_PROMISC);
        set => _iface.SetFlag(NetInterface.IFF_PROMISC, value);
    }

    /// <summary>The interface's IFF_ALLMULTI flag.</summary>
    public override bool AllMulticast
    {
        get => HasFlag(NetInterface.IFF_ALLMULTI);
        set => _iface.SetFlag(NetInterface.IFF_ALLMULTI, value);
    }

    /// <summary>
    /// One queue file per RX queue (at least one). TX queue q writes through file q modulo that count: any file
    /// injects into the same interface, and a file nobody reads would only collect the kernel's frames.
    /// </summary>
    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        int files = Math.Max(rxQueues, 1);
        while (_fds.Count < files)
            _fds.Add(TunFile.Open(Name, InterfaceName).Fd);
        while (_fds.Count > files)
        {
            Libc.close(_fds[^1]);
            _fds.RemoveAt(_fds.Count - 1);
        }
        _rx = new TapRxQueue?[rxQueues];
        _tx = new TapTxQueue?[txQueues];
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        int room = pool.DataRoomSize - pool.Headroom;
        if ((long)room * TapRxQueue.MaxSegments < MaxFrame(Info.MaxMtu) && room < 1024)
            throw new EthDevException($"{Name}: RX queue {queueId}: pool '{pool.Name}' buffers hold only {room} data bytes; use buffers of at least 1024 bytes " +
                $"(MbufPool.DefaultDataRoomSize gives 2048)");
        var q = new TapRxQueue(portId, queueId, pool, _fds[queueId]);
        q.SetMaxFrame(MaxFrame(Mtu));
        _rx[queueId] = q;
        return q;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        var q = new TapTxQueue(portId, queueId, _fds[queueId % _fds.Count]);
        _tx[queueId] = q;
        return q;
    }

    public override void Start()
    {
        int mtu = Mtu;
        foreach (TapRxQueue? q in _rx)
            q?.SetMaxFrame(MaxFrame(mtu));
        // What the kernel queued while the port was stopped is stale: a NIC would not deliver it either.
        foreach (int fd in _fds)
            Drain(fd);
        if (!HasFlag(NetInterface.IFF_UP))
            _iface.SetFlag(NetInterface.IFF_UP, true);
    }

    public override void Stop()
    {
        try
        {
            if (_iface.IsPresent)
                _iface.SetFlag(NetInterface.IFF_UP, false);
        }
        catch (PacketPlaneException e)
        {
            _log.LogWarning("{Device}: could not take {Iface} down: {Error}", Name, InterfaceName, e.Message);
        }
    }

    public override void Close() => CloseFiles();

    public override IEnumerable<XStat> XStats
    {
        get
        {
            var list = new List<XStat>();
            for (int q = 0; q < _rx.Length; q++)
            {
                list.Add(new($"rx_q{q}_oversize_frames", _rx[q]?.Oversize ?? 0));
                list.Add(new($"rx_q{q}_armed_mbufs", (ulong)(_rx[q]?.Armed ?? 0)));
            }
            return list;
        }
    }

    public override void ResetStats()
    {
        foreach (TapRxQueue? q in _rx)
        {
            if (q is not null)
                q.Oversize = 0;
        }
    }

    /// <summary>Largest frame for <paramref name="mtu"/>: Ethernet header plus one VLAN tag.</summary>
    private static int MaxFrame(int mtu) => mtu + 14 + 4;

    private bool HasFlag(short flag)
    {
        try
        {
            return (_iface.Flags & flag) != 0;
        }
        catch (PacketPlaneException)
        {
            return false;
        }
    }

    private static unsafe void Drain(int fd)
    {
        byte* scratch = stackalloc byte[2048];
        // Only to discard: tun drops whatever part of a frame does not fit the buffer, so 2 KiB reads do.
        for (int i = 0; i < 100_000 && Libc.read(fd, scratch, 2048) > 0; i++)
        {
        }
    }

    private void CloseFiles()
    {
        foreach (int fd in _fds)
            Libc.close(fd);
        _fds.Clear();
    }
}
