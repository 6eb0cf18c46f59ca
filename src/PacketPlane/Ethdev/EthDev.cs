using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Telemetry;

namespace PacketPlane.Ethdev;

/// <summary>Where a port is in its life, as rte_ethdev's state machine.</summary>
public enum PortState
{
    /// <summary>Created, not configured yet.</summary>
    Created,
    /// <summary>Configured (queues may be set up).</summary>
    Configured,
    /// <summary>Started: bursts move packets.</summary>
    Started,
    /// <summary>Stopped after running; can be started again.</summary>
    Stopped,
    /// <summary>Closed; the port id is free again.</summary>
    Closed,
}

/// <summary>
/// A port (DPDK's rte_ethdev): created from a device string, configured, given RX and TX queues, started.
/// <see cref="RxBurst"/> and <see cref="TxBurst"/> make one call per burst into the driver's sealed queue type:
/// no allocation, no exception, no lock on the datapath.
/// </summary>
/// <example>
/// <code>
/// using var port = EthDev.Create("net_pcap0,rx_pcap=in.pcap,infinite_rx=1");
/// port.Configure(1, 1);
/// port.SetupRxQueue(0, 1024, pool);
/// port.SetupTxQueue(0, 1024);
/// port.Start();
/// int n = port.RxBurst(0, burst);
/// </code>
/// </example>
public sealed class EthDev : IDisposable
{
    /// <summary>Most ports that can exist at once (RTE_MAX_ETHPORTS).</summary>
    public const int MaxPorts = 1024;

    private static readonly object s_registryLock = new();
    private static readonly EthDev?[] s_ports = new EthDev?[MaxPorts];

    private readonly object _controlLock = new();
    private readonly ILogger _log;
    private RxQueue?[] _rxQueues = [];
    private TxQueue?[] _txQueues = [];
    // What bursts call: the real queues while started, do-nothing stand-ins otherwise.
    private RxQueue[] _rxActive = [];
    private TxQueue[] _txActive = [];
    private EthConf _conf = new();
    // Set by PacketCapture while a capture of this port runs; bursts test it once (null almost always).
    private CaptureTap? _captureTap;

    private EthDev(ushort portId, DeviceArguments args, EthDriver driver, EthDevice device)
    {
        PortId = portId;
        Arguments = args;
        Driver = driver;
        Device = device;
        _log = Log.For("PacketPlane.Ethdev");
    }

    /// <summary>Port id (index in <see cref="All"/>).</summary>
    public ushort PortId { get; }

    /// <summary>Device name (net_pcap0).</summary>
    public string Name => Device.Name;

    /// <summary>The device string the port was created from.</summary>
    public DeviceArguments Arguments { get; }

    /// <summary>The driver.</summary>
    public EthDriver Driver { get; }

    /// <summary>The driver's device object.</summary>
    public EthDevice Device { get; }

    /// <summary>Lifecycle state.</summary>
    public PortState State { get; private set; } = PortState.Created;

    /// <summary>True while started.</summary>
    public bool IsStarted => State == PortState.Started;

    /// <summary>Capabilities and limits.</summary>
    public DevInfo Info => Device.Info;

    /// <summary>Configuration given to <see cref="Configure"/>.</summary>
    public EthConf Configuration => _conf;

    /// <summary>Number of configured RX queues.</summary>
    public int RxQueueCount => _rxQueues.Length;

    /// <summary>Number of configured TX queues.</summary>
    public int TxQueueCount => _txQueues.Length;

    /// <summary>Every open port, by port id.</summary>
    public static IReadOnlyList<EthDev> All
    {
        get
        {
            lock (s_registryLock)
                return s_ports.Where(p => p is not null).Select(p => p!).ToArray();
        }
    }

    /// <summary>The open port with <paramref name="portId"/>.</summary>
    public static EthDev Get(int portId)
    {
        lock (s_registryLock)
        {
            if ((uint)portId < MaxPorts && s_ports[portId] is EthDev p)
                return p;
        }
        throw new EthDevException($"no port {portId}; open ports: {DescribePorts()}");
    }

    /// <summary>The open port named <paramref name="name"/>, or null.</summary>
    public static EthDev? FindByName(string name)
    {
        lock (s_registryLock)
            return s_ports.FirstOrDefault(p => p is not null && p.Name == name);
    }

    /// <summary>
    /// Creates a port from a DPDK device string such as <c>net_null0,size=64</c> or
    /// <c>net_af_xdp0,iface=veth0</c>. The driver is chosen by name prefix.
    /// </summary>
    /// <exception cref="DeviceArgumentException">Unknown driver or argument (the message lists the valid ones), or a bad value.</exception>
    public static EthDev Create(string deviceString)
    {
        DeviceArguments args = DeviceArguments.Parse(deviceString);
        EthDriver driver = EthDriverRegistry.Find(args.DeviceName);
        args.CheckKeys(driver.Name, driver.Parameters, driver.RepeatableParameters);
        lock (s_registryLock)
        {
            EthDev? existing = s_ports.FirstOrDefault(p => p is not null && p.Name == args.DeviceName);
            if (existing is not null)
                throw new DeviceArgumentException($"a port named {args.DeviceName} already exists (port {existing.PortId}); give each device a different number");
        }
        EthDevice device = driver.Create(args);
        lock (s_registryLock)
        {
            int id = Array.IndexOf(s_ports, null);
            if (id < 0)
            {
                device.Close();
                throw new EthDevException($"too many ports: at most {MaxPorts} can be open at once");
            }
            var port = new EthDev((ushort)id, args, driver, device);
            s_ports[id] = port;
            Eal.Current?.Own(port, Eal.TeardownStage.Ports);
            port._log.LogDebug(LogEvents.DriverSelected, "device {Name}: driver {Driver} chosen by name prefix (needs: {Requirements})",
                device.Name, driver.Name, driver.Requirements);
            port._log.LogInformation(LogEvents.PortCreated, "port {Port}: {Name} created by driver {Driver}", id, device.Name, driver.Name);
            return port;
        }
    }

    /// <summary>
    /// Sets the number of queues and the port configuration (rte_eth_dev_configure). Offloads the device lacks
    /// are refused by name.
    /// </summary>
    public void Configure(int rxQueues, int txQueues, EthConf? conf = null)
    {
        conf ??= new EthConf();
        lock (_controlLock)
        {
            RequireState(nameof(Configure), PortState.Created, PortState.Configured, PortState.Stopped);
            DevInfo info = Info;
            if (rxQueues < 0 || rxQueues > info.MaxRxQueues)
                throw new EthDevException($"port {PortId} ({Name}): {rxQueues} RX queues requested, the device has 0 to {info.MaxRxQueues}");
            if (txQueues < 0 || txQueues > info.MaxTxQueues)
                throw new EthDevException($"port {PortId} ({Name}): {txQueues} TX queues requested, the device has 0 to {info.MaxTxQueues}");
            if (rxQueues == 0 && txQueues == 0)
                throw new EthDevException($"port {PortId} ({Name}): configure needs at least one RX or TX queue");
            CheckOffloads(conf.RxOffloads, info.RxOffloadCapabilities, conf.TxOffloads, info.TxOffloadCapabilities);
            if (conf.RssEnabled && (info.RssCapabilities & conf.RssHashFunctions) == 0 && rxQueues > 1)
                throw new EthDevException($"port {PortId} ({Name}): RSS over {conf.RssHashFunctions} requested, the device hashes {info.RssCapabilities}");
            if (conf.Mtu is int mtu)
                CheckMtu(mtu, info);
            ReleaseQueues();
            Device.Configure(conf, rxQueues, txQueues);
            if (conf.Mtu is int m)
                Device.SetMtu(m);
            _conf = conf;
            _rxQueues = new RxQueue?[rxQueues];
            _txQueues = new TxQueue?[txQueues];
            InstallStandIns();
            State = PortState.Configured;
            _log.LogInformation(LogEvents.PortConfigured, "port {Port} ({Name}): configured with {Rx} RX / {Tx} TX queue(s), RX offloads {RxOffloads}, TX offloads {TxOffloads}",
                PortId, Name, rxQueues, txQueues, conf.RxOffloads, conf.TxOffloads);
        }
    }

    /// <summary>Sets up RX queue <paramref name="queueId"/> with <paramref name="descriptors"/> slots, filled from <paramref name="pool"/>.</summary>
    public void SetupRxQueue(int queueId, int descriptors, MbufPool pool, RxQueueConf? conf = null, int numaNode = -1)
    {
        ArgumentNullException.ThrowIfNull(pool);
        conf ??= new RxQueueConf();
        lock (_controlLock)
        {
            RequireState(nameof(SetupRxQueue), PortState.Configured, PortState.Stopped);
            if ((uint)queueId >= (uint)_rxQueues.Length)
                throw new EthDevException($"port {PortId} ({Name}): RX queue {queueId} does not exist; the port was configured with {_rxQueues.Length} RX queue(s)");
            CheckDescriptors("RX", descriptors, Info.RxDescriptorLimits);
            CheckOffloads(conf.Offloads, Info.RxOffloadCapabilities, TxOffloads.None, TxOffloads.None);
            if (_rxQueues[queueId] is RxQueue old)
                old.Release();
            _rxQueues[queueId] = Device.SetupRxQueue(PortId, queueId, descriptors, numaNode, conf, pool);
        }
    }

    /// <summary>Sets up TX queue <paramref name="queueId"/> with <paramref name="descriptors"/> slots.</summary>
    public void SetupTxQueue(int queueId, int descriptors, TxQueueConf? conf = null, int numaNode = -1)
    {
        conf ??= new TxQueueConf();
        lock (_controlLock)
        {
            RequireState(nameof(SetupTxQueue), PortState.Configured, PortState.Stopped);
            if ((uint)queueId >= (uint)_txQueues.Length)
                throw new EthDevException($"port {PortId} ({Name}): TX queue {queueId} does not exist; the port was configured with {_txQueues.Length} TX queue(s)");
            CheckDescriptors("TX", descriptors, Info.TxDescriptorLimits);
            CheckOffloads(RxOffloads.None, RxOffloads.None, conf.Offloads, Info.TxOffloadCapabilities);
            if (_txQueues[queueId] is TxQueue old)
                old.Release();
            _txQueues[queueId] = Device.SetupTxQueue(PortId, queueId, descriptors, numaNode, conf);
        }
    }

    /// <summary>Starts the port; every configured queue must be set up.</summary>
    public void Start()
    {
        lock (_controlLock)
        {
            if (State == PortState.Started)
                return;
            RequireState(nameof(Start), PortState.Configured, PortState.Stopped);
            for (int q = 0; q < _rxQueues.Length; q++)
            {
                if (_rxQueues[q] is null)
                    throw new EthDevException($"port {PortId} ({Name}): RX queue {q} is not set up; call SetupRxQueue({q}, descriptors, pool) before Start");
            }
            for (int q = 0; q < _txQueues.Length; q++)
            {
                if (_txQueues[q] is null)
                    throw new EthDevException($"port {PortId} ({Name}): TX queue {q} is not set up; call SetupTxQueue({q}, descriptors) before Start");
            }
            Device.Start();
            _rxActive = _rxQueues.Select(q => q!).ToArray();
            _txActive = _txQueues.Select(q => q!).ToArray();
            State = PortState.Started;
            _log.LogInformation(LogEvents.PortStarted, "port {Port} ({Name}): started with {Rx} RX / {Tx} TX queue(s){Mode}", PortId, Name,
                _rxQueues.Length, _txQueues.Length, Info.Mode is null ? "" : ", " + Info.Mode);
        }
    }

    /// <summary>
    /// Stops the port. Stop polling first (as in DPDK); a burst called after Stop returns 0. Queues keep their
    /// setup, so Start can follow. Idempotent.
    /// </summary>
    public void Stop()
    {
        lock (_controlLock)
        {
            if (State != PortState.Started)
                return;
            InstallStandIns();
            Device.Stop();
            State = PortState.Stopped;
            _log.LogInformation(LogEvents.PortStopped, "port {Port} ({Name}): stopped", PortId, Name);
        }
    }

    /// <summary>Stops the port, releases its queues and device, and frees the port id. Idempotent.</summary>
    public void Close()
    {
        lock (_controlLock)
        {
            if (State == PortState.Closed)
                return;
            Stop();
            ReleaseQueues();
            try
            {
                Device.Close();
            }
            finally
            {
                State = PortState.Closed;
                lock (s_registryLock)
                {
                    if (ReferenceEquals(s_ports[PortId], this))
                        s_ports[PortId] = null;
                }
                Eal.Current?.Disown(this);
                _log.LogInformation(LogEvents.PortClosed, "port {Port} ({Name}): closed", PortId, Name);
            }
        }
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    /// <summary>
    /// Receives up to packets.Length packets from RX queue <paramref name="queueId"/>; returns how many.
    /// The caller owns them. Returns 0 for a stopped port or a queue that does not exist.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RxBurst(int queueId, Span<Packet> packets)
    {
        RxQueue[] queues = _rxActive;
        if ((uint)queueId >= (uint)queues.Length)
            return 0;
        int n = queues[queueId].RxBurst(packets);
        // The one capture check per burst; pairs with the Volatile.Write in SetCaptureTap.
        CaptureTap? tap = Volatile.Read(ref _captureTap);
        if (tap is not null && n > 0)
            tap.CaptureRx(queueId, packets.Slice(0, n));
        return n;
    }

    /// <summary>
    /// Sends up to packets.Length packets on TX queue <paramref name="queueId"/>; returns how many the port took
    /// (from the front). The caller still owns the rest and must retry or free them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TxBurst(int queueId, Span<Packet> packets)
    {
        TxQueue[] queues = _txActive;
        if ((uint)queueId >= (uint)queues.Length)
            return 0;
        // As DPDK's pdump TX callback: the packets offered, before the driver takes (and may free) them.
        CaptureTap? tap = Volatile.Read(ref _captureTap);
        if (tap is not null)
            tap.CaptureTx(queueId, packets);
        return queues[queueId].TxBurst(packets);
    }

    /// <summary>The capture tap on this port, or null.</summary>
    internal CaptureTap? CaptureTap => Volatile.Read(ref _captureTap);

    /// <summary>Installs or removes the capture tap; publishes it to the lcores' next burst.</summary>
    internal void SetCaptureTap(CaptureTap? tap) => Volatile.Write(ref _captureTap, tap);

    /// <summary>RX queue <paramref name="queueId"/> if set up, else null (for counters readers: no exception).</summary>
    internal RxQueue? RxQueueOrNull(int queueId)
    {
        RxQueue?[] queues = _rxQueues;
        return (uint)queueId < (uint)queues.Length ? queues[queueId] : null;
    }

    /// <summary>TX queue <paramref name="queueId"/> if set up, else null.</summary>
    internal TxQueue? TxQueueOrNull(int queueId)
    {
        TxQueue?[] queues = _txQueues;
        return (uint)queueId < (uint)queues.Length ? queues[queueId] : null;
    }

    /// <summary>The RX queue object, for loops that want to skip the port-level lookup.</summary>
    public RxQueue GetRxQueue(int queueId) =>
        (uint)queueId < (uint)_rxQueues.Length && _rxQueues[queueId] is RxQueue q
            ? q
            : throw new EthDevException($"port {PortId} ({Name}): RX queue {queueId} is not set up");

    /// <summary>The TX queue object.</summary>
    public TxQueue GetTxQueue(int queueId) =>
        (uint)queueId < (uint)_txQueues.Length && _txQueues[queueId] is TxQueue q
            ? q
            : throw new EthDevException($"port {PortId} ({Name}): TX queue {queueId} is not set up");

    /// <summary>The port's MAC address.</summary>
    public MacAddress MacAddress => Device.MacAddress;

    /// <summary>Changes the port's MAC address.</summary>
    public void SetMacAddress(MacAddress mac)
    {
        lock (_controlLock)
            Device.SetMacAddress(mac);
    }

    /// <summary>Promiscuous mode.</summary>
    public bool Promiscuous
    {
        get => Device.Promiscuous;
        set
        {
            lock (_controlLock)
                Device.Promiscuous = value;
        }
    }

    /// <summary>All-multicast mode.</summary>
    public bool AllMulticast
    {
        get => Device.AllMulticast;
        set
        {
            lock (_controlLock)
                Device.AllMulticast = value;
        }
    }

    /// <summary>Link state now.</summary>
    public LinkStatus Link => Device.Link;

    /// <summary>Waits up to <paramref name="timeout"/> for the link to come up; returns the final state.</summary>
    public LinkStatus WaitForLink(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        LinkStatus link = Link;
        while (!link.IsUp && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
            link = Link;
        }
        return link;
    }

    /// <summary>Current MTU.</summary>
    public int Mtu => Device.Mtu;

    /// <summary>Sets the MTU within the device's limits.</summary>
    public void SetMtu(int mtu)
    {
        lock (_controlLock)
        {
            CheckMtu(mtu, Info);
            Device.SetMtu(mtu);
        }
    }

    /// <summary>Port counters: sums of the queues plus the device's own (rte_eth_stats_get).</summary>
    public PortStats GetStats()
    {
        RxQueue?[] rx = _rxQueues;
        TxQueue?[] tx = _txQueues;
        var rxStats = rx.Select(q => q is null ? default : new QueueStats(q.Counters.Packets, q.Counters.Bytes, q.Counters.Errors)).ToArray();
        var txStats = tx.Select(q => q is null ? default : new QueueStats(q.Counters.Packets, q.Counters.Bytes, q.Counters.Errors)).ToArray();
        DeviceCounters dev = Device.DeviceCounters;
        ulong missed = dev.InMissed, noMbuf = dev.RxNoMbuf, inErrors = dev.InErrors;
        foreach (RxQueue? q in rx)
        {
            if (q is null)
                continue;
            missed += q.Counters.Missed;
            noMbuf += q.Counters.NoMbuf;
            inErrors += q.Counters.Errors;
        }
        return new PortStats
        {
            InPackets = Sum(rxStats, s => s.Packets),
            InBytes = Sum(rxStats, s => s.Bytes),
            OutPackets = Sum(txStats, s => s.Packets),
            OutBytes = Sum(txStats, s => s.Bytes),
            InMissed = missed,
            InErrors = inErrors,
            OutErrors = Sum(txStats, s => s.Errors) + dev.OutErrors,
            RxNoMbuf = noMbuf,
            RxQueues = rxStats,
            TxQueues = txStats,
        };
    }

    /// <summary>Zeroes every counter of the port (rte_eth_stats_reset and xstats reset).</summary>
    public void ResetStats()
    {
        foreach (RxQueue? q in _rxQueues)
        {
            if (q is not null)
                q.Counters = default;
        }
        foreach (TxQueue? q in _txQueues)
        {
            if (q is not null)
                q.Counters = default;
        }
        Device.ResetStats();
    }

    /// <summary>
    /// Named statistics: the generic ones DPDK reports for every port (rx_good_packets, rx_q0_bytes, ...), then
    /// the driver's own.
    /// </summary>
    public IReadOnlyList<XStat> GetXStats()
    {
        PortStats s = GetStats();
        var list = new List<XStat>
        {
            new("rx_good_packets", s.InPackets),
            new("tx_good_packets", s.OutPackets),
            new("rx_good_bytes", s.InBytes),
            new("tx_good_bytes", s.OutBytes),
            new("rx_missed_errors", s.InMissed),
            new("rx_errors", s.InErrors),
            new("tx_errors", s.OutErrors),
            new("rx_mbuf_allocation_errors", s.RxNoMbuf),
        };
        for (int q = 0; q < s.RxQueues.Count; q++)
        {
            list.Add(new($"rx_q{q}_packets", s.RxQueues[q].Packets));
            list.Add(new($"rx_q{q}_bytes", s.RxQueues[q].Bytes));
            list.Add(new($"rx_q{q}_errors", s.RxQueues[q].Errors));
        }
        for (int q = 0; q < s.TxQueues.Count; q++)
        {
            list.Add(new($"tx_q{q}_packets", s.TxQueues[q].Packets));
            list.Add(new($"tx_q{q}_bytes", s.TxQueues[q].Bytes));
        }
        list.AddRange(Device.XStats);
        return list;
    }

    /// <summary>"port 0 (net_null0)".</summary>
    public override string ToString() => $"port {PortId} ({Name})";

    private void InstallStandIns()
    {
        _rxActive = Enumerable.Range(0, _rxQueues.Length).Select(q => (RxQueue)new StoppedRxQueue(PortId, q)).ToArray();
        _txActive = Enumerable.Range(0, _txQueues.Length).Select(q => (TxQueue)new StoppedTxQueue(PortId, q)).ToArray();
    }

    private void ReleaseQueues()
    {
        foreach (RxQueue? q in _rxQueues)
            q?.Release();
        foreach (TxQueue? q in _txQueues)
            q?.Release();
        Array.Clear(_rxQueues);
        Array.Clear(_txQueues);
    }

    private void RequireState(string operation, params PortState[] allowed)
    {
        if (Array.IndexOf(allowed, State) >= 0)
            return;
        string hint = State switch
        {
            PortState.Created => "call Configure first",
            PortState.Started => "call Stop first",
            PortState.Closed => "the port is closed; create it again",
            _ => "",
        };
        throw new EthDevException($"port {PortId} ({Name}): cannot {operation} while {State}; {hint}");
    }

    private void CheckOffloads(RxOffloads rx, RxOffloads rxCapa, TxOffloads tx, TxOffloads txCapa)
    {
        RxOffloads missingRx = rx & ~rxCapa;
        TxOffloads missingTx = tx & ~txCapa;
        if (missingRx == 0 && missingTx == 0)
            return;
        var parts = new List<string>();
        if (missingRx != 0)
            parts.Add($"RX offloads {missingRx} are not supported (supported: {rxCapa})");
        if (missingTx != 0)
            parts.Add($"TX offloads {missingTx} are not supported (supported: {txCapa})");
        throw new EthDevException($"port {PortId} ({Name}, driver {Driver.Name}): {string.Join("; ", parts)}. " +
            "Request only what DevInfo reports, e.g. conf.RxOffloads & port.Info.RxOffloadCapabilities");
    }

    private void CheckMtu(int mtu, DevInfo info)
    {
        if (mtu < info.MinMtu || mtu > info.MaxMtu)
            throw new EthDevException($"port {PortId} ({Name}): MTU {mtu} is outside the device's range {info.MinMtu}..{info.MaxMtu}");
    }

    private void CheckDescriptors(string kind, int descriptors, DescriptorLimits limits)
    {
        if (descriptors < limits.Min || descriptors > limits.Max || descriptors % limits.Align != 0)
            throw new EthDevException($"port {PortId} ({Name}): {descriptors} {kind} descriptors requested; the device takes {limits.Min} to {limits.Max}" +
                (limits.Align > 1 ? $" in multiples of {limits.Align}" : ""));
    }

    private static ulong Sum(QueueStats[] stats, Func<QueueStats, ulong> field)
    {
        ulong total = 0;
        foreach (QueueStats s in stats)
            total += field(s);
        return total;
    }

    private static string DescribePorts()
    {
        lock (s_registryLock)
        {
            string[] names = s_ports.Where(p => p is not null).Select(p => $"{p!.PortId} ({p.Name})").ToArray();
            return names.Length == 0 ? "none" : string.Join(", ", names);
        }
    }
}
