using System;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Samples.L2Fwd;
using Xunit;

namespace PacketPlane.Tests.Samples;

/// <summary>The L2Fwd inner loop allocates nothing: a million packets between two net_null ports, after a warm-up.</summary>
[Collection(LcoreIdentity.Collection)]
public class L2FwdZeroAllocationTests
{
    [Fact]
    public void The_forwarding_loop_allocates_nothing_over_a_million_packets()
    {
        var ports = new[] { EthDev.Create("net_null_l2z0"), EthDev.Create("net_null_l2z1") };
        using var app = new L2FwdApp(L2FwdOptions.Parse(["-p", "0x3", "-q", "2"]), ports, [4], TextWriter.Null);
        using var _ = LcoreIdentity.As(4);
        L2Forwarder forwarder = app.Forwarders[4];
        RunUntil(app, forwarder, 100_000); // warm-up
        app.Control.Reset();
        long start = app.Counters[0].Received + app.Counters[1].Received;
        long allocated = RunUntil(app, forwarder, start + 1_000_000);
        Assert.True(app.Counters[0].Received + app.Counters[1].Received - start >= 1_000_000);
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// Runs the loop on this thread; a watcher thread stops it once <paramref name="target"/> packets were received.
    /// Returns the bytes this thread allocated inside the loop.
    /// </summary>
    private static long RunUntil(L2FwdApp app, L2Forwarder forwarder, long target)
    {
        var watcher = new Thread(() =>
        {
            DateTime deadline = DateTime.UtcNow.AddSeconds(60);
            while (app.Counters[0].Received + app.Counters[1].Received < target && DateTime.UtcNow < deadline)
                Thread.Sleep(1);
            app.Control.RequestStop();
        });
        watcher.Start();
        long before = GC.GetAllocatedBytesForCurrentThread();
        forwarder.Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        watcher.Join();
        return allocated;
    }
}
