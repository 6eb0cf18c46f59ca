using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>The PacketPlane meter, read the way dotnet-counters and OpenTelemetry read it: through a MeterListener.</summary>
public class MetricsTests
{
    private sealed record Sample(string Instrument, double Value, Dictionary<string, object?> Tags);

    private static List<Sample> Observe(Func<Instrument, bool>? filter = null)
    {
        var samples = new List<Sample>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PacketPlaneMetrics.MeterName && (filter is null || filter(instrument)))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => samples.Add(new(i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => samples.Add(new(i.Name, v, ToDictionary(tags))));
        listener.Start();
        listener.RecordObservableInstruments();
        return samples;
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var d = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> t in tags)
            d[t.Key] = t.Value;
        return d;
    }

    [Fact]
    public void Meter_named_PacketPlane_publishes_every_documented_instrument()
    {
        var names = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == "PacketPlane")
                names.Add(instrument.Name);
        };
        listener.Start();
        Assert.Equal(
            new[]
            {
                "packetplane.lcore.busy_ratio", "packetplane.lcore.polls", "packetplane.mempool.available", "packetplane.mempool.in_use",
                "packetplane.mempool.size", "packetplane.port.bytes", "packetplane.port.errors", "packetplane.port.missed",
                "packetplane.port.nombuf", "packetplane.port.packets",
            },
            names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Port_counters_are_reported_per_queue_and_direction_with_tags()
    {
        using MbufPool pool = MbufPool.Create("metrics_pool", 1024, 0);
        using EthDev port = EthDev.Create("net_null42,size=100");
        port.Configure(2, 2);
        for (int q = 0; q < 2; q++)
        {
            port.SetupRxQueue(q, 128, pool);
            port.SetupTxQueue(q, 128);
        }
        port.Start();
        var burst = new Packet[8];
        Assert.Equal(8, port.RxBurst(1, burst));
        Assert.Equal(8, port.TxBurst(0, burst));
        Assert.Equal(8, port.RxBurst(1, burst));
        Packet.FreeBulk(burst);

        List<Sample> samples = Observe().Where(s => Equals(s.Tags.GetValueOrDefault("name"), "net_null42")).ToList();
        double Value(string instrument, string direction, int queue) => samples.Single(s =>
            s.Instrument == instrument && (string?)s.Tags["direction"] == direction && s.Tags.TryGetValue("queue", out object? q) && (int)q! == queue).Value;

        Assert.Equal(16, Value("packetplane.port.packets", "rx", 1));
        Assert.Equal(0, Value("packetplane.port.packets", "rx", 0));
        Assert.Equal(1600, Value("packetplane.port.bytes", "rx", 1));
        Assert.Equal(8, Value("packetplane.port.packets", "tx", 0));
        Assert.Equal(800, Value("packetplane.port.bytes", "tx", 0));
        Assert.Equal(0, Value("packetplane.port.errors", "tx", 1));
        Assert.Equal(0, Value("packetplane.port.missed", "rx", 0));
        Sample tagged = samples.First(s => s.Instrument == "packetplane.port.packets");
        Assert.Equal("net_null", tagged.Tags["driver"]);
        Assert.Equal((int)port.PortId, tagged.Tags["port"]);
        // The device-level part has no queue tag.
        Assert.Contains(samples, s => s.Instrument == "packetplane.port.missed" && !s.Tags.ContainsKey("queue"));
    }

    [Fact]
    public void No_mbuf_failures_are_counted()
    {
        using MbufPool pool = MbufPool.Create("metrics_tiny", 4, 0);
        using EthDev port = EthDev.Create("net_null43");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 16, pool);
        port.SetupTxQueue(0, 16);
        port.Start();
        var burst = new Packet[8];
        Assert.Equal(0, port.RxBurst(0, burst)); // 8 wanted, 4 in the pool
        Sample nombuf = Observe(i => i.Name == "packetplane.port.nombuf")
            .Single(s => Equals(s.Tags.GetValueOrDefault("name"), "net_null43") && s.Tags.ContainsKey("queue"));
        Assert.Equal(8, nombuf.Value);
    }

    [Fact]
    public void Pool_gauges_follow_allocations()
    {
        using MbufPool pool = MbufPool.Create("metrics_gauge", 256, 0);
        var held = new Packet[10];
        Assert.Equal(10, pool.AllocBulk(held));
        List<Sample> samples = Observe(i => i.Name.StartsWith("packetplane.mempool", StringComparison.Ordinal))
            .Where(s => (string?)s.Tags["pool"] == "metrics_gauge").ToList();
        Assert.Equal(10, samples.Single(s => s.Instrument == "packetplane.mempool.in_use").Value);
        Assert.Equal(246, samples.Single(s => s.Instrument == "packetplane.mempool.available").Value);
        Assert.Equal(256, samples.Single(s => s.Instrument == "packetplane.mempool.size").Value);
        Packet.FreeBulk(held);
        Assert.Equal(0, Observe(i => i.Name == "packetplane.mempool.in_use").Single(s => (string?)s.Tags["pool"] == "metrics_gauge").Value);
    }

    [Fact]
    public void Busy_ratio_is_polls_with_packets_over_all_polls_since_the_last_observation()
    {
        const int lcore = 1001;
        LcorePollStats.Reset(lcore);
        LcorePollStats.Record(lcore, 32);
        LcorePollStats.Record(lcore, 1);
        LcorePollStats.Record(lcore, 0);
        LcorePollStats.Record(lcore, 5);
        Assert.Equal((4UL, 3UL), LcorePollStats.Get(lcore));
        Assert.Equal(0.75, LcorePollStats.BusyRatio(lcore));

        List<Sample> first = Observe(i => i.Name.StartsWith("packetplane.lcore", StringComparison.Ordinal))
            .Where(s => (int)s.Tags["lcore"]! == lcore).ToList();
        Assert.Equal(0.75, first.Single(s => s.Instrument == "packetplane.lcore.busy_ratio").Value);
        Assert.Equal(3, first.Single(s => s.Instrument == "packetplane.lcore.polls" && (string?)s.Tags["state"] == "busy").Value);
        Assert.Equal(1, first.Single(s => s.Instrument == "packetplane.lcore.polls" && (string?)s.Tags["state"] == "idle").Value);

        for (int i = 0; i < 4; i++)
            LcorePollStats.Record(lcore, 0);
        LcorePollStats.Record(lcore, 7);
        Sample second = Observe(i => i.Name == "packetplane.lcore.busy_ratio").Single(s => (int)s.Tags["lcore"]! == lcore);
        Assert.Equal(0.2, second.Value, 6); // 1 busy of the 5 polls since the first observation
        LcorePollStats.Reset(lcore);
    }

    [Fact]
    public void Recording_polls_allocates_nothing()
    {
        const int lcore = 1002;
        for (int i = 0; i < 1000; i++)
            LcorePollStats.Record(lcore, i & 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000_000; i++)
            LcorePollStats.Record(lcore, i & 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1_001_000UL, LcorePollStats.Get(lcore).Polls);
        LcorePollStats.Reset(lcore);
    }
}
