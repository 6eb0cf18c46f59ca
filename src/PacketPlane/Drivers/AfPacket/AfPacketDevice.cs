using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Interop;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// A net_af_packet port: one AF_PACKET socket with mmapped TPACKET_V2 RX and TX rings per queue pair, bound to a
/// kernel interface; several RX queues share the interface's traffic through a PACKET_FANOUT group. Sockets
/// are opened at Start and closed at Stop, so a port can be stopped, reconfigured and started again (DPDK's
/// af_packet closes them at stop and cannot restart).
/// </summary>
internal sealed class AfPacketDevice : EthDevice
{
    private readonly object _lock = new();
    private readonly AfPacketOptions _options;
    private readonly NetInterface _iface;
    private readonly ILogger _log = Log.For("PacketPlane.Drivers.AfPacket");
    private AfPacketRxQueue?[] _rx = [];
    private AfPacketTxQueue?[] _tx = [];
    private PacketSocket[] _sockets = [];
    private KernelStats[] _kernelStats = [];
    private bool _vlanStrip;
    private bool _started;
    private bool _promiscuous;
    private bool _allMulticast;
    private MacAddress _mac;
    private int _mtu;

    public AfPacketDevice(string name, AfPacketOptions options) : base(name)
    {
        _options = options;
        _iface = NetInterface.Open(options.Interface, name);
        _mac = _iface.MacAddress;
        _mtu = _iface.Mtu;
        Info = new DevInfo
        {
            DriverName = AfPacketDriver.DriverName,
            InterfaceIndex = _iface.Index,
            MaxRxQueues = options.QueuePairs,
            MaxTxQueues = options.QueuePairs,
            MaxRxPacketLength = options.MaxRxFrameLength,
            MinMtu = 68,
            MaxMtu = options.MaxMtu,
            RxOffloadCapabilities = RxOffloads.VlanStrip,
            TxOffloadCapabilities = TxOffloads.MultiSegs | TxOffloads.VlanInsert,
            Mode = $"AF_PACKET on {options.Interface}: TPACKET_V2 mmap rings of {options.FrameCount} x {options.FrameSize} B " +
                $"({options.BlockCount} blocks of {options.BlockSize} B) per direction, {options.QueuePairs} queue pair(s)" +
                (options.QueuePairs > 1 ? ", PACKET_FANOUT hash+rollover" : "") +
                (options.QdiscBypass ? ", qdisc bypass" : ", through the qdisc"),
        };
        ProbeRings();
        if (_mtu > options.MaxMtu)
            _log.LogWarning("{Device}: {Iface} has MTU {Mtu} but framesz={FrameSize} holds frames of MTU {Max} at most; larger frames are dropped and counted as rx errors. Raise framesz or lower the MTU",
                name, options.Interface, _mtu, options.FrameSize, options.MaxMtu);
    }

    public override DevInfo Info { get; }

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
                // The interface has gone: report the last address it had.
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
        foreach (AfPacketTxQueue? q in _tx)
            q?.SetMtu(mtu);
    }

    /// <summary>Up when started and the interface has carrier; down once the interface is removed.</summary>
    public override LinkStatus Link
    {
        get
        {
            if (!_started)
                return new LinkStatus(false, 0);
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

    /// <summary>Through a PACKET_MR_PROMISC membership on queue 0's socket (needs only CAP_NET_RAW; undone when the socket closes).</summary>
    public override bool Promiscuous
    {
        get => _promiscuous;
        set
        {
            lock (_lock)
            {
                if (_started && value != _promiscuous)
                    _sockets[0].SetMembership(Libc.PACKET_MR_PROMISC, value, _iface.Index, Name, _options.Interface);
                _promiscuous = value;
            }
        }
    }

    /// <summary>Through a PACKET_MR_ALLMULTI membership, like <see cref="Promiscuous"/>.</summary>
    public override bool AllMulticast
    {
        get => _allMulticast;
        set
        {
            lock (_lock)
            {
                if (_started && value != _allMulticast)
                    _sockets[0].SetMembership(Libc.PACKET_MR_ALLMULTI, value, _iface.Index, Name, _options.Interface);
                _allMulticast = value;
            }
        }
    }

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        _vlanStrip = (conf.RxOffloads & RxOffloads.VlanStrip) != 0;
        _rx = new AfPacketRxQueue?[rxQueues];
        _tx = new AfPacketTxQueue?[txQueues];
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        int room = pool.DataRoomSize - pool.Headroom;
        // A frame the ring holds whole, plus a VLAN tag put back, must fit one mbuf.
        int needed = _options.MaxRxFrameLength + 4;
        if (room < needed)
            throw new EthDevException($"{Name}: RX queue {queueId}: pool '{pool.Name}' buffers hold {room} data bytes, but framesz={_options.FrameSize} " +
                $"admits frames of up to {needed} bytes (VLAN tag included). Use a pool with dataRoomSize >= {needed + pool.Headroom}, or framesz <= {room - 4 + AfPacketOptions.RxMacOffset}");
        bool strip = _vlanStrip || (conf.Offloads & RxOffloads.VlanStrip) != 0;
        var q = new AfPacketRxQueue(portId, queueId, pool, strip);
        _rx[queueId] = q;
        return q;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        var q = new AfPacketTxQueue(portId, queueId, vlanInsert: true);
        _tx[queueId] = q;
        return q;
    }

    public override void Start()
    {
        lock (_lock)
        {
            int pairs = Math.Max(_rx.Length, _tx.Length);
            var sockets = new List<PacketSocket>(pairs);
            try
            {
                for (int q = 0; q < pairs; q++)
                    sockets.Add(PacketSocket.Open(Name, _options.Interface, _iface.Index, _options, receive: q < _rx.Length));
                if (_rx.Length > 1)
                    JoinFanout(sockets);
                // Frames that reached a socket before it joined the group may also have reached the group:
                // drop whatever the rings caught during set-up, so each frame after Start arrives once.
                foreach (PacketSocket s in sockets)
                    DiscardReceived(s);
                if (sockets.Count > 0 && _promiscuous)
                    sockets[0].SetMembership(Libc.PACKET_MR_PROMISC, true, _iface.Index, Name, _options.Interface);
                if (sockets.Count > 0 && _allMulticast)
                    sockets[0].SetMembership(Libc.PACKET_MR_ALLMULTI, true, _iface.Index, Name, _options.Interface);
            }
            catch
            {
                foreach (PacketSocket s in sockets)
                    s.Dispose();
                throw;
            }
            _sockets = sockets.ToArray();
            if (_kernelStats.Length < pairs)
                Array.Resize(ref _kernelStats, pairs);
            int mtu = Mtu;
            for (int q = 0; q < _rx.Length; q++)
                _rx[q]!.Attach(_sockets[q]);
            for (int q = 0; q < _tx.Length; q++)
                _tx[q]!.Attach(_sockets[q], _options, mtu);
            _started = true;
            if (!_iface.Link.IsUp)
                _log.LogWarning("{Device}: {Iface} is down; frames flow once it is up (ip link set {Iface} up)", Name, _options.Interface, _options.Interface);
        }
    }

    public override void Stop()
    {
        lock (_lock)
        {
            HarvestKernelStats();
            FoldRolloverStats();
            foreach (AfPacketRxQueue? q in _rx)
                q?.Detach();
            foreach (AfPacketTxQueue? q in _tx)
                q?.Detach();
            foreach (PacketSocket s in _sockets)
                s.Dispose();
            _sockets = [];
            _started = false;
        }
    }

    public override void Close()
    {
        if (_started)
            Stop();
    }

    /// <summary>tp_drops of every socket: frames the kernel had no ring frame for (imissed).</summary>
    public override DeviceCounters DeviceCounters
    {
        get
        {
            lock (_lock)
            {
                HarvestKernelStats();
                ulong drops = 0;
                foreach (KernelStats s in _kernelStats)
                    drops += s.Drops;
                return new DeviceCounters(InMissed: drops);
            }
        }
    }

    public override IEnumerable<XStat> XStats
    {
        get
        {
            lock (_lock)
            {
                HarvestKernelStats();
                var list = new List<XStat>();
                for (int q = 0; q < _rx.Length; q++)
                {
                    KernelStats k = q < _kernelStats.Length ? _kernelStats[q] : default;
                    list.Add(new($"rx_q{q}_kernel_packets", k.Packets));
                    list.Add(new($"rx_q{q}_kernel_drops", k.Drops));
                    list.Add(new($"rx_q{q}_truncated_frames", _rx[q]?.Truncated ?? 0));
                    list.Add(new($"rx_q{q}_oversize_frames", _rx[q]?.Oversize ?? 0));
                }
                for (int q = 0; q < _tx.Length; q++)
                {
                    AfPacketTxQueue? t = _tx[q];
                    list.Add(new($"tx_q{q}_ring_full", t?.RingFull ?? 0));
                    list.Add(new($"tx_q{q}_frames_pending", (ulong)(t?.PendingFrames ?? 0)));
                    list.Add(new($"tx_q{q}_oversize_dropped", t?.Oversize ?? 0));
                    list.Add(new($"tx_q{q}_kick_errors", t?.KickErrors ?? 0));
                }
                if (_rx.Length > 1)
                {
                    ulong all = 0, huge = 0, failed = 0;
                    foreach (KernelStats k in _kernelStats)
                    {
                        all += k.RolloverAll;
                        huge += k.RolloverHuge;
                        failed += k.RolloverFailed;
                    }
                    list.Add(new("fanout_rollover_all", all));
                    list.Add(new("fanout_rollover_huge", huge));
                    list.Add(new("fanout_rollover_failed", failed));
                }
                return list;
            }
        }
    }

    public override void ResetStats()
    {
        lock (_lock)
        {
            HarvestKernelStats();
            for (int q = 0; q < _kernelStats.Length; q++)
            {
                ref KernelStats k = ref _kernelStats[q];
                k.Packets = k.Drops = 0;
                k.RolloverBase.tp_all = unchecked(0 - k.RolloverLive.tp_all);
                k.RolloverBase.tp_huge = unchecked(0 - k.RolloverLive.tp_huge);
                k.RolloverBase.tp_failed = unchecked(0 - k.RolloverLive.tp_failed);
            }
            foreach (AfPacketRxQueue? q in _rx)
            {
                if (q is not null)
                    q.Truncated = q.Oversize = 0;
            }
            foreach (AfPacketTxQueue? q in _tx)
            {
                if (q is not null)
                    q.RingFull = q.Oversize = q.KickErrors = 0;
            }
        }
    }

    /// <summary>
    /// Opens and drops one socket with the requested rings, so a missing privilege or a ring the kernel refuses
    /// fails when the port is created (as in DPDK), not at Start.
    /// </summary>
    private void ProbeRings()
    {
        using PacketSocket probe = PacketSocket.Open(Name, _options.Interface, _iface.Index, _options, receive: true, bind: false);
    }

    private void JoinFanout(List<PacketSocket> sockets)
    {
        int group = sockets[0].JoinFanout(null, Name, _options.Interface);
        for (int q = 1; q < _rx.Length; q++)
            sockets[q].JoinFanout(group, Name, _options.Interface);
        _log.LogInformation("{Device}: {Queues} RX queues share {Iface} through PACKET_FANOUT group {Group}", Name, _rx.Length, _options.Interface, group);
    }

    private static unsafe void DiscardReceived(PacketSocket socket)
    {
        nint* frames = socket.RxFrames;
        // Before any queue reads the ring; release as in AfPacketRxQueue.CopyOut (pairs with the kernel's status read).
        for (int i = 0; i < socket.RxFrameCount; i++)
            Volatile.Write(ref ((Libc.tpacket2_hdr*)frames[i])->tp_status, Libc.TP_STATUS_KERNEL);
        socket.ReadStatistics();
    }

    /// <summary>Adds the kernel's per-socket counters (reset on every read) into running totals. Under _lock.</summary>
    private void HarvestKernelStats()
    {
        for (int q = 0; q < _sockets.Length && q < _rx.Length; q++)
        {
            (uint packets, uint drops) = _sockets[q].ReadStatistics();
            ref KernelStats k = ref _kernelStats[q];
            k.Packets += packets;
            k.Drops += drops;
            // Rollover counters are cumulative per socket, not reset on read: keep the latest reading.
            if (_rx.Length > 1)
                k.RolloverLive = _sockets[q].ReadRolloverStatistics();
        }
    }

    /// <summary>Before the sockets close: fold their cumulative rollover counters into the totals.</summary>
    private void FoldRolloverStats()
    {
        for (int q = 0; q < _kernelStats.Length; q++)
        {
            ref KernelStats k = ref _kernelStats[q];
            k.RolloverBase.tp_all += k.RolloverLive.tp_all;
            k.RolloverBase.tp_huge += k.RolloverLive.tp_huge;
            k.RolloverBase.tp_failed += k.RolloverLive.tp_failed;
            k.RolloverLive = default;
        }
    }

    /// <summary>Kernel counters of one socket, kept across its close.</summary>
    private struct KernelStats
    {
        public ulong Packets;
        public ulong Drops;
        // Totals are Base + Live; after a reset Base is minus Live (wrapping), so the sum restarts at 0.
        public Libc.tpacket_rollover_stats RolloverBase;
        public Libc.tpacket_rollover_stats RolloverLive;

        public readonly ulong RolloverAll => unchecked(RolloverBase.tp_all + RolloverLive.tp_all);
        public readonly ulong RolloverHuge => unchecked(RolloverBase.tp_huge + RolloverLive.tp_huge);
        public readonly ulong RolloverFailed => unchecked(RolloverBase.tp_failed + RolloverLive.tp_failed);
    }
}
