using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Pcap;

/// <summary>
/// <c>net_pcap</c>: a port backed by pcap files (DPDK's pcap PMD, file mode). RX replays <c>rx_pcap</c> (once, or
/// forever from memory with <c>infinite_rx=1</c>), copying each record into fresh mbufs with its timestamp in
/// <see cref="Mbuf.Timestamp"/> (ns); TX writes <c>tx_pcap</c>. With only rx_pcap, TX counts and drops; with only
/// tx_pcap, RX returns nothing. Files are checked at creation, so a damaged capture fails there, naming the record
/// and its byte offset.
/// </summary>
internal sealed class PcapDriver : EthDriver
{
    /// <summary>DPDK's ETH_PCAP_SNAPSHOT_LEN_DEFAULT.</summary>
    public const int DefaultSnapLength = 65535;

    private static int s_deviceIndex;

    public override string Name => "net_pcap";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["rx_pcap"] = "pcap file to receive from (microsecond or nanosecond format, either byte order, Ethernet link type); repeat for more RX queues",
        ["tx_pcap"] = "pcap file to write what the port sends to (created or truncated; nanosecond format); repeat for more TX queues",
        ["infinite_rx"] = "1 to load rx_pcap into memory once and replay it forever, default 0 (read it once)",
        ["snaplen"] = $"bytes of each sent packet written to tx_pcap, 64 to {PcapFormat.MaxRecordLength}, default {DefaultSnapLength}",
    };

    /// <summary>As DPDK: each rx_pcap is one RX queue, each tx_pcap one TX queue.</summary>
    public override IReadOnlyCollection<string> RepeatableParameters { get; } = ["rx_pcap", "tx_pcap"];

    public override EthDevice Create(DeviceArguments args)
    {
        string name = args.DeviceName;
        IReadOnlyList<string> rx = args.GetAll("rx_pcap");
        IReadOnlyList<string> tx = args.GetAll("tx_pcap");
        bool infinite = args.GetBool("infinite_rx", false);
        uint snap = (uint)args.GetInt32("snaplen", DefaultSnapLength, 64, (int)PcapFormat.MaxRecordLength);
        if (rx.Count == 0 && tx.Count == 0)
            throw new DeviceArgumentException($"device '{name}' needs rx_pcap=FILE, tx_pcap=FILE or both, e.g. {name},rx_pcap=in.pcap,tx_pcap=out.pcap");
        if (rx.Concat(tx).Any(string.IsNullOrEmpty))
            throw new DeviceArgumentException($"device '{name}': rx_pcap and tx_pcap need a file name");
        if (infinite && rx.Count == 0)
            throw new DeviceArgumentException($"device '{name}': infinite_rx=1 replays rx_pcap, which is not given");
        string? shared = rx.Select(System.IO.Path.GetFullPath).Intersect(tx.Select(System.IO.Path.GetFullPath)).FirstOrDefault();
        if (shared is not null)
            throw new DeviceArgumentException($"device '{name}': {shared} is both rx_pcap and tx_pcap; writing would truncate the capture being read, so write to another file");
        var readers = new List<PcapReader>();
        var writers = new List<PcapWriter>();
        try
        {
            foreach (string file in rx)
            {
                PcapReader reader = PcapReader.Open(file, infinite, $"{name}: rx_pcap={file}");
                readers.Add(reader);
                if (infinite && reader.RecordCount == 0)
                    throw new DeviceArgumentException($"{name}: rx_pcap={file} has no packets, so infinite_rx=1 has nothing to replay");
            }
            foreach (string file in tx)
                writers.Add(PcapWriter.Create(file, snap, $"{name}: tx_pcap={file}"));
            int index = Interlocked.Increment(ref s_deviceIndex) - 1;
            return new PcapDevice(name, readers, writers, infinite, index);
        }
        catch
        {
            foreach (PcapReader r in readers)
                r.Dispose();
            foreach (PcapWriter w in writers)
                w.Dispose();
            throw;
        }
    }
}

internal sealed class PcapDevice : EthDevice
{
    private readonly List<PcapReader> _readers;
    private readonly List<PcapWriter> _writers;
    private readonly bool _infinite;
    private readonly ILogger _log = Log.For("PacketPlane.Drivers.Pcap");
    private MacAddress _mac;
    private RxOffloads _portRxOffloads;
    private bool _started;
    private bool _closed;

    public PcapDevice(string name, List<PcapReader> readers, List<PcapWriter> writers, bool infinite, int index) : base(name)
    {
        _readers = readers;
        _writers = writers;
        _infinite = infinite;
        // 02:70:63:61:70:xx, "pcap" in a locally administered address, as DPDK's pcap PMD.
        _mac = new MacAddress(0x0270_6361_7000UL | (uint)(index & 0xFF));
        // DPDK: as many queues as files; the missing direction gets one dummy queue per queue of the other.
        int rxQueues = readers.Count > 0 ? readers.Count : writers.Count;
        int txQueues = writers.Count > 0 ? writers.Count : readers.Count;
        Info = new DevInfo
        {
            DriverName = "net_pcap",
            MaxRxQueues = rxQueues,
            MaxTxQueues = txQueues,
            MaxRxPacketLength = (int)PcapFormat.MaxRecordLength,
            MaxMtu = (int)PcapFormat.MaxRecordLength - 18,
            RxOffloadCapabilities = RxOffloads.Scatter | RxOffloads.Timestamp,
            TxOffloadCapabilities = TxOffloads.MultiSegs,
            Mode = DescribeMode(readers, writers, infinite),
        };
        foreach (PcapReader r in readers)
            _log.LogInformation("{Device}: rx_pcap {Path}: {Records} records, largest {Max} bytes{Infinite}", name, r.Path,
                r.RecordCount, r.MaxCapturedLength, infinite ? ", replayed forever from memory" : "");
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    public override LinkStatus Link => new(_started, 10_000);

    public override bool Promiscuous { get; set; } = true;

    public override DeviceCounters DeviceCounters =>
        new(OutErrors: _writers.Aggregate(0ul, (sum, w) => sum + w.LostRecords));

    public override IEnumerable<XStat> XStats =>
        _writers.Select((w, i) => new XStat($"tx_q{i}_pcap_lost_records", w.LostRecords))
            .Concat(_readers.Select((r, i) => new XStat($"rx_q{i}_pcap_file_records", (ulong)r.RecordCount)));

    public override void Configure(EthConf conf, int rxQueues, int txQueues) => _portRxOffloads = conf.RxOffloads;

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        if (queueId >= _readers.Count)
            return new PcapNoRxQueue(portId, queueId);
        bool scatter = ((_portRxOffloads | conf.Offloads) & RxOffloads.Scatter) != 0;
        PcapReader reader = _readers[queueId];
        int room = pool.DataRoomSize - pool.Headroom;
        if (!scatter && reader.MaxCapturedLength > room)
            _log.LogWarning("{Device}: {Path} has records up to {Max} bytes but pool '{Pool}' buffers hold {Room}; without RxOffloads.Scatter those are dropped and counted in ierrors",
                Name, reader.Path, reader.MaxCapturedLength, pool.Name, room);
        return new PcapRxQueue(portId, queueId, reader, pool, scatter, _infinite);
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf) =>
        queueId < _writers.Count ? new PcapTxQueue(portId, queueId, _writers[queueId]) : new PcapDropTxQueue(portId, queueId);

    public override void Start() => _started = true;

    /// <summary>Writes out what the TX queues buffered, so the files are complete while the port is stopped.</summary>
    public override void Stop()
    {
        _started = false;
        FlushWriters();
    }

    public override void Close()
    {
        if (_closed)
            return;
        _closed = true;
        _started = false;
        FlushWriters();
        foreach (PcapWriter w in _writers)
            w.Dispose();
        foreach (PcapReader r in _readers)
            r.Dispose();
    }

    private void FlushWriters()
    {
        foreach (PcapWriter w in _writers)
        {
            if (!w.Flush())
                _log.LogError("{Device}: writing {Path} failed ({Error}); {Lost} records lost so far", Name, w.Path,
                    Interop.Libc.Describe(w.LastError), w.LostRecords);
        }
    }

    private static string DescribeMode(List<PcapReader> readers, List<PcapWriter> writers, bool infinite)
    {
        var parts = new List<string>();
        if (readers.Count > 0)
            parts.Add($"rx from {string.Join(", ", readers.Select(r => r.Path))}{(infinite ? " (infinite)" : "")}");
        else
            parts.Add("rx none");
        parts.Add(writers.Count > 0 ? $"tx to {string.Join(", ", writers.Select(w => w.Path))}" : "tx dropped");
        return string.Join("; ", parts);
    }
}
