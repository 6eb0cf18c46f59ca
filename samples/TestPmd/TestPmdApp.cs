using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Samples.TestPmd;

/// <summary>Per-port results of a run (testpmd's forward statistics).</summary>
/// <param name="PortId">Port.</param>
/// <param name="RxPackets">Packets received during forwarding.</param>
/// <param name="RxDropped">Packets the port missed (imissed).</param>
/// <param name="TxPackets">Packets the port sent.</param>
/// <param name="TxDropped">Packets the port refused (freed by the engine) plus oerrors.</param>
/// <param name="RxNoMbuf">RX buffer allocation failures.</param>
public readonly record struct PortResult(int PortId, ulong RxPackets, ulong RxDropped, ulong TxPackets, ulong TxDropped, ulong RxNoMbuf);

/// <summary>What a run measured, beyond the per-port counts.</summary>
/// <param name="Ports">Per-port counts.</param>
/// <param name="Packets">Packets counted for the rate: received, or sent in txonly (as testpmd).</param>
/// <param name="Seconds">Wall-clock forwarding time.</param>
/// <param name="CyclesPerPacket">TSC cycles of the forwarding lcores per packet.</param>
/// <param name="AllocatedBytes">Managed bytes the forwarding lcores allocated while forwarding.</param>
/// <param name="Gen0">Gen-0 collections during the run.</param>
/// <param name="Gen1">Gen-1 collections during the run.</param>
/// <param name="Gen2">Gen-2 collections during the run.</param>
public sealed record RunResult(IReadOnlyList<PortResult> Ports, ulong Packets, double Seconds, double CyclesPerPacket,
    long AllocatedBytes, int Gen0, int Gen1, int Gen2)
{
    /// <summary>Million packets per second.</summary>
    public double Mpps => Seconds > 0 ? Packets / Seconds / 1e6 : 0;
}

/// <summary>
/// TestPmd's setup, streams, statistics and teardown (testpmd.c): configures every port with --rxq/--txq queues,
/// pairs ports 0-1, 2-3 (an odd last port forwards to itself), makes one stream per (port, RX queue) to the peer
/// port's TX queue of the same index, and spreads the streams over the forwarding lcores.
/// </summary>
public sealed class TestPmdApp : IDisposable
{
    /// <summary>Mempool cache per lcore.</summary>
    public const int CacheSize = 256;

    private readonly TestPmdOptions _options;
    private readonly IReadOnlyList<EthDev> _ports;
    private readonly TextWriter _out;
    private readonly List<ForwardStream> _streams = new();
    private readonly List<ForwardingLcore> _lcores = new();
    private readonly PortStats[] _start;
    private readonly (ulong Rx, ulong Tx, ulong RxBytes, ulong TxBytes, long Timestamp)[] _lastShown;
    private readonly ForwardEngine _engine;
    private readonly MbufPool _pool;
    private long _startTimestamp;
    private long _endTimestamp;
    private int _gc0, _gc1, _gc2;
    private bool _closed;

    /// <summary>Configures and starts every port and prepares the streams.</summary>
    /// <param name="options">Parsed application arguments.</param>
    /// <param name="ports">Ports by port id.</param>
    /// <param name="workerLcores">Lcores that may forward (the main lcore prints statistics).</param>
    /// <param name="output">Where testpmd's messages and statistics go.</param>
    /// <exception cref="TestPmdArgumentException">No ports, no worker lcore, more cores or queues than there are.</exception>
    public TestPmdApp(TestPmdOptions options, IReadOnlyList<EthDev> ports, IReadOnlyList<int> workerLcores, TextWriter output)
    {
        _options = options;
        _ports = ports;
        _out = output;
        if (ports.Count == 0)
            throw new TestPmdArgumentException("No probed ethernet devices: add ports with --vdev, e.g. --vdev net_null0 --vdev net_null1");
        if (workerLcores.Count == 0)
            throw new TestPmdArgumentException("no forwarding lcore: the main lcore prints statistics, so give at least two lcores (-l 0-1)");
        if (options.ForwardingCores > workerLcores.Count)
            throw new TestPmdArgumentException($"--nb-cores={options.ForwardingCores} is more than the {workerLcores.Count} forwarding lcore(s) available (-l gives the main lcore plus workers)");
        foreach (EthDev port in ports)
        {
            if (options.RxQueues > port.Info.MaxRxQueues || options.TxQueues > port.Info.MaxTxQueues)
                throw new TestPmdArgumentException($"port {port.PortId} ({port.Name}) has at most {port.Info.MaxRxQueues} RX and {port.Info.MaxTxQueues} TX queues; --rxq={options.RxQueues} --txq={options.TxQueues} asked for more");
        }
        BuildStreams();
        int lcoreCount = Math.Min(options.ForwardingCores ?? workerLcores.Count, _streams.Count);
        int mbufs = options.TotalMbufs ?? MbufPool.RequiredCount(ports.Count, options.RxQueues, options.RxDescriptors,
            options.TxQueues, options.TxDescriptors, lcoreCount + 1, options.Burst, CacheSize);
        _out.WriteLine($"testpmd: create a new mbuf pool <mb_pool_0>: n={mbufs}, size={MbufPool.DefaultDataRoomSize}, socket=0");
        _pool = MbufPool.Create("mb_pool_0", mbufs, Math.Min(CacheSize, mbufs * 2 / 3));
        try
        {
            _engine = ForwardEngine.For(options.Mode, _pool);
            foreach (EthDev port in ports)
                ConfigurePort(port);
            foreach (ForwardStream s in _streams)
                _engine.Prepare(s, options);
            AssignStreams(workerLcores.Take(lcoreCount).ToArray());
        }
        catch
        {
            CloseAll();
            throw;
        }
        _start = new PortStats[ports.Count];
        _lastShown = new (ulong, ulong, ulong, ulong, long)[ports.Count];
    }

    /// <summary>The stop flag every forwarding loop polls.</summary>
    public StopFlag Stop { get; } = new();

    /// <summary>Forwarding lcores.</summary>
    public IReadOnlyList<ForwardingLcore> Lcores => _lcores;

    /// <summary>All streams.</summary>
    public IReadOnlyList<ForwardStream> Streams => _streams;

    /// <summary>The packet pool.</summary>
    public MbufPool Pool => _pool;

    /// <summary>
    /// Drains the RX queues before forwarding (testpmd's flush_fwd_rx_queues): two passes, each polling a queue
    /// until it is empty or 100 ms have passed (testpmd allows 1 s; a net_null queue is never empty).
    /// </summary>
    public void FlushRx()
    {
        Span<Packet> burst = stackalloc Packet[32];
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (EthDev port in _ports)
            {
                for (int q = 0; q < _options.RxQueues; q++)
                {
                    long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
                    int n;
                    do
                    {
                        n = port.RxBurst(q, burst);
                        Packet.FreeBulk(burst[..n]);
                    }
                    while (n > 0 && Stopwatch.GetTimestamp() < deadline);
                }
            }
            System.Threading.Thread.Sleep(10);
        }
    }

    /// <summary>Prints the forwarding configuration and takes the statistics baseline (start_packet_forwarding).</summary>
    public void BeginForwarding()
    {
        string mode = TestPmdOptions.ModeName(_options.Mode);
        _out.WriteLine($"{mode} packet forwarding - ports={_ports.Count} - cores={_lcores.Count} - streams={_streams.Count} - NUMA support enabled, MP allocation mode: native");
        foreach (ForwardingLcore l in _lcores)
        {
            _out.WriteLine($"Logical Core {l.LcoreId} (socket 0) forwards packets on {l.Streams.Length} streams:");
            foreach (ForwardStream s in l.Streams)
                _out.WriteLine($"  {s}");
        }
        _out.WriteLine();
        _out.WriteLine($"  {mode} packet forwarding packets/burst={_options.Burst}");
        _out.WriteLine($"  nb forwarding cores={_lcores.Count} - nb forwarding ports={_ports.Count}");
        _out.Flush();
        for (int p = 0; p < _ports.Count; p++)
        {
            _start[p] = _ports[p].GetStats();
            _lastShown[p] = (_start[p].InPackets, _start[p].OutPackets, _start[p].InBytes, _start[p].OutBytes, 0);
        }
        _gc0 = GC.CollectionCount(0);
        _gc1 = GC.CollectionCount(1);
        _gc2 = GC.CollectionCount(2);
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Runs the forwarding loop of <paramref name="lcoreId"/> (call on that lcore).</summary>
    public int RunLcore(int lcoreId) => _lcores.First(l => l.LcoreId == lcoreId).Run();

    /// <summary>Marks the end of forwarding (after every loop returned).</summary>
    public void EndForwarding() => _endTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Prints testpmd's periodic NIC statistics for every port (nic_stats_display).</summary>
    public void PrintNicStats(bool clearScreen)
    {
        var s = new StringBuilder();
        if (clearScreen)
            s.Append("\u001b[2J\u001b[1;1H");
        s.Append("\nPort statistics ====================================");
        string border = "########################";
        for (int p = 0; p < _ports.Count; p++)
        {
            PortStats st = _ports[p].GetStats();
            long now = Stopwatch.GetTimestamp();
            (ulong rx, ulong tx, ulong rxb, ulong txb, long then) = _lastShown[p];
            double seconds = then == 0 ? 0 : (double)(now - then) / Stopwatch.Frequency;
            ulong Rate(ulong cur, ulong prev) => seconds > 0 && cur > prev ? (ulong)((cur - prev) / seconds) : 0;
            _lastShown[p] = (st.InPackets, st.OutPackets, st.InBytes, st.OutBytes, now);
            s.Append(CultureInfo.InvariantCulture, $"\n  {border} NIC statistics for port {p,-2} {border}\n");
            s.Append(CultureInfo.InvariantCulture, $"  RX-packets: {st.InPackets,-10} RX-missed: {st.InMissed,-10} RX-bytes:  {st.InBytes}\n");
            s.Append(CultureInfo.InvariantCulture, $"  RX-errors: {st.InErrors}\n");
            s.Append(CultureInfo.InvariantCulture, $"  RX-nombuf:  {st.RxNoMbuf,-10}\n");
            s.Append(CultureInfo.InvariantCulture, $"  TX-packets: {st.OutPackets,-10} TX-errors: {st.OutErrors,-10} TX-bytes:  {st.OutBytes}\n");
            s.Append("\n  Throughput (since last show)\n");
            s.Append(CultureInfo.InvariantCulture, $"  Rx-pps: {Rate(st.InPackets, rx),12}          Rx-bps: {Rate(st.InBytes, rxb) * 8,12}\n");
            s.Append(CultureInfo.InvariantCulture, $"  Tx-pps: {Rate(st.OutPackets, tx),12}          Tx-bps: {Rate(st.OutBytes, txb) * 8,12}\n");
            s.Append(CultureInfo.InvariantCulture, $"  {border}############################{border}\n");
        }
        _out.Write(s.ToString());
        _out.Flush();
    }

    /// <summary>Counts since <see cref="BeginForwarding"/>, and the cost measurements.</summary>
    public RunResult Result()
    {
        var ports = new List<PortResult>();
        for (int p = 0; p < _ports.Count; p++)
        {
            PortStats now = _ports[p].GetStats(), start = _start[p];
            ulong engineDropped = (ulong)_streams.Where(s => s.TxPort.PortId == _ports[p].PortId).Sum(s => s.Dropped);
            ports.Add(new PortResult(_ports[p].PortId, now.InPackets - start.InPackets, now.InMissed - start.InMissed,
                now.OutPackets - start.OutPackets, engineDropped + (now.OutErrors - start.OutErrors), now.RxNoMbuf - start.RxNoMbuf));
        }
        ulong packets = _options.Mode == ForwardMode.TxOnly
            ? ports.Aggregate(0ul, (sum, r) => sum + r.TxPackets)
            : ports.Aggregate(0ul, (sum, r) => sum + r.RxPackets);
        long end = _endTimestamp == 0 ? Stopwatch.GetTimestamp() : _endTimestamp;
        double seconds = (double)(end - _startTimestamp) / Stopwatch.Frequency;
        double lcoreSeconds = _lcores.Sum(l => (double)l.ElapsedTicks / Stopwatch.Frequency);
        double cycles = lcoreSeconds * TscHz;
        return new RunResult(ports, packets, seconds, packets == 0 ? 0 : cycles / packets, _lcores.Sum(l => l.AllocatedBytes),
            GC.CollectionCount(0) - _gc0, GC.CollectionCount(1) - _gc1, GC.CollectionCount(2) - _gc2);
    }

    /// <summary>Prints testpmd's forward statistics (fwd_stats_display) and the cost lines.</summary>
    public RunResult PrintForwardStats()
    {
        RunResult r = Result();
        const string fwd = "----------------------", acc = "+++++++++++++++";
        var s = new StringBuilder();
        ulong rx = 0, rxDrop = 0, tx = 0, txDrop = 0, noMbuf = 0;
        foreach (PortResult p in r.Ports)
        {
            s.Append(CultureInfo.InvariantCulture, $"\n  {fwd} Forward statistics for port {p.PortId,-2} {fwd}\n");
            s.Append(CultureInfo.InvariantCulture, $"  RX-packets: {p.RxPackets,-14} RX-dropped: {p.RxDropped,-14}RX-total: {p.RxPackets + p.RxDropped}\n");
            if (p.RxNoMbuf > 0)
                s.Append(CultureInfo.InvariantCulture, $"  RX-error: 0\n  RX-nombufs: {p.RxNoMbuf,-14}\n");
            s.Append(CultureInfo.InvariantCulture, $"  TX-packets: {p.TxPackets,-14} TX-dropped: {p.TxDropped,-14}TX-total: {p.TxPackets + p.TxDropped}\n");
            s.Append(CultureInfo.InvariantCulture, $"  {fwd}--------------------------------{fwd}\n");
            rx += p.RxPackets;
            rxDrop += p.RxDropped;
            tx += p.TxPackets;
            txDrop += p.TxDropped;
            noMbuf += p.RxNoMbuf;
        }
        s.Append(CultureInfo.InvariantCulture, $"\n  {acc} Accumulated forward statistics for all ports{acc}\n");
        s.Append(CultureInfo.InvariantCulture, $"  RX-packets: {rx,-14} RX-dropped: {rxDrop,-14}RX-total: {rx + rxDrop}\n");
        s.Append(CultureInfo.InvariantCulture, $"  TX-packets: {tx,-14} TX-dropped: {txDrop,-14}TX-total: {tx + txDrop}\n");
        if (noMbuf > 0)
            s.Append(CultureInfo.InvariantCulture, $"  RX-nombufs: {noMbuf,-14}\n");
        s.Append(CultureInfo.InvariantCulture, $"  {acc}++++++++++++++++++++++++++++++++++++++++++++++{acc}\n");
        string mode = TestPmdOptions.ModeName(_options.Mode);
        double cycles = r.CyclesPerPacket * r.Packets;
        s.Append(CultureInfo.InvariantCulture, $"\n  CPU cycles/packet={r.CyclesPerPacket:F2} (total cycles={cycles:F0} / total {mode} packets={r.Packets}) at {TscHz / 1e6:F0} MHz Clock\n");
        s.Append(CultureInfo.InvariantCulture, $"  Throughput: {r.Mpps:F3} Mpps ({r.Packets} packets in {r.Seconds:F3} s on {_lcores.Count} forwarding lcore(s))\n");
        double perPacket = r.Packets == 0 ? 0 : (double)r.AllocatedBytes / r.Packets;
        s.Append(CultureInfo.InvariantCulture, $"  Managed allocation on forwarding lcores: {r.AllocatedBytes} bytes ({perPacket:F6} bytes/packet); GC collections during the run: gen0={r.Gen0} gen1={r.Gen1} gen2={r.Gen2}\n");
        _out.Write(s.ToString());
        _out.Flush();
        return r;
    }

    /// <summary>Stops and closes every port, then frees the pool (testpmd's "Stopping port"/"Closing ports").</summary>
    public void Shutdown()
    {
        if (_closed)
            return;
        foreach (EthDev port in _ports)
        {
            _out.WriteLine($"\nStopping port {port.PortId}...");
            port.Stop();
            _out.WriteLine("Done");
        }
        foreach (EthDev port in _ports)
        {
            _out.WriteLine($"\nShutting down port {port.PortId}...");
            port.Close();
            _out.WriteLine($"Port {port.PortId} is closed\nDone");
        }
        CloseAll();
        _out.WriteLine("\nBye...");
    }

    /// <summary>Same as <see cref="Shutdown"/>.</summary>
    public void Dispose() => Shutdown();

    /// <summary>TSC frequency in Hz: the "cpu MHz" of /proc/cpuinfo (what rte_get_tsc_hz reports on these VMs).</summary>
    public static double TscHz { get; } = ReadTscHz();

    private void BuildStreams()
    {
        for (int p = 0; p < _ports.Count; p++)
        {
            // Paired topology: 0<->1, 2<->3; an odd last port forwards to itself.
            int peer = (p & 1) == 0 ? (p + 1 < _ports.Count ? p + 1 : p) : p - 1;
            for (int q = 0; q < _options.RxQueues; q++)
                _streams.Add(new ForwardStream(_ports[p], q, _ports[peer], q, _options.PeerOf(_ports[peer].PortId)));
        }
    }

    /// <summary>Spreads streams as testpmd's setup_fwd_config_of_each_lcore: the last lcores take one extra.</summary>
    private void AssignStreams(int[] lcoreIds)
    {
        int perLcore = _streams.Count / lcoreIds.Length;
        int extra = _streams.Count % lcoreIds.Length;
        int next = 0;
        for (int i = 0; i < lcoreIds.Length; i++)
        {
            int count = perLcore + (i >= lcoreIds.Length - extra ? 1 : 0);
            _lcores.Add(new ForwardingLcore(lcoreIds[i], _streams.GetRange(next, count).ToArray(), _engine, Stop, _pool, _options.Burst));
            next += count;
        }
    }

    private void ConfigurePort(EthDev port)
    {
        _out.WriteLine($"Configuring Port {port.PortId} (socket 0)");
        port.Configure(_options.RxQueues, _options.TxQueues);
        int rxd = Math.Clamp(_options.RxDescriptors, port.Info.RxDescriptorLimits.Min, port.Info.RxDescriptorLimits.Max);
        int txd = Math.Clamp(_options.TxDescriptors, port.Info.TxDescriptorLimits.Min, port.Info.TxDescriptorLimits.Max);
        for (int q = 0; q < _options.RxQueues; q++)
            port.SetupRxQueue(q, rxd, _pool);
        for (int q = 0; q < _options.TxQueues; q++)
            port.SetupTxQueue(q, txd);
        port.Start();
        port.Promiscuous = true;
        _out.WriteLine($"Port {port.PortId}: {port.MacAddress.ToString().ToUpperInvariant()}");
    }

    private void CloseAll()
    {
        _closed = true;
        foreach (EthDev port in _ports)
            port.Close();
        _pool?.Dispose();
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
}
