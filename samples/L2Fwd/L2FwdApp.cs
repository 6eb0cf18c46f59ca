using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Samples.L2Fwd;

/// <summary>
/// L2Fwd's setup and teardown around the forwarding loops (DPDK l2fwd's main()): checks the ports, pairs them,
/// gives each lcore its RX ports, creates the pool and TX buffers, starts the ports; afterwards prints the totals
/// and stops and closes the ports in order.
/// </summary>
public sealed class L2FwdApp : IDisposable
{
    /// <summary>RX/TX descriptors per queue (l2fwd's RX_DESC_DEFAULT / TX_DESC_DEFAULT).</summary>
    public const int Descriptors = 1024;

    /// <summary>Mempool cache per lcore (MEMPOOL_CACHE_SIZE).</summary>
    public const int CacheSize = 256;

    private readonly L2FwdOptions _options;
    private readonly IReadOnlyList<EthDev> _ports;
    private readonly TextWriter _out;
    private readonly int[] _enabled;
    private readonly PortCounters[] _counters;
    private readonly Dictionary<int, TxBuffer> _txBuffers = new();
    private readonly Dictionary<int, L2Forwarder> _forwarders = new();
    private readonly MbufPool _pool;
    private bool _shutDown;
    private long _startTimestamp;
    private long _startPackets;
    private int _gc0, _gc1, _gc2;

    /// <summary>Sets everything up and starts the enabled ports.</summary>
    /// <param name="options">Parsed application arguments.</param>
    /// <param name="ports">The ports; a port's number (as in -p and --portmap) is its position here (the EAL's --vdev order).</param>
    /// <param name="lcoreIds">Lcores available for forwarding, ascending.</param>
    /// <param name="output">Where the l2fwd messages and statistics go.</param>
    /// <exception cref="L2FwdArgumentException">The port mask or map names ports that do not exist, or too few lcores.</exception>
    public L2FwdApp(L2FwdOptions options, IReadOnlyList<EthDev> ports, IReadOnlyList<int> lcoreIds, TextWriter output)
    {
        _options = options;
        _ports = ports;
        _out = output;
        _out.WriteLine($"MAC updating {(options.MacUpdating ? "enabled" : "disabled")}");
        if (ports.Count == 0)
            throw new L2FwdArgumentException("No Ethernet ports - bye (add ports with --vdev, e.g. --vdev net_ring0)");
        ulong possible = ports.Count >= 64 ? ulong.MaxValue : (1UL << ports.Count) - 1;
        if ((options.PortMask & ~possible) != 0)
            throw new L2FwdArgumentException($"Invalid portmask; possible (0x{possible:x})");
        ulong mask = options.PortMask;
        int[] destination = Pair(options, ref mask);
        _enabled = PortMask.Ports(mask).ToArray();
        _counters = Enumerable.Range(0, ports.Count).Select(_ => new PortCounters()).ToArray();
        Dictionary<int, List<int>> rxByLcore = AssignLcores(lcoreIds, destination);
        int lcores = rxByLcore.Count;
        _pool = MbufPool.Create("mbuf_pool", MbufPool.RequiredCount(_enabled.Length, 1, Descriptors, 1, Descriptors, lcores, L2Forwarder.MaxBurst, CacheSize), CacheSize);
        try
        {
            foreach (int p in _enabled)
                InitPort(p, ports[p]);
            foreach ((int lcore, List<int> rx) in rxByLcore)
            {
                TxPort TxOf(int p) => new(_txBuffers[destination[p]], destination[p]);
                RxPort[] rxPorts = rx.Select(p => new RxPort(ports[p], p, TxOf(p))).ToArray();
                TxPort[] txPorts = rx.Select(TxOf).Distinct().ToArray();
                _forwarders[lcore] = new L2Forwarder(lcore, rxPorts, txPorts, _counters, Control, options.MacUpdating);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The stop flag of every loop.</summary>
    public ForwardingControl Control { get; } = new();

    /// <summary>The forwarding loops by lcore id.</summary>
    public IReadOnlyDictionary<int, L2Forwarder> Forwarders => _forwarders;

    /// <summary>The packet pool.</summary>
    public MbufPool Pool => _pool;

    /// <summary>Counters by port id.</summary>
    public IReadOnlyList<PortCounters> Counters => _counters;

    /// <summary>Runs the loop of the calling lcore, if it has one (l2fwd_launch_one_lcore).</summary>
    public int RunLcore(int lcoreId)
    {
        if (!_forwarders.TryGetValue(lcoreId, out L2Forwarder? forwarder))
        {
            _out.WriteLine($"L2FWD: lcore {lcoreId} has nothing to do");
            return 0;
        }
        _out.WriteLine($"L2FWD: entering main loop on lcore {lcoreId}");
        foreach (int p in forwarder.RxPortIds)
            _out.WriteLine($"L2FWD:  -- lcoreid={lcoreId} portid={p}");
        // The lcore's mempool cache is made on its first use: do that before the loop measures its allocations.
        Packet warm = _pool.Alloc();
        if (!warm.IsNull)
            warm.Free();
        forwarder.Run();
        return 0;
    }

    /// <summary>
    /// Marks the start of forwarding for <see cref="PrintCost"/>: the GC collection counts and the packets
    /// received so far. Call it just before launching the loops.
    /// </summary>
    public void BeginForwarding()
    {
        _gc0 = GC.CollectionCount(0);
        _gc1 = GC.CollectionCount(1);
        _gc2 = GC.CollectionCount(2);
        _startPackets = _enabled.Sum(p => _counters[p].Received);
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Prints what forwarding cost, in the lines TestPmd prints too (the compare scripts read both the same way):
    /// TSC cycles of the forwarding lcores per received packet, throughput, managed bytes the forwarding lcores
    /// allocated and GC collections since <see cref="BeginForwarding"/>.
    /// </summary>
    public void PrintCost()
    {
        long packets = _enabled.Sum(p => _counters[p].Received) - _startPackets;
        double seconds = (double)(Stopwatch.GetTimestamp() - _startTimestamp) / Stopwatch.Frequency;
        double lcoreSeconds = _forwarders.Values.Sum(f => (double)f.ElapsedTicks / Stopwatch.Frequency);
        double cycles = lcoreSeconds * TscHz;
        long allocated = _forwarders.Values.Sum(f => f.AllocatedBytes);
        var s = new System.Text.StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"\n  CPU cycles/packet={(packets == 0 ? 0 : cycles / packets):F2} (total cycles={cycles:F0} / total received packets={packets}) at {TscHz / 1e6:F0} MHz Clock\n");
        s.Append(CultureInfo.InvariantCulture, $"  Throughput: {(seconds > 0 ? packets / seconds / 1e6 : 0):F3} Mpps ({packets} packets in {seconds:F3} s on {_forwarders.Count} forwarding lcore(s))\n");
        s.Append(CultureInfo.InvariantCulture, $"  Managed allocation on forwarding lcores: {allocated} bytes ({(packets == 0 ? 0 : (double)allocated / packets):F6} bytes/packet); GC collections during the run: gen0={GC.CollectionCount(0) - _gc0} gen1={GC.CollectionCount(1) - _gc1} gen2={GC.CollectionCount(2) - _gc2}\n");
        _out.Write(s.ToString());
        _out.Flush();
    }

    /// <summary>TSC frequency in Hz: the "cpu MHz" of /proc/cpuinfo (what rte_get_tsc_hz reports on these VMs).</summary>
    public static double TscHz { get; } = ReadTscHz();

    /// <summary>Packets dropped on <paramref name="portId"/> because its TX queue was full.</summary>
    public long Dropped(int portId) => _txBuffers.TryGetValue(portId, out TxBuffer? b) ? (long)b.Dropped : 0;

    /// <summary>Prints l2fwd's statistics block (print_stats), clearing the screen first on a terminal.</summary>
    public void PrintStats(bool clearScreen)
    {
        long totalSent = 0, totalReceived = 0, totalDropped = 0;
        var s = new System.Text.StringBuilder();
        if (clearScreen)
            s.Append("\u001b[2J\u001b[1;1H");
        s.Append("\nPort statistics ====================================");
        foreach (int p in _enabled)
        {
            long sent = _counters[p].Sent, received = _counters[p].Received, dropped = Dropped(p);
            s.Append($"\nStatistics for port {p} ------------------------------");
            s.Append($"\nPackets sent: {sent,24}");
            s.Append($"\nPackets received: {received,20}");
            s.Append($"\nPackets dropped: {dropped,21}");
            totalSent += sent;
            totalReceived += received;
            totalDropped += dropped;
        }
        s.Append("\nAggregate statistics ===============================");
        s.Append($"\nTotal packets sent: {totalSent,18}");
        s.Append($"\nTotal packets received: {totalReceived,14}");
        s.Append($"\nTotal packets dropped: {totalDropped,15}");
        s.Append("\n====================================================\n");
        _out.Write(s.ToString());
        _out.Flush();
    }

    /// <summary>
    /// After every loop returned: prints the final totals, then stops and closes the ports (each loop already sent
    /// what it buffered) and frees the pool.
    /// </summary>
    public void Shutdown()
    {
        if (_shutDown)
            return;
        _shutDown = true;
        PrintStats(clearScreen: false);
        if (_startTimestamp != 0)
            PrintCost();
        foreach (int p in _enabled)
        {
            _out.Write($"Closing port {p}...");
            _ports[p].Stop();
            _ports[p].Close();
            _out.WriteLine(" Done");
        }
        _pool.Dispose();
        _out.WriteLine("Bye...");
    }

    /// <summary>Same as <see cref="Shutdown"/> (without printing if setup failed).</summary>
    public void Dispose()
    {
        if (_shutDown)
            return;
        if (_forwarders.Count > 0)
        {
            Shutdown();
            return;
        }
        _shutDown = true;
        foreach (int p in _enabled ?? [])
            _ports[p].Close();
        _pool?.Dispose();
    }

    /// <summary>Each enabled port's destination: --portmap pairs, else consecutive enabled ports (l2fwd_dst_ports).</summary>
    private int[] Pair(L2FwdOptions options, ref ulong mask)
    {
        int[] destination = new int[_ports.Count];
        if (options.PortMap is { } map)
        {
            ulong mapped = 0;
            foreach ((int a, int b) in map)
            {
                foreach (int p in new[] { a, b })
                {
                    if ((mask & (1UL << p)) == 0)
                        throw new L2FwdArgumentException($"port {p} is not enabled in port mask");
                    if (p >= _ports.Count)
                        throw new L2FwdArgumentException($"port {p} is not present on the board");
                }
                destination[a] = b;
                destination[b] = a;
                mapped |= (1UL << a) | (1UL << b);
            }
            mask &= mapped; // as l2fwd: ports in the mask but in no pair are left out
            return destination;
        }
        int last = -1;
        int count = 0;
        foreach (int p in PortMask.Ports(mask))
        {
            if (count % 2 == 1)
            {
                destination[p] = last;
                destination[last] = p;
            }
            else
            {
                last = p;
            }
            count++;
        }
        if (count % 2 == 1)
        {
            _out.WriteLine("Notice: odd number of ports in portmask.");
            destination[last] = last;
        }
        return destination;
    }

    /// <summary>Gives each lcore up to -q RX ports, in lcore order, as l2fwd does.</summary>
    private Dictionary<int, List<int>> AssignLcores(IReadOnlyList<int> lcoreIds, int[] destination)
    {
        var byLcore = new Dictionary<int, List<int>>();
        int index = 0;
        foreach (int p in _enabled)
        {
            while (index < lcoreIds.Count && byLcore.TryGetValue(lcoreIds[index], out List<int>? list) && list.Count == _options.PortsPerLcore)
                index++;
            if (index >= lcoreIds.Count)
                throw new L2FwdArgumentException($"Not enough cores: {_enabled.Length} ports at {_options.PortsPerLcore} per lcore need {(_enabled.Length + _options.PortsPerLcore - 1) / _options.PortsPerLcore} lcores, {lcoreIds.Count} given (-l); raise -q or add lcores");
            int lcore = lcoreIds[index];
            if (!byLcore.TryGetValue(lcore, out List<int>? ports))
                byLcore[lcore] = ports = new List<int>();
            ports.Add(p);
            _out.WriteLine($"Lcore {lcore}: RX port {p} TX port {destination[p]}");
        }
        return byLcore;
    }

    private static double ReadTscHz()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                    return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) * 1e6;
            }
        }
        catch (IOException)
        {
        }
        return Stopwatch.Frequency; // no cpuinfo: report ticks of the monotonic clock instead
    }

    private void InitPort(int portId, EthDev port)
    {
        _out.Write($"Initializing port {portId}... ");
        port.Configure(1, 1, new EthConf { TxOffloads = port.Info.TxOffloadCapabilities & TxOffloads.MbufFastFree });
        int rxd = Math.Clamp(Descriptors, port.Info.RxDescriptorLimits.Min, port.Info.RxDescriptorLimits.Max);
        int txd = Math.Clamp(Descriptors, port.Info.TxDescriptorLimits.Min, port.Info.TxDescriptorLimits.Max);
        port.SetupRxQueue(0, rxd, _pool);
        port.SetupTxQueue(0, txd);
        _txBuffers[portId] = new TxBuffer(port, 0, L2Forwarder.MaxBurst);
        port.Start();
        _out.WriteLine("done: ");
        if (_options.Promiscuous)
            port.Promiscuous = true;
        _out.WriteLine($"Port {portId}, MAC address: {port.MacAddress.ToString().ToUpperInvariant()}");
        _out.WriteLine();
    }
}
