using System;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Samples.L3Fwd;
using PacketPlane.Tests.Drivers.Pcap;
using Xunit;

namespace PacketPlane.Tests.Samples;

/// <summary>
/// The L3Fwd loop allocates nothing: a million packets (IPv4 and IPv6, routed, missed and dropped ones) from a
/// net_pcap port replaying forever into net_pcap (tx dropped) and net_null, after a warm-up, with both lookups.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public sealed class L3FwdZeroAllocationTests
{
    private const int Lcore = 6;

    [Theory]
    [InlineData(LookupMode.Lpm)]
    [InlineData(LookupMode.Em)]
    public void The_forwarding_loop_allocates_nothing_over_a_million_packets(LookupMode mode)
    {
        string capture = PcapFiles.TempPath("l3zero");
        try
        {
            PcapFiles.Write(capture, L3FwdTraffic.Cases(repeat: 20).Select((c, i) => new PcapTestRecord(c.Frame, (ulong)i * 1000)));
            string tag = mode.ToString().ToLowerInvariant();
            var ports = new[]
            {
                EthDev.Create($"net_pcap_l3z{tag},rx_pcap={capture},infinite_rx=1"),
                EthDev.Create($"net_null_l3z{tag}"),
            };
            using var app = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x3", $"--config=(0,0,{Lcore})", $"--lookup={tag}"]), ports, [Lcore], TextWriter.Null);
            IPollWorker worker = app.Forwarders[Lcore];
            using (LcoreIdentity.As(Lcore))
            {
                PollUntil(app, worker, 200_000); // warm-up: tier-up, pool caches filled
                long start = app.TotalReceived;
                long before = GC.GetAllocatedBytesForCurrentThread();
                PollUntil(app, worker, start + 1_000_000);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                worker.Drain();
                Assert.True(app.TotalReceived - start >= 1_000_000);
                Assert.Equal(0, allocated);
            }
            // The run went through every path: both output ports, misses and each drop reason.
            L3FwdCounters c = app.Counters(0);
            Assert.True(app.Sent(0) > 0 && app.Sent(1) > 0 && c.NoRoute > 0);
            Assert.True(c.BadHeader > 0 && c.BadChecksum > 0 && c.Expired > 0 && c.NotIp > 0);
        }
        finally
        {
            File.Delete(capture);
        }
    }

    private static void PollUntil(L3FwdApp app, IPollWorker worker, long received)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(120);
        while (app.TotalReceived < received)
        {
            for (int i = 0; i < 1000; i++)
                worker.Poll();
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"only {app.TotalReceived} of {received} packets in 120 s");
        }
    }
}
