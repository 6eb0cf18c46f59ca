using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Samples.L3Fwd;
using Xunit;

namespace PacketPlane.Tests.Samples;

/// <summary>
/// L3Fwd's TX buffers (l3fwd's BURST_TX_DRAIN_US): a partial burst waits in its buffer, and the polls send it once
/// 100 µs have passed since the last drain, with no shutdown and no explicit Drain.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public sealed class L3FwdTxDrainTests
{
    private const int Lcore = 5;

    [Fact]
    public void A_partial_burst_waits_in_its_tx_buffer_and_leaves_after_the_100_us_drain_period()
    {
        (EthDev a, EthDev farA) = RingPort.CreatePair("l3drain_a", "l3drain_fa");
        (EthDev b, EthDev farB) = RingPort.CreatePair("l3drain_b", "l3drain_fb");
        using MbufPool farPool = MbufPool.Create("l3drain_far", 256, cacheSize: 0);
        var app = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x3", $"--config=(0,0,{Lcore})"]), [a, b], [Lcore], TextWriter.Null);
        try
        {
            foreach (EthDev f in new[] { farA, farB })
            {
                f.Configure(1, 1);
                f.SetupRxQueue(0, 64, farPool);
                f.SetupTxQueue(0, 64);
                f.Start();
            }
            // Five frames for port 1 (198.18.1.0/24): fewer than a burst, so only the drain sends them.
            byte[] frame = L3FwdTraffic.Cases().First(c => c.LpmPort == 1 && c.Frame.Length > 40).Frame;
            var burst = new Packet[5];
            Assert.Equal(5, farPool.AllocBulk(burst));
            foreach (Packet p in burst)
            {
                Assert.True(p.TryAppend(frame.Length));
                frame.CopyTo(p.Data);
            }
            Assert.Equal(5, farA.TxBurst(0, burst));
            IPollWorker worker = app.Forwarders[Lcore];
            var got = new Packet[32];
            using (LcoreIdentity.As(Lcore))
            {
                // A poll checks the drain clock before it receives, so what it receives stays buffered.
                long firstPoll = Stopwatch.GetTimestamp();
                Assert.Equal(5, worker.Poll());
                Assert.Equal(0, farB.RxBurst(0, got));
                int received = 0;
                long deadline = firstPoll + Stopwatch.Frequency; // 1 s: a loaded machine may deschedule us
                while (received == 0 && Stopwatch.GetTimestamp() < deadline)
                {
                    worker.Poll();
                    received = farB.RxBurst(0, got);
                }
                TimeSpan waited = Stopwatch.GetElapsedTime(firstPoll);
                Assert.Equal(5, received);
                Assert.True(waited >= TimeSpan.FromMicroseconds(L3Forwarder.DrainMicroseconds), $"sent after {waited.TotalMicroseconds} µs");
                Packet.FreeBulk(got.AsSpan(0, received));
            }
            Assert.Equal(5, app.Sent(1));
        }
        finally
        {
            app.Dispose();
            farA.Close();
            farB.Close();
        }
        Assert.Equal(0, farPool.InUse);
    }
}
