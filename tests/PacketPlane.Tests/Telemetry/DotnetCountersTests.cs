using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Linq;
using System.Threading;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>
/// dotnet-counters (and dotnet-monitor) read metrics through the runtime's "System.Diagnostics.Metrics" EventSource,
/// asking for meters by name. This test asks that EventSource for "PacketPlane" in-process, the way those tools do
/// over EventPipe, and gets PacketPlane's values without any code in the "application".
/// </summary>
public class DotnetCountersTests
{
    private sealed class MetricsSessionListener : EventListener
    {
        private readonly string _session = Guid.NewGuid().ToString("N");
        public ConcurrentQueue<(string Event, string Instrument, string Tags, string Value)> Seen { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name != "System.Diagnostics.Metrics")
                return;
            EnableEvents(source, EventLevel.Informational, (EventKeywords)0x3, new Dictionary<string, string?>
            {
                ["SessionId"] = _session,
                ["Metrics"] = "PacketPlane",
                ["RefreshInterval"] = "1",
                ["MaxTimeSeries"] = "1000",
                ["MaxHistograms"] = "10",
            });
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.Payload is null || e.PayloadNames is null)
                return;
            string Get(string name) => e.PayloadNames.IndexOf(name) is int i and >= 0 ? e.Payload[i]?.ToString() ?? "" : "";
            if (Get("meterName") == "PacketPlane")
                Seen.Enqueue((e.EventName ?? "", Get("instrumentName"), Get("tags"), Get("lastValue") + Get("rate") + Get("value")));
        }
    }

    [Fact]
    public void The_runtime_metrics_event_source_publishes_packetplane_values_by_meter_name()
    {
        using MbufPool pool = MbufPool.Create("counters_pool", 300, 0);
        var held = new Packet[7];
        pool.AllocBulk(held);
        try
        {
            using var listener = new MetricsSessionListener();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (DateTime.UtcNow < deadline && !listener.Seen.Any(s => s.Instrument == "packetplane.mempool.in_use" && s.Tags.Contains("counters_pool")))
                Thread.Sleep(100);
            var inUse = listener.Seen.Where(s => s.Instrument == "packetplane.mempool.in_use" && s.Tags.Contains("counters_pool")).ToArray();
            Assert.NotEmpty(inUse);
            Assert.Contains(inUse, s => s.Value.StartsWith("7", StringComparison.Ordinal));
            Assert.Contains(listener.Seen, s => s.Event == "BeginInstrumentReporting" && s.Instrument == "packetplane.port.packets");
        }
        finally
        {
            Packet.FreeBulk(held);
        }
    }
}
