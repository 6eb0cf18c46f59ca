using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;

namespace PacketPlane.Telemetry;

/// <summary>
/// PacketPlane's <see cref="System.Diagnostics.Metrics.Meter"/>, named <c>PacketPlane</c>. It exists as soon as the
/// library is loaded, so <c>dotnet-counters monitor --counters PacketPlane</c> and OpenTelemetry's
/// <c>AddMeter("PacketPlane")</c> see it without any code in the application. Every instrument is observable:
/// nothing is recorded on the datapath; the callbacks read the counters the queues, pools and poll loops keep
/// anyway, when a listener asks.
/// </summary>
/// <remarks>
/// <para>Port instruments (ObservableCounter, tags <c>port</c> (id), <c>name</c>, <c>driver</c>, <c>direction</c>
/// (<c>rx</c>/<c>tx</c>) and <c>queue</c>): <c>packetplane.port.packets</c>, <c>packetplane.port.bytes</c>,
/// <c>packetplane.port.errors</c>, <c>packetplane.port.missed</c> (RX), <c>packetplane.port.nombuf</c> (RX).
/// A measurement without a <c>queue</c> tag is the part the device counts itself (kernel or NIC drops); the
/// port total is the sum over all of a port's measurements.</para>
/// <para>Pool instruments (ObservableGauge, tag <c>pool</c>): <c>packetplane.mempool.available</c>,
/// <c>packetplane.mempool.in_use</c>, <c>packetplane.mempool.size</c>.</para>
/// <para>Lcore instruments (tag <c>lcore</c>): <c>packetplane.lcore.polls</c> (ObservableCounter, extra tag
/// <c>state</c> = <c>busy</c>/<c>idle</c>) and <c>packetplane.lcore.busy_ratio</c> (ObservableGauge, busy polls
/// over all polls since the previous observation, 0..1).</para>
/// </remarks>
public static class PacketPlaneMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PacketPlane";

    private static readonly object s_ratioLock = new();
    private static readonly (ulong Polls, ulong Busy)[] s_lastObserved = new (ulong, ulong)[LcorePollStats.MaxLcores];

    /// <summary>The meter. Created when the library loads.</summary>
    public static Meter Meter { get; } = CreateMeter();

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The meter must exist before the application touches any PacketPlane type, so tools that attach (dotnet-counters) find it without glue code.")]
    internal static void Initialize() => _ = Meter;

    private static Meter CreateMeter()
    {
        var meter = new Meter(MeterName, typeof(PacketPlaneMetrics).Assembly.GetName().Version?.ToString());
        meter.CreateObservableCounter("packetplane.port.packets", () => PortMeasurements(Field.Packets), "{packet}", "Packets received (rx) or sent (tx) per port and queue");
        meter.CreateObservableCounter("packetplane.port.bytes", () => PortMeasurements(Field.Bytes), "By", "Bytes received (rx) or sent (tx) per port and queue");
        meter.CreateObservableCounter("packetplane.port.errors", () => PortMeasurements(Field.Errors), "{packet}", "Packets in error: bad frames received (rx), frames that failed to send (tx)");
        meter.CreateObservableCounter("packetplane.port.missed", () => PortMeasurements(Field.Missed), "{packet}", "Packets dropped because the receive ring was full (imissed)");
        meter.CreateObservableCounter("packetplane.port.nombuf", () => PortMeasurements(Field.NoMbuf), "{packet}", "Receive buffer allocation failures (rx_nombuf)");
        meter.CreateObservableGauge("packetplane.mempool.available", () => PoolMeasurements(p => p.Available), "{mbuf}", "Free mbufs in the pool, lcore caches included");
        meter.CreateObservableGauge("packetplane.mempool.in_use", () => PoolMeasurements(p => p.InUse), "{mbuf}", "Mbufs allocated and not yet freed");
        meter.CreateObservableGauge("packetplane.mempool.size", () => PoolMeasurements(p => p.Count), "{mbuf}", "Mbufs in the pool");
        meter.CreateObservableCounter("packetplane.lcore.polls", LcorePolls, "{poll}", "Poll-loop iterations per lcore, busy (found packets) or idle");
        meter.CreateObservableGauge("packetplane.lcore.busy_ratio", LcoreBusyRatios, "1", "Share of polls that found packets since the previous observation");
        return meter;
    }

    private enum Field
    {
        Packets,
        Bytes,
        Errors,
        Missed,
        NoMbuf,
    }

    private static IEnumerable<Measurement<long>> PortMeasurements(Field field)
    {
        var list = new List<Measurement<long>>();
        foreach (EthDev port in EthDev.All)
        {
            if (port.State == PortState.Closed)
                continue;
            string driver = port.Driver.Name;
            for (int q = 0; q < port.RxQueueCount; q++)
            {
                if (port.RxQueueOrNull(q) is RxQueue rx)
                    AddQueue(list, field, rx.Snapshot, port, driver, "rx", q);
            }
            if (field is Field.Packets or Field.Bytes or Field.Errors)
            {
                for (int q = 0; q < port.TxQueueCount; q++)
                {
                    if (port.TxQueueOrNull(q) is TxQueue tx)
                        AddQueue(list, field, tx.Snapshot, port, driver, "tx", q);
                }
            }
            AddDevice(list, field, port.Device.DeviceCounters, port, driver);
        }
        return list;
    }

    private static void AddQueue(List<Measurement<long>> list, Field field, QueueCounters c, EthDev port, string driver, string direction, int queue)
    {
        ulong value = field switch
        {
            Field.Packets => c.Packets,
            Field.Bytes => c.Bytes,
            Field.Errors => c.Errors,
            Field.Missed => c.Missed,
            _ => c.NoMbuf,
        };
        list.Add(new Measurement<long>((long)value,
            new("port", (int)port.PortId), new("name", port.Name), new("driver", driver), new("direction", direction), new("queue", queue)));
    }

    private static void AddDevice(List<Measurement<long>> list, Field field, DeviceCounters d, EthDev port, string driver)
    {
        (ulong rx, ulong tx) = field switch
        {
            Field.Errors => (d.InErrors, d.OutErrors),
            Field.Missed => (d.InMissed, 0UL),
            Field.NoMbuf => (d.RxNoMbuf, 0UL),
            _ => (0UL, 0UL),
        };
        if (field is Field.Errors or Field.Missed or Field.NoMbuf)
            list.Add(new Measurement<long>((long)rx, new("port", (int)port.PortId), new("name", port.Name), new("driver", driver), new("direction", "rx")));
        if (field is Field.Errors)
            list.Add(new Measurement<long>((long)tx, new("port", (int)port.PortId), new("name", port.Name), new("driver", driver), new("direction", "tx")));
    }

    private static IEnumerable<Measurement<long>> PoolMeasurements(System.Func<MbufPool, int> value)
    {
        var list = new List<Measurement<long>>();
        foreach (MbufPool pool in MbufPool.All)
            list.Add(new Measurement<long>(value(pool), new KeyValuePair<string, object?>("pool", pool.Name)));
        return list;
    }

    private static IEnumerable<Measurement<long>> LcorePolls()
    {
        var list = new List<Measurement<long>>();
        foreach (int lcore in LcorePollStats.ActiveLcores())
        {
            (ulong polls, ulong busy) = LcorePollStats.Get(lcore);
            list.Add(new Measurement<long>((long)busy, new("lcore", lcore), new("state", "busy")));
            list.Add(new Measurement<long>((long)(polls - busy), new("lcore", lcore), new("state", "idle")));
        }
        return list;
    }

    private static IEnumerable<Measurement<double>> LcoreBusyRatios()
    {
        var list = new List<Measurement<double>>();
        lock (s_ratioLock)
        {
            foreach (int lcore in LcorePollStats.ActiveLcores())
            {
                (ulong polls, ulong busy) = LcorePollStats.Get(lcore);
                (ulong lastPolls, ulong lastBusy) = s_lastObserved[lcore];
                if (polls < lastPolls || busy < lastBusy)
                    (lastPolls, lastBusy) = (0, 0); // reset since the previous observation
                ulong dPolls = polls - lastPolls;
                ulong dBusy = busy - lastBusy;
                s_lastObserved[lcore] = (polls, busy);
                double ratio = dPolls == 0 ? 0 : (double)dBusy / dPolls;
                list.Add(new Measurement<double>(ratio, new KeyValuePair<string, object?>("lcore", lcore)));
            }
        }
        return list;
    }
}
