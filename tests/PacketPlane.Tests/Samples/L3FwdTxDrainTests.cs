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
        using MbufPool farPool = MbufPool.Create("l3drain_far", 256, cacheSize: 0);
        using (var rig = new Rig("l3drain", farPool, 64))
        {
            (L3FwdApp app, EthDev farA, EthDev farB) = (rig.App, rig.FarA, rig.FarB);
            // Five frames for port 1 (198.18.1.0/24): fewer than a burst, so only the drain sends them.
            byte[] frame = Rig.FrameTo(1);
            var burst = new Packet[5];
            Assert.Equal(5, farPool.AllocBulk(burst));
            Rig.Fill(burst, _ => frame);
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
        Assert.Equal(0, farPool.InUse);
    }

    [Fact]
    public void Under_full_bursts_a_partial_buffer_still_leaves_within_eight_polls_of_the_drain_period()
    {
        // After a poll that filled its burst the loop reads the clock only every 8th poll. Each burst here sends 31
        // frames to port 1 and one back out of port 0, so port 0's buffer grows by one a poll and would only fill
        // (and leave by itself) after 32 polls; polls come every 10 µs, so drains must send it first. The first
        // drain that sends something marks the start of a period (the loop's clock is private); the next must come
        // within 8 polls of that period's end.
        using MbufPool farPool = MbufPool.Create("l3drainf_far", 512, cacheSize: 0);
        using (var rig = new Rig("l3drainf", farPool, 256))
        {
            (L3FwdApp app, EthDev farA, EthDev farB) = (rig.App, rig.FarA, rig.FarB);
            byte[] toPort1 = Rig.FrameTo(1);
            byte[] toPort0 = Rig.FrameTo(0);
            IPollWorker worker = app.Forwarders[Lcore];
            long drainTicks = Stopwatch.Frequency * L3Forwarder.DrainMicroseconds / 1_000_000 + 1;
            long pollGap = Stopwatch.Frequency * 10 / 1_000_000;
            var burst = new Packet[32];
            var got = new Packet[32];
            var deliveries = new System.Collections.Generic.List<int>();
            int pollsAfterDrainDue = 0;
            long periodStart = long.MaxValue;
            using (LcoreIdentity.As(Lcore))
            {
                long lastPoll = 0;
                for (int polls = 0; deliveries.Count < 2 && polls < 200; polls++)
                {
                    Assert.Equal(32, farPool.AllocBulk(burst));
                    Rig.Fill(burst, i => i == 0 ? toPort0 : toPort1);
                    Assert.Equal(32, farA.TxBurst(0, burst));
                    while (Stopwatch.GetTimestamp() - lastPoll < pollGap)
                    {
                    }
                    lastPoll = Stopwatch.GetTimestamp();
                    if (lastPoll - periodStart > drainTicks)
                        pollsAfterDrainDue++;
                    Assert.Equal(32, worker.Poll());
                    long pollEnd = Stopwatch.GetTimestamp();
                    for (int n; (n = farB.RxBurst(0, got)) > 0;)
                        Packet.FreeBulk(got.AsSpan(0, n));
                    int back = farA.RxBurst(0, got);
                    Packet.FreeBulk(got.AsSpan(0, back));
                    if (back > 0)
                    {
                        deliveries.Add(back);
                        periodStart = pollEnd;
                    }
                }
                ((L3Forwarder<LpmLookup>)worker).Drain();
                foreach (EthDev far in new[] { farA, farB })
                {
                    for (int n; (n = far.RxBurst(0, got)) > 0;)
                        Packet.FreeBulk(got.AsSpan(0, n));
                }
            }
            Assert.Equal(2, deliveries.Count);
            Assert.InRange(deliveries[1], 1, 31);
            Assert.InRange(pollsAfterDrainDue, 1, 8);
        }
        Assert.Equal(0, farPool.InUse);
    }

    /// <summary>
    /// L3Fwd on lcore <see cref="Lcore"/> over two ring pairs, ports 0 and 1, with the far ends started on
    /// <paramref name="farPool"/> to send into the app and receive what it forwards.
    /// </summary>
    private sealed class Rig : IDisposable
    {
        public Rig(string name, MbufPool farPool, int descriptors)
        {
            EthDev a, b;
            (a, FarA) = RingPort.CreatePair(name + "_a", name + "_fa");
            (b, FarB) = RingPort.CreatePair(name + "_b", name + "_fb");
            App = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x3", $"--config=(0,0,{Lcore})"]), [a, b], [Lcore], TextWriter.Null);
            try
            {
                foreach (EthDev far in new[] { FarA, FarB })
                {
                    far.Configure(1, 1);
                    far.SetupRxQueue(0, descriptors, farPool);
                    far.SetupTxQueue(0, descriptors);
                    far.Start();
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public L3FwdApp App { get; }

        public EthDev FarA { get; }

        public EthDev FarB { get; }

        /// <summary>Writes <paramref name="frameFor"/>(i) into packet i of <paramref name="packets"/>, each fresh from the pool.</summary>
        public static void Fill(Packet[] packets, Func<int, byte[]> frameFor)
        {
            for (int i = 0; i < packets.Length; i++)
            {
                byte[] frame = frameFor(i);
                Assert.True(packets[i].TryAppend(frame.Length));
                frame.CopyTo(packets[i].Data);
            }
        }

        /// <summary>A valid IPv4 frame that the default LPM routes send out of <paramref name="port"/>.</summary>
        public static byte[] FrameTo(int port) => L3FwdTraffic.Cases().First(c => c.LpmPort == port && c.Frame.Length > 40).Frame;

        public void Dispose()
        {
            App.Dispose();
            FarA.Close();
            FarB.Close();
        }
    }
}
