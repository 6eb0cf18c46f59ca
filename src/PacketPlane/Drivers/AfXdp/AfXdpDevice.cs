using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// A <c>net_af_xdp</c> port: one AF_XDP socket per queue on interface queues start_queue .. start_queue +
/// queue_count - 1, each with its UMEM over the RX queue's mbuf pool, and the XDP program that steers each queue's
/// frames to its socket. Checks at creation (interface, privileges, AF_XDP in the kernel, queue range, a foreign
/// XDP program) fail with the fix in the message.
/// </summary>
internal sealed class AfXdpDevice : EthDevice
{
    /// <summary>Frame bytes reported as MTU overhead: Ethernet header and one VLAN tag (AF_XDP frames carry no CRC).</summary>
    private const int L2Overhead = 14 + 4;

    private readonly AfXdpOptions _options;
    private readonly NetInterface _iface;
    private readonly BpfElfObject? _program;
    private readonly int _mapEntries;
    private readonly ILogger _log;
    private XskSocket?[] _sockets = [];
    private XskRxQueue?[] _rx = [];
    private XskTxQueue?[] _tx = [];
    private XdpAttachment? _attachment;

    public AfXdpDevice(string name, AfXdpOptions options) : base(name)
    {
        _options = options;
        _log = Log.For("PacketPlane.Drivers.AfXdp");
        _iface = NetInterface.Open(options.Interface, name);
        RequirePrivileges();
        XskSocket.Probe(name);
        _mapEntries = CheckQueues();
        _program = options.XdpProgram is null ? null : LoadProgramFile(options.XdpProgram);
        XdpAttachment.RequireNoForeignProgram(_iface, name);
    }

    private void RequirePrivileges()
    {
        var needed = new List<int> { Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW };
        // CAP_BPF exists since Linux 5.8; CAP_SYS_ADMIN covers bpf() on every kernel.
        if (!Capabilities.Has(Capabilities.CAP_SYS_ADMIN))
            needed.Add(Capabilities.CAP_BPF);
        Capabilities.Require($"{Name} (AF_XDP on {_iface.Name}: an XDP socket, a BPF program and its attachment)", needed.ToArray());
    }

    private int CheckQueues()
    {
        (int max, int current) = _iface.RxChannels;
        int last = _options.StartQueue + _options.QueueCount;
        if (last > current)
        {
            throw new DeviceArgumentException(
                $"device '{Name}': start_queue={_options.StartQueue},queue_count={_options.QueueCount} asks for queues {_options.StartQueue}..{last - 1} of " +
                $"{_iface.Name}, which has {current} RX channel(s) (queues 0..{current - 1}; ethtool -l {_iface.Name}). Use queues in that range, " +
                $"or add channels: ethtool -L {_iface.Name} combined {last}{(max < last ? $" (the device allows at most {max})" : "")} " +
                $"(a veth needs to be created with numrxqueues {last} numtxqueues {last})");
        }
        return Math.Max(current, last);
    }

    private BpfElfObject LoadProgramFile(string path)
    {
        BpfElfObject obj;
        try
        {
            obj = BpfElfObject.Load(path);
        }
        catch (PacketPlaneException e)
        {
            throw new DeviceArgumentException($"device '{Name}': {e.Message}");
        }
        if (!obj.UsesXskMap)
            throw new DeviceArgumentException($"device '{Name}': xdp_prog={path}: the program never uses a map named xsks_map, so no frame could reach " +
                "the AF_XDP sockets. Redirect with bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS)");
        _log.LogInformation("{Device}: xdp_prog={Path}: program in section {Section}, {Count} instructions, maps: {Maps}", Name, path,
            obj.SectionName, obj.Instructions.Length, string.Join(", ", obj.Maps.Select(m => m.Symbol).Distinct()));
        return obj;
    }

    public override DevInfo Info
    {
        get
        {
            int frame = MaxFrameLength;
            return new DevInfo
            {
                DriverName = "net_af_xdp",
                InterfaceIndex = _iface.Index,
                MaxRxQueues = _options.QueueCount,
                MaxTxQueues = _options.QueueCount,
                MaxRxPacketLength = frame,
                MinMtu = 68,
                MaxMtu = frame - L2Overhead,
                RxOffloadCapabilities = RxOffloads.None,
                // Chained mbufs are linearised into one UMEM frame on TX.
                TxOffloadCapabilities = TxOffloads.MultiSegs,
                RxDescriptorLimits = new DescriptorLimits(64, 16384, 1),
                TxDescriptorLimits = new DescriptorLimits(64, 16384, 1),
                Mode = DescribeMode(),
            };
        }
    }

    /// <summary>
    /// Largest frame: chunk - UMEM headroom - XDP_PACKET_HEADROOM for the pools in use, or for a default pool
    /// (2048 + 128 data room, 128 headroom: 1792) before any RX queue is set up.
    /// </summary>
    private int MaxFrameLength
    {
        get
        {
            int[] frames = _sockets.Where(s => s is not null).Select(s => s!.Layout.MaxFrameLength).ToArray();
            return frames.Length > 0 ? frames.Min() : MbufPool.DefaultDataRoomSize - Mbuf.DefaultHeadroom - Xsk.XDP_PACKET_HEADROOM;
        }
    }

    private string DescribeMode()
    {
        XskSocket[] live = _sockets.Where(s => s is { IsDisposed: false }).Select(s => s!).ToArray();
        string copy = live.Length == 0 ? "not set up" : live.All(s => s.ZeroCopy) ? "zero-copy" : live.Any(s => s.ZeroCopy) ? "mixed zero-copy/copy" : "copy";
        string refusal = live.Select(s => s.ZeroCopyRefusal).FirstOrDefault(r => r is not null) is string r ? $" (zero-copy {r})" : "";
        string xdp = _attachment is null ? "XDP program not attached" :
            $"XDP {_attachment.XdpMode} via {(_attachment.ViaNetlink ? "rtnetlink" : "bpf_link")}";
        string busy = _options.BusyBudget == 0 ? "busy poll off" : live.All(s => s.BusyBudget > 0) ? $"busy poll budget {_options.BusyBudget}" : "busy poll refused by the kernel";
        string shared = _options.SharedUmem ? ", shared UMEM" : "";
        return $"AF_XDP {copy} mode{refusal}, {xdp}, need_wakeup, {busy}{shared}";
    }

    public override MacAddress MacAddress => _iface.MacAddress;

    public override void SetMacAddress(MacAddress mac) => _iface.SetMacAddress(mac);

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        if (txQueues > rxQueues)
            throw new EthDevException($"{Name}: {txQueues} TX queues but {rxQueues} RX queues; each AF_XDP TX queue shares the socket of the RX queue " +
                "with the same number (as in DPDK), so configure at least as many RX queues as TX queues");
        _sockets = new XskSocket?[rxQueues];
        _rx = new XskRxQueue?[rxQueues];
        _tx = new XskTxQueue?[txQueues];
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        uint ring = BitOperations.RoundUpToPowerOf2((uint)descriptors);
        UmemLayout layout = UmemLayout.For(pool, Name);
        int ifQueue = _options.StartQueue + queueId;
        XskSocket socket = XskSocket.Open(Name, _iface, ifQueue, layout, ring, _options.BusyBudget, _options.SharedUmem, _log);
        var rxq = new XskRxQueue(portId, queueId, socket);
        try
        {
            socket.Bind(_options.ForceCopy);
            rxq.Prefill(ring, Name);
        }
        catch
        {
            rxq.Release();
            throw;
        }
        _sockets[queueId] = socket;
        _rx[queueId] = rxq;
        _log.LogInformation("{Device}: {Iface} queue {Queue}: AF_XDP socket bound in {Mode} mode{Why}; UMEM {Umem} pool '{Pool}' (chunk {Chunk}, headroom {Headroom}, " +
            "max frame {Frame}); rings RX/TX {Ring}, FILL/COMPLETION {Ring2}{Busy}",
            Name, _iface.Name, ifQueue, socket.ZeroCopy ? "zero-copy" : "copy",
            socket.ZeroCopyRefusal is null || socket.ZeroCopy ? "" : $" (zero-copy {socket.ZeroCopyRefusal})",
            socket.SharesUmem ? "shared with another socket over" : "over", pool.Name, layout.ChunkSize, layout.Headroom, layout.MaxFrameLength,
            ring, ring * 2, socket.BusyBudget > 0 ? $", busy poll budget {socket.BusyBudget}" : "");
        return rxq;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        // The TX ring was sized with the socket (RX descriptors), as DPDK's af_xdp does; descriptors only bounds the request.
        var txq = new XskTxQueue(portId, queueId);
        _tx[queueId] = txq;
        return txq;
    }

    public override void Start()
    {
        _attachment ??= XdpAttachment.Acquire(_iface, _options.XdpProgram, _program, _mapEntries, Name, _log);
        for (int q = 0; q < _tx.Length; q++)
            _tx[q]!.Connect(_sockets[q]!);
        for (int q = 0; q < _sockets.Length; q++)
            _attachment.SetSocket(_options.StartQueue + q, _sockets[q]!.Fd, Name);
    }

    public override void Stop()
    {
        // Frames of these queues go to the kernel stack again (the program's XDP_PASS fallback); the program stays
        // attached until Close, as in DPDK.
        for (int q = 0; q < _sockets.Length; q++)
            _attachment?.RemoveSocket(_options.StartQueue + q);
    }

    public override void Close()
    {
        _attachment?.Release(_log);
        _attachment = null;
        foreach (XskSocket? s in _sockets)
            s?.Dispose();
    }

    public override LinkStatus Link => _iface.Link;

    public override bool Promiscuous
    {
        get => (_iface.Flags & NetInterface.IFF_PROMISC) != 0;
        set => _iface.SetFlag(NetInterface.IFF_PROMISC, value);
    }

    public override bool AllMulticast
    {
        get => (_iface.Flags & NetInterface.IFF_ALLMULTI) != 0;
        set => _iface.SetFlag(NetInterface.IFF_ALLMULTI, value);
    }

    public override int Mtu
    {
        get => _iface.Mtu;
        protected set => _iface.Mtu = value;
    }

    public override void SetMtu(int mtu) => Mtu = mtu;

    public override DeviceCounters DeviceCounters
    {
        get
        {
            ulong missed = 0;
            foreach (XskSocket? s in _sockets)
            {
                if (s is { IsDisposed: false })
                {
                    Xsk.xdp_statistics st = s.ReadStatistics();
                    missed += st.rx_dropped + st.rx_ring_full;
                }
            }
            return new DeviceCounters(InMissed: missed);
        }
    }

    public override IEnumerable<XStat> XStats
    {
        get
        {
            var list = new List<XStat>();
            for (int q = 0; q < _sockets.Length; q++)
            {
                if (_sockets[q] is not { IsDisposed: false } s || _rx[q] is not XskRxQueue rx)
                    continue;
                Xsk.xdp_statistics st = s.ReadStatistics();
                list.Add(new($"rx_q{q}_xsk_rx_dropped", st.rx_dropped));
                list.Add(new($"rx_q{q}_xsk_rx_ring_full", st.rx_ring_full));
                list.Add(new($"rx_q{q}_xsk_fill_ring_empty", st.rx_fill_ring_empty_descs));
                list.Add(new($"rx_q{q}_xsk_rx_invalid_descs", st.rx_invalid_descs));
                list.Add(new($"rx_q{q}_fill_ring_entries", rx.FillOccupancy));
                list.Add(new($"rx_q{q}_rx_ring_entries", rx.RxOccupancy));
                list.Add(new($"rx_q{q}_wakeups", rx.Wakeups));
                list.Add(new($"rx_q{q}_zero_copy", s.ZeroCopy ? 1UL : 0UL));
                list.Add(new($"rx_q{q}_shared_umem", s.SharesUmem ? 1UL : 0UL));
                list.Add(new($"rx_q{q}_set_aside_mbufs", (ulong)s.RxQuarantined));
                list.Add(new($"tx_q{q}_set_aside_mbufs", (ulong)s.TxQuarantined));
                list.Add(new($"tx_q{q}_xsk_tx_invalid_descs", st.tx_invalid_descs));
                list.Add(new($"tx_q{q}_xsk_tx_ring_empty", st.tx_ring_empty_descs));
                if (q < _tx.Length && _tx[q] is XskTxQueue tx)
                {
                    list.Add(new($"tx_q{q}_tx_ring_entries", tx.TxOccupancy));
                    list.Add(new($"tx_q{q}_completion_ring_entries", tx.CompletionOccupancy));
                    list.Add(new($"tx_q{q}_sent_in_place", tx.SentInPlace));
                    list.Add(new($"tx_q{q}_sent_copied", tx.SentCopied));
                    list.Add(new($"tx_q{q}_oversize_drops", tx.Oversize));
                    list.Add(new($"tx_q{q}_kicks", tx.Kicks));
                    list.Add(new($"tx_q{q}_kick_drops", tx.KickDrops));
                    list.Add(new($"tx_q{q}_kick_errors", tx.KickErrors));
                }
            }
            return list;
        }
    }

    public override void ResetStats()
    {
        foreach (XskSocket? s in _sockets)
        {
            if (s is { IsDisposed: false })
                s.ResetStatistics();
        }
        foreach (XskRxQueue? rx in _rx)
        {
            if (rx is not null)
                rx.Wakeups = 0;
        }
        foreach (XskTxQueue? tx in _tx)
        {
            if (tx is null)
                continue;
            tx.SentInPlace = tx.SentCopied = tx.Oversize = tx.Kicks = tx.KickDrops = tx.KickErrors = 0;
        }
    }
}
