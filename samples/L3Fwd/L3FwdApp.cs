using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Samples.L3Fwd;

/// <summary>
/// L3Fwd's setup and teardown around the forwarding loops (DPDK l3fwd's main() and l3fwd_poll_resource_setup):
/// checks the port mask and <c>--config</c>, reads the rules, builds the lookup tables, sizes the mbuf pool with
/// l3fwd's formula, configures and starts the ports (one RX queue per <c>--config</c> entry, one TX queue per
/// forwarding lcore), and gives each lcore its loop. Afterwards it prints the totals and stops, closes and frees in
/// order.
/// </summary>
public sealed class L3FwdApp : IDisposable
{
    /// <summary>Mempool cache per lcore (MEMPOOL_CACHE_SIZE).</summary>
    public const int CacheSize = 256;

    private readonly L3FwdOptions _options;
    private readonly IReadOnlyList<EthDev> _ports;
    private readonly TextWriter _out;
    private readonly int[] _enabled;
    private readonly IReadOnlyList<RxQueueAssignment> _config;
    private readonly int[] _forwardingLcores;
    private readonly List<MbufPool> _pools = new();
    private readonly Dictionary<int, IPollWorker> _forwarders = new();
    private readonly Dictionary<int, L3FwdCounters[]> _counters = new();
    private readonly Dictionary<int, TxPort[]> _txPorts = new();
    private IDisposable? _tables;
    private long _startTicks;
    private long _stopTicks;
    // Managed bytes the forwarding lcores allocated inside their loops (each adds its own at exit), and the GC
    // collection counts when the first loop started: the cost lines of PrintTotals, the same as TestPmd's.
    private long _allocatedBytes;
    private int _gc0, _gc1, _gc2;
    private bool _tornDown;

    /// <summary>Sets everything up and starts the enabled ports.</summary>
    /// <param name="options">Parsed application arguments.</param>
    /// <param name="ports">The ports; a port's id (as in -p and --config) is its position here (the EAL's --vdev order).</param>
    /// <param name="lcoreIds">Enabled lcores, ascending (the first is used when --config is absent).</param>
    /// <param name="output">Where l3fwd's messages and statistics go.</param>
    /// <exception cref="L3FwdArgumentException">The port mask, --config, a rule file or a rule is wrong.</exception>
    /// <exception cref="PacketPlaneException">A port or pool could not be set up.</exception>
    public L3FwdApp(L3FwdOptions options, IReadOnlyList<EthDev> ports, IReadOnlyList<int> lcoreIds, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(lcoreIds);
        _options = options;
        _ports = ports;
        _out = output ?? TextWriter.Null;
        foreach (string notice in options.Notices)
            _out.WriteLine(notice);
        if (ports.Count == 0)
            throw new L3FwdArgumentException("No Ethernet ports - bye (add ports with --vdev, e.g. --vdev net_null0)");
        if (lcoreIds.Count == 0)
            throw new L3FwdArgumentException("no lcores to forward on (-l)");
        _config = options.Config ?? DefaultConfig(options, lcoreIds);
        _enabled = CheckPorts(options.PortMask, ports.Count);
        CheckConfig(_config, lcoreIds);
        _forwardingLcores = _config.Select(c => c.Lcore).Distinct().Order().ToArray();
        try
        {
            int numaNode = NumaNodeOf(_forwardingLcores, options.NoNuma);
            CreatePools(numaNode);
            BuildTables(numaNode);
            foreach (int p in _enabled)
                InitPort(p);
            foreach (int lcore in _forwardingLcores)
                _forwarders[lcore] = CreateForwarder(lcore);
            _out.WriteLine();
            foreach (int p in _enabled)
            {
                ports[p].Start();
                if (options.Promiscuous)
                    ports[p].Promiscuous = true;
            }
            PrintLinks();
        }
        catch
        {
            TearDown(print: false);
            throw;
        }
    }

    /// <summary>Ids of the enabled ports (set in -p).</summary>
    public IReadOnlyList<int> EnabledPorts => _enabled;

    /// <summary>The forwarding loop of each lcore named in --config.</summary>
    public IReadOnlyDictionary<int, IPollWorker> Forwarders => _forwarders;

    /// <summary>The mbuf pools (one, or one per enabled port with --per-port-pool).</summary>
    public IReadOnlyList<MbufPool> Pools => _pools;

    /// <summary>The lookup in use.</summary>
    public LookupMode Lookup => _options.Lookup;

    /// <summary>Runs the loop of the calling lcore until <paramref name="token"/> is cancelled (l3fwd's main loop per lcore).</summary>
    public int RunLcore(int lcoreId, CancellationToken token)
    {
        if (!_forwarders.TryGetValue(lcoreId, out IPollWorker? worker))
        {
            _out.WriteLine($"L3FWD: lcore {lcoreId} has nothing to do");
            return 0;
        }
        _out.WriteLine($"L3FWD: entering main loop on lcore {lcoreId}");
        foreach (RxQueueAssignment a in _config.Where(c => c.Lcore == lcoreId))
            _out.WriteLine($"L3FWD:  -- lcoreid={lcoreId} portid={a.Port} rxqueueid={a.Queue}");
        if (Interlocked.CompareExchange(ref _startTicks, Stopwatch.GetTimestamp(), 0) == 0)
        {
            _gc0 = GC.CollectionCount(0);
            _gc1 = GC.CollectionCount(1);
            _gc2 = GC.CollectionCount(2);
        }
        // One-time costs before measuring, as TestPmd creates its lcore's mempool cache first: the poll statistics'
        // table (128 KiB, created on first use by this thread), and a first poll, which compiles the loop (tier 0) and
        // creates this lcore's mempool cache.
        PacketPlane.Telemetry.LcorePollStats.Get(lcoreId);
        worker.Poll();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        ForwardingLoop.Run(worker, token);
        // Pairs with the Interlocked.Read in PrintTotals, which runs after every lcore returned.
        Interlocked.Add(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
        Volatile.Write(ref _stopTicks, Stopwatch.GetTimestamp());
        return 0;
    }

    /// <summary>Counters of <paramref name="portId"/> summed over every lcore.</summary>
    public L3FwdCounters Counters(int portId)
    {
        var sum = default(L3FwdCounters);
        foreach (L3FwdCounters[] byPort in _counters.Values)
        {
            L3FwdCounters c = byPort[portId + 1];
            sum.Received += c.Received;
            sum.NoRoute += c.NoRoute;
            sum.NotIp += c.NotIp;
            sum.BadHeader += c.BadHeader;
            sum.BadChecksum += c.BadChecksum;
            sum.Expired += c.Expired;
        }
        return sum;
    }

    /// <summary>Packets the TX queues of <paramref name="portId"/> took, over every lcore.</summary>
    public long Sent(int portId) => TxBuffers(portId).Sum(b => (long)b.Sent);

    /// <summary>Packets refused by the TX queues of <paramref name="portId"/> (queue full) and freed.</summary>
    public long TxDropped(int portId) => TxBuffers(portId).Sum(b => (long)b.Dropped);

    /// <summary>Packets received on every enabled port so far (allocation-free, for polling it in a loop).</summary>
    public long TotalReceived
    {
        get
        {
            long sum = 0;
            foreach (int p in _enabled)
                sum += Counters(p).Received;
            return sum;
        }
    }

    /// <summary>
    /// Prints the rate every <see cref="L3FwdOptions.StatsPeriodSeconds"/> and asks <paramref name="stop"/> to stop after
    /// <see cref="L3FwdOptions.DurationSeconds"/>; returns when stopping was asked for. Run it on a thread of its own
    /// (not an lcore).
    /// </summary>
    public void Monitor(Shutdown stop)
    {
        ArgumentNullException.ThrowIfNull(stop);
        var clock = Stopwatch.StartNew();
        double period = _options.StatsPeriodSeconds > 0 ? _options.StatsPeriodSeconds : double.PositiveInfinity;
        double end = _options.DurationSeconds ?? double.PositiveInfinity;
        double next = period;
        Snapshot last = Take(clock.Elapsed.TotalSeconds);
        while (true)
        {
            double wait = Math.Min(next, end) - clock.Elapsed.TotalSeconds;
            if (double.IsPositiveInfinity(wait))
            {
                stop.WaitForRequest();
                return;
            }
            if (wait > 0 && stop.WaitForRequest(TimeSpan.FromSeconds(wait)))
                return;
            double now = clock.Elapsed.TotalSeconds;
            if (now >= next)
            {
                Snapshot current = Take(now);
                _out.WriteLine(RateLine(last, current));
                last = current;
                next += period;
            }
            if (now >= end)
            {
                stop.Request($"--duration {_options.DurationSeconds:0.###} s elapsed");
                return;
            }
        }
    }

    /// <summary>Prints what happened to every packet: per port, and the drop reasons.</summary>
    public void PrintTotals()
    {
        long start = Volatile.Read(ref _startTicks), stop = Volatile.Read(ref _stopTicks);
        double seconds = start == 0 ? 0 : Stopwatch.GetElapsedTime(start, stop == 0 ? Stopwatch.GetTimestamp() : stop).TotalSeconds;
        var s = new System.Text.StringBuilder();
        s.Append($"\nL3FWD totals ({_options.Lookup.ToString().ToLowerInvariant()} lookup, {seconds:0.0} s of forwarding) ===================\n");
        var all = default(L3FwdCounters);
        long sent = 0;
        foreach (int p in _enabled)
        {
            L3FwdCounters c = Counters(p);
            string rate = seconds > 0 ? $" ({c.Received / seconds / 1e6:0.00} Mpps)" : "";
            s.Append($"Port {p} ({_ports[p].Name}): received {c.Received}{rate}, sent {Sent(p)}, TX queue full {TxDropped(p)}\n");
            all.Received += c.Received;
            all.NoRoute += c.NoRoute;
            all.NotIp += c.NotIp;
            all.BadHeader += c.BadHeader;
            all.BadChecksum += c.BadChecksum;
            all.Expired += c.Expired;
            sent += Sent(p);
        }
        s.Append($"Of {all.Received} packets received:\n");
        s.Append($"  {all.Received - all.Dropped - all.NoRoute,14}  routed to their output port\n");
        s.Append($"  {all.NoRoute,14}  sent back out of their input port (no route, or a route to a port outside -p)\n");
        s.Append($"  {all.BadHeader,14}  dropped: bad IP header (version, header length, total length; RFC 1812 5.2.2)\n");
        s.Append($"  {all.BadChecksum,14}  dropped: bad IPv4 header checksum\n");
        s.Append($"  {all.Expired,14}  dropped: TTL or hop limit 1 or 0 (RFC 1812 5.3.1; no ICMP time exceeded is sent)\n");
        s.Append($"  {all.NotIp,14}  dropped: not IPv4 or IPv6\n");
        if (seconds > 0)
            s.Append($"Average: {all.Received / seconds / 1e6:0.000} Mpps received, {sent / seconds / 1e6:0.000} Mpps sent\n");
        if (start != 0)
        {
            long allocated = Interlocked.Read(ref _allocatedBytes);
            double perPacket = all.Received == 0 ? 0 : (double)allocated / all.Received;
            s.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"Managed allocation on forwarding lcores: {allocated} bytes ({perPacket:F6} bytes/packet); GC collections during the run: " +
                $"gen0={GC.CollectionCount(0) - _gc0} gen1={GC.CollectionCount(1) - _gc1} gen2={GC.CollectionCount(2) - _gc2}\n");
        }
        s.Append("====================================================================\n");
        _out.Write(s.ToString());
        _out.Flush();
    }

    /// <summary>
    /// Adds the teardown after the loops stopped to <paramref name="shutdown"/>, in DPDK l3fwd's order: stop and close
    /// each port ("Closing port N... Done"), then free the pools and tables.
    /// </summary>
    public void AddTeardown(Shutdown shutdown)
    {
        ArgumentNullException.ThrowIfNull(shutdown);
        foreach (int p in _enabled)
        {
            EthDev port = _ports[p];
            shutdown.Add(ShutdownStage.StopPorts, $"stop port {p} ({port.Name})", port.Stop);
            shutdown.Add(ShutdownStage.ClosePorts, $"close port {p} ({port.Name})", () =>
            {
                _out.Write($"Closing port {p}...");
                port.Close();
                _out.WriteLine(" Done");
            });
        }
        shutdown.Add(ShutdownStage.FreePools, "free the mbuf pools and lookup tables", () => TearDown(print: false));
    }

    /// <summary>Stops and closes the ports and frees pools and tables (when no <see cref="Shutdown"/> ran them). Idempotent.</summary>
    public void Dispose()
    {
        if (_tornDown)
            return;
        using Shutdown shutdown = Shutdown.Manual();
        AddTeardown(shutdown);
        shutdown.TearDown(TimeSpan.FromSeconds(10));
    }

    private IEnumerable<TxBuffer> TxBuffers(int portId) =>
        _txPorts.Values.SelectMany(t => t).Where(t => ReferenceEquals(t.Buffer.Port, _ports[portId])).Select(t => t.Buffer);

    private static IReadOnlyList<RxQueueAssignment> DefaultConfig(L3FwdOptions options, IReadOnlyList<int> lcoreIds) =>
        L3FwdOptions.DefaultConfig(options.PortMask, lcoreIds[0]);

    private int[] CheckPorts(ulong mask, int count)
    {
        ulong possible = count >= 64 ? ulong.MaxValue : (1UL << count) - 1;
        if ((mask & ~possible) != 0)
            throw new L3FwdArgumentException($"Invalid portmask 0x{mask:x}: only {count} port(s) present (possible 0x{possible:x}); add them with --vdev");
        return L2Fwd.PortMask.Ports(mask).ToArray();
    }

    /// <summary>DPDK's check_lcore_params, check_port_config, get_port_n_rx_queues and init_lcore_rx_queues checks.</summary>
    private void CheckConfig(IReadOnlyList<RxQueueAssignment> config, IReadOnlyList<int> lcoreIds)
    {
        foreach (RxQueueAssignment a in config)
        {
            if (!lcoreIds.Contains(a.Lcore))
                throw new L3FwdArgumentException($"error: lcore {a.Lcore} is not enabled in lcore mask (enabled: {string.Join(",", lcoreIds)}; see -l)");
            if ((_options.PortMask & (1UL << a.Port)) == 0)
                throw new L3FwdArgumentException($"port {a.Port} is not enabled in port mask (-p 0x{_options.PortMask:x})");
            if (a.Port >= _ports.Count)
                throw new L3FwdArgumentException($"port {a.Port} is not present on the board");
        }
        foreach (IGrouping<int, RxQueueAssignment> port in config.GroupBy(c => c.Port))
        {
            int[] queues = port.Select(c => c.Queue).Order().ToArray();
            if (!queues.SequenceEqual(Enumerable.Range(0, queues.Length)))
                throw new L3FwdArgumentException($"queue ids of the port {port.Key} must be in sequence and must start with 0 (got {string.Join(",", queues)})");
        }
        foreach (IGrouping<int, RxQueueAssignment> lcore in config.GroupBy(c => c.Lcore))
        {
            if (lcore.Count() > L3FwdOptions.MaxRxQueuesPerLcore)
                throw new L3FwdArgumentException($"error: too many queues ({lcore.Count()}) for lcore: {lcore.Key} (at most {L3FwdOptions.MaxRxQueuesPerLcore})");
        }
        foreach (int p in _enabled.Where(p => config.All(c => c.Port != p)))
            _out.WriteLine($"Note: port {p} is enabled but no lcore polls it (only sends)");
    }

    private static int NumaNodeOf(int[] lcores, bool noNuma)
    {
        Eal? eal = Eal.Current;
        if (noNuma || eal is null)
            return -1;
        int[] nodes = lcores.Select(l => eal.GetLcore(l).NumaNode).Distinct().ToArray();
        return nodes.Length == 1 ? nodes[0] : -1;
    }

    /// <summary>One pool sized with l3fwd's NB_MBUF formula, or one per port (--per-port-pool, NB_MBUF(1) each).</summary>
    private void CreatePools(int numaNode)
    {
        int rxQueues = _config.GroupBy(c => c.Port).Max(g => g.Count());
        int lcores = Math.Max(1, _forwardingLcores.Length);
        if (_options.PerPortPool)
        {
            foreach (int p in _enabled)
                _pools.Add(CreatePool($"mbuf_pool_{p}", 1, rxQueues, lcores, numaNode));
        }
        else
        {
            _pools.Add(CreatePool("mbuf_pool", _ports.Count, rxQueues, lcores, numaNode));
        }
    }

    private MbufPool CreatePool(string name, int ports, int rxQueues, int lcores, int numaNode)
    {
        int count = MbufPool.RequiredCount(ports, rxQueues, _options.RxQueueSize, lcores, _options.TxQueueSize, lcores,
            L3Forwarder.MaxBurst, CacheSize);
        int dataRoom = MbufPool.DefaultDataRoomSize;
        MbufPool pool = MbufPool.Create(name, count, CacheSize, 0, dataRoom, new MbufPoolOptions { NumaNode = numaNode });
        _out.WriteLine($"Allocated mbuf pool '{name}': {count} mbufs in {(pool.Region.IsHugepage ? "hugepages" : "4 KiB pages")}");
        return pool;
    }

    private MbufPool PoolFor(int port) => _options.PerPortPool ? _pools[Array.IndexOf(_enabled, port)] : _pools[0];

    private void BuildTables(int numaNode)
    {
        string PortName(int p) => p < _ports.Count ? _ports[p].Name : "absent";
        if (_options.Lookup == LookupMode.Lpm)
        {
            IReadOnlyList<Ipv4LpmRule> v4 = _options.RuleIpv4 is { } f4 ? RuleFile.ReadLpm4(f4) : Defaults(RuleFile.DefaultLpm4(), "IPv4");
            IReadOnlyList<Ipv6LpmRule> v6 = _options.RuleIpv6 is { } f6 ? RuleFile.ReadLpm6(f6) : Defaults(RuleFile.DefaultLpm6(), "IPv6");
            LpmLookup lookup = LpmLookup.Build(v4, v6, _options.PortMask, PortName, _out, numaNode);
            _tables = new Tables(lookup.Dispose);
            _makeForwarder = (rx, tx, counters) => new L3Forwarder<LpmLookup>(lookup.ForAnotherLcore(), rx, tx, counters);
        }
        else
        {
            IReadOnlyList<Ipv4EmRule> v4 = _options.RuleIpv4 is { } f4 ? RuleFile.ReadEm4(f4) : Defaults(RuleFile.DefaultEm4(), "IPv4");
            IReadOnlyList<Ipv6EmRule> v6 = _options.RuleIpv6 is { } f6 ? RuleFile.ReadEm6(f6) : Defaults(RuleFile.DefaultEm6(), "IPv6");
            EmLookup lookup = EmLookup.Build(v4, v6, _options.PortMask, PortName, _out, numaNode);
            _tables = new Tables(lookup.Dispose);
            _makeForwarder = (rx, tx, counters) => new L3Forwarder<EmLookup>(lookup.ForAnotherLcore(), rx, tx, counters);
        }
    }

    private Func<RxQueueRef[], TxPort?[], L3FwdCounters[], IPollWorker>? _makeForwarder;

    private IReadOnlyList<T> Defaults<T>(IReadOnlyList<T> rules, string family)
    {
        _out.WriteLine($"No --rule_{family.ToLowerInvariant()} file: using the default {family} rules");
        return rules;
    }

    /// <summary>Configures one port (RX queues from --config, a TX queue per forwarding lcore) and sets up its queues.</summary>
    private void InitPort(int portId)
    {
        EthDev port = _ports[portId];
        DevInfo info = port.Info;
        int rxQueues = _config.Count(c => c.Port == portId);
        int txQueues = _forwardingLcores.Length;
        _out.Write($"Initializing port {portId} ... Creating queues: nb_rxq={rxQueues} nb_txq={txQueues}... ");
        if (txQueues > info.MaxTxQueues)
            throw new L3FwdArgumentException($"port {portId} ({port.Name}) has {info.MaxTxQueues} TX queue(s), but {txQueues} lcores forward and each needs its own; use fewer lcores in --config");
        if (rxQueues > info.MaxRxQueues)
            throw new L3FwdArgumentException($"port {portId} ({port.Name}) has {info.MaxRxQueues} RX queue(s), --config uses {rxQueues}");
        // As l3fwd: RX checksum offload and RSS over IP when the port has them (masked by what it can do, the
        // change DPDK's own l3fwd needs on virtual ports), fast free on TX, and the MTU from --max-pkt-len.
        RxOffloads rx = RxOffloads.Checksum & info.RxOffloadCapabilities;
        TxOffloads tx = TxOffloads.MbufFastFree & info.TxOffloadCapabilities;
        int? mtu = null;
        if (_options.MaxPacketLengthBytes is int maxLength)
        {
            mtu = maxLength - 18; // Ethernet header and CRC
            if (maxLength > PoolFor(portId).DataRoomSize - PoolFor(portId).Headroom)
            {
                rx |= RxOffloads.Scatter & info.RxOffloadCapabilities;
                tx |= TxOffloads.MultiSegs & info.TxOffloadCapabilities;
            }
        }
        RssHashFunctions rss = RssHashFunctions.Ip & info.RssCapabilities;
        port.Configure(rxQueues, txQueues, new EthConf
        {
            RxOffloads = rx,
            TxOffloads = tx,
            Mtu = mtu,
            RssEnabled = rxQueues > 1 && rss != 0,
            RssHashFunctions = rss,
        });
        int rxd = Math.Clamp(_options.RxQueueSize, info.RxDescriptorLimits.Min, info.RxDescriptorLimits.Max);
        int txd = Math.Clamp(_options.TxQueueSize, info.TxDescriptorLimits.Min, info.TxDescriptorLimits.Max);
        _out.Write($"Address:{port.MacAddress.ToString().ToUpperInvariant()}, Destination:{DestinationMac(portId).ToString().ToUpperInvariant()}, ");
        for (int q = 0; q < txQueues; q++)
        {
            _out.Write($"txq={_forwardingLcores[q]},{q} ");
            port.SetupTxQueue(q, txd);
        }
        _out.WriteLine();
        foreach (RxQueueAssignment a in _config.Where(c => c.Port == portId).OrderBy(c => c.Queue))
            port.SetupRxQueue(a.Queue, rxd, PoolFor(portId), new RxQueueConf { Offloads = rx });
    }

    /// <summary>Destination MAC for packets out of <paramref name="portId"/>: --eth-dest, else 02:00:00:00:00:&lt;port&gt;.</summary>
    private MacAddress DestinationMac(int portId) =>
        _options.EthDest.TryGetValue(portId, out MacAddress mac) ? mac : new MacAddress(0x0200_0000_0000UL | (uint)portId);

    private IPollWorker CreateForwarder(int lcore)
    {
        int txQueue = Array.IndexOf(_forwardingLcores, lcore);
        var txByPort = new TxPort?[256];
        foreach (int p in _enabled)
            txByPort[p] = new TxPort(new TxBuffer(_ports[p], txQueue, L3Forwarder.MaxBurst), DestinationMac(p), _ports[p].MacAddress);
        RxQueueRef[] rx = _config.Where(c => c.Lcore == lcore)
            .Select(c => new RxQueueRef(_ports[c.Port], c.Port, c.Queue)).ToArray();
        // One spare entry at each end: the neighbours of this array on the heap stay off its first and last lines.
        var counters = new L3FwdCounters[_ports.Count + 2];
        _counters[lcore] = counters;
        _txPorts[lcore] = txByPort.Where(t => t is not null).ToArray()!;
        return _makeForwarder!(rx, txByPort, counters);
    }

    private void PrintLinks()
    {
        foreach (int p in _enabled)
            _out.WriteLine($"Port {p} {_ports[p].Link}");
    }

    private readonly record struct Snapshot(double Seconds, long Received, long Dropped, long[] SentByPort);

    private Snapshot Take(double seconds)
    {
        long received = 0, dropped = 0;
        foreach (int p in _enabled)
        {
            L3FwdCounters c = Counters(p);
            received += c.Received;
            dropped += c.Dropped + TxDropped(p);
        }
        return new Snapshot(seconds, received, dropped, _enabled.Select(Sent).ToArray());
    }

    private string RateLine(Snapshot a, Snapshot b)
    {
        double dt = b.Seconds - a.Seconds;
        double Mpps(long packets) => dt > 0 ? packets / dt / 1e6 : 0;
        long sent = b.SentByPort.Sum() - a.SentByPort.Sum();
        string perPort = string.Join(", ", _enabled.Select((p, i) => $"port {p} {Mpps(b.SentByPort[i] - a.SentByPort[i]):0.000}"));
        return $"[{b.Seconds,5:0.0} s] rx {Mpps(b.Received - a.Received),7:0.000} Mpps, tx {Mpps(sent),7:0.000} Mpps ({perPort}), dropped {Mpps(b.Dropped - a.Dropped):0.000} Mpps";
    }

    private void TearDown(bool print)
    {
        if (_tornDown)
            return;
        _tornDown = true;
        foreach (int p in _enabled ?? [])
        {
            _ports[p].Stop();
            _ports[p].Close();
        }
        _tables?.Dispose();
        foreach (MbufPool pool in _pools)
            pool.Dispose();
        if (print)
            _out.WriteLine("Bye...");
    }

    private sealed class Tables(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
