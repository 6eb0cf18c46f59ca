using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// net_af_packet over a veth pair whose peer end sits in another network namespace: what the peer sends
/// arrives byte for byte, what the port sends arrives at the peer byte for byte, and with several queue pairs
/// PACKET_FANOUT delivers each frame to exactly one queue.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class AfPacketTrafficTests
{
    private const int Seed = 7;

    /// <summary>Frame sizes cycle through 60..1514 so short, odd and full-size frames all cross.</summary>
    private static int SizeOf(int i) => 60 + (i * 37 % 1455);

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_sent_by_the_peer_arrive_byte_for_byte_in_order()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int total = 100_000;
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_peer_rx", 2048, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface}", pool))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, TestFrames.EtherType, veth.Namespace))
        {
            var burst = new Packet[64];
            int received = 0;
            for (int sent = 0; sent < total;)
            {
                // The peer sends a batch, then the port drains it: no frame can be lost to a full ring.
                int batch = Math.Min(256, total - sent);
                for (int i = 0; i < batch; i++)
                    peer.Send(TestFrames.Build(sent + i, SizeOf(sent + i), Seed));
                sent += batch;
                var clock = Stopwatch.StartNew();
                while (received < sent)
                {
                    int n = port.RxBurst(0, burst);
                    for (int i = 0; i < n; i++)
                    {
                        byte[] got = PortHelper.Bytes(burst[i]);
                        Assert.Equal(received, TestFrames.SequenceOf(got));
                        Assert.Equal(TestFrames.Build(received, SizeOf(received), Seed), got);
                        Assert.Equal(port.PortId, burst[i].Port);
                        received++;
                    }
                    Packet.FreeBulk(burst.AsSpan(0, n));
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stalled at frame {received} of {sent} sent");
                }
            }
            PortStats stats = port.GetStats();
            Assert.Equal((ulong)total, stats.InPackets);
            Assert.Equal(0UL, stats.InMissed);
            Assert.Equal(0UL, stats.InErrors);
            Assert.Equal(0, port.RxBurst(0, burst));
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_from_a_concurrent_full_speed_sender_are_all_accounted_for()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int total = 100_000;
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_fast_rx", 4096, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},framecnt=16384", pool))
        {
            // rawsock.py sends as fast as Python can while the port polls: nothing may be duplicated or
            // corrupted, and anything missing must show up as a kernel drop (imissed).
            using Process sender = Shell.Start($"ip netns exec {veth.Namespace} /usr/bin/python3 {TestFrames.RawSockScript} send {veth.PeerInterface} {total} 128 {Seed}");
            var seen = new bool[total];
            var burst = new Packet[64];
            int received = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(120))
            {
                int n = port.RxBurst(0, burst);
                for (int i = 0; i < n; i++)
                {
                    byte[] got = PortHelper.Bytes(burst[i]);
                    long seq = TestFrames.SequenceOf(got);
                    Assert.InRange(seq, 0, total - 1);
                    Assert.False(seen[seq], $"frame {seq} arrived twice");
                    seen[seq] = true;
                    Assert.Equal(TestFrames.Build((int)seq, 128, Seed), got);
                    received++;
                }
                Packet.FreeBulk(burst.AsSpan(0, n));
                if (n == 0 && sender.HasExited)
                {
                    if (port.RxBurst(0, burst) == 0)
                        break;
                    Packet.FreeBulk(burst.AsSpan(0, 0));
                }
            }
            sender.WaitForExit();
            Assert.Equal(0, sender.ExitCode);
            PortStats stats = port.GetStats();
            Assert.Equal((ulong)received, stats.InPackets);
            Assert.Equal((ulong)total, stats.InPackets + stats.InMissed);
            XStat kernel = port.GetXStats().Single(x => x.Name == "rx_q0_kernel_packets");
            Assert.Equal((ulong)total, kernel.Value);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_sent_by_the_port_arrive_at_the_peer_byte_for_byte()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int total = 20_000;
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_tx", 2048, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface}", pool))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, TestFrames.EtherType, veth.Namespace))
        {
            var burst = new Packet[32];
            for (int sent = 0; sent < total; sent += burst.Length)
            {
                for (int i = 0; i < burst.Length; i++)
                    burst[i] = PortHelper.Make(pool, TestFrames.Build(sent + i, SizeOf(sent + i), Seed));
                PortHelper.SendAll(port, 0, burst);
                for (int i = 0; i < burst.Length; i++)
                {
                    byte[]? got = peer.Receive(TimeSpan.FromSeconds(5));
                    Assert.NotNull(got);
                    Assert.Equal(TestFrames.Build(sent + i, SizeOf(sent + i), Seed), got);
                }
            }
            Assert.Null(peer.Receive(TimeSpan.FromMilliseconds(100)));
            PortStats stats = port.GetStats();
            Assert.Equal((ulong)total, stats.OutPackets);
            Assert.Equal(0UL, stats.OutErrors);
            Assert.Equal(0, pool.InUse);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_sent_by_the_port_are_read_back_by_rawsock_py()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int total = 2_000;
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_tx_py", 1024, cacheSize: 0);
        string outFile = Path.Combine(Path.GetTempPath(), $"pp_afp_{Environment.ProcessId}.hex");
        try
        {
            using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},qdisc_bypass=0", pool))
            {
                using Process receiver = Shell.Start($"ip netns exec {veth.Namespace} /usr/bin/python3 {TestFrames.RawSockScript} recv {veth.PeerInterface} {total} 30 {outFile}");
                System.Threading.Thread.Sleep(1500); // rawsock.py binds its socket before the port starts sending
                var burst = new Packet[20];
                for (int sent = 0; sent < total; sent += burst.Length)
                {
                    for (int i = 0; i < burst.Length; i++)
                        burst[i] = PortHelper.Make(pool, TestFrames.Build(sent + i, 100, Seed));
                    PortHelper.SendAll(port, 0, burst);
                    System.Threading.Thread.Sleep(1); // Python reads slowly; pace so its socket never overflows
                }
                Assert.True(receiver.WaitForExit(60_000));
            }
            string[] lines = File.ReadAllLines(outFile);
            Assert.Equal(total, lines.Length);
            for (int i = 0; i < total; i++)
                Assert.Equal(Convert.ToHexString(TestFrames.Build(i, 100, Seed)), lines[i], ignoreCase: true);
        }
        finally
        {
            File.Delete(outFile);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Fanout_over_four_queue_pairs_delivers_every_frame_exactly_once()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int total = 100_000, queues = 4, flows = 64;
        using VethPair veth = VethPair.Create(queues: queues);
        using MbufPool pool = MbufPool.Create("afp_fanout", 8192, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},qpairs={queues}", pool, queues))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, 0x0800, veth.Namespace))
        {
            var seen = new int[total];
            var perQueue = new int[queues];
            var burst = new Packet[64];
            int received = 0;
            for (int sent = 0; sent < total;)
            {
                int batch = Math.Min(256, total - sent);
                for (int i = 0; i < batch; i++)
                    peer.Send(FlowFrames.Build(sent + i, 64 + (sent + i) % 200, flows));
                sent += batch;
                var clock = Stopwatch.StartNew();
                while (received < sent && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    for (int q = 0; q < queues; q++)
                    {
                        int n = port.RxBurst(q, burst);
                        for (int i = 0; i < n; i++)
                        {
                            byte[] got = PortHelper.Bytes(burst[i]);
                            long seq = FlowFrames.SequenceOf(got);
                            Assert.InRange(seq, 0, sent - 1);
                            Assert.Equal(FlowFrames.Build((int)seq, got.Length, flows), got);
                            seen[seq]++;
                        }
                        Packet.FreeBulk(burst.AsSpan(0, n));
                        perQueue[q] += n;
                        received += n;
                    }
                }
                Assert.Equal(sent, received);
            }
            Assert.All(seen, count => Assert.Equal(1, count));
            Assert.All(perQueue, count => Assert.True(count > 0, $"a queue got nothing: {string.Join(", ", perQueue)}"));
            PortStats stats = port.GetStats();
            Assert.Equal((ulong)total, stats.InPackets);
            Assert.Equal(0UL, stats.InMissed);
            for (int q = 0; q < queues; q++)
                Assert.Equal((ulong)perQueue[q], stats.RxQueues[q].Packets);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Each_tx_queue_of_a_multi_queue_port_sends()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int queues = 3, perQueue = 500;
        using VethPair veth = VethPair.Create(queues: queues);
        using MbufPool pool = MbufPool.Create("afp_mq_tx", 2048, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},qpairs={queues}", pool, queues))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, TestFrames.EtherType, veth.Namespace))
        {
            var got = new HashSet<long>();
            for (int q = 0; q < queues; q++)
            {
                var burst = new Packet[perQueue];
                for (int i = 0; i < perQueue; i++)
                    burst[i] = PortHelper.Make(pool, TestFrames.Build(q * perQueue + i, 80, Seed));
                PortHelper.SendAll(port, q, burst);
                for (int i = 0; i < perQueue; i++)
                {
                    byte[]? frame = peer.Receive(TimeSpan.FromSeconds(5));
                    Assert.NotNull(frame);
                    Assert.True(got.Add(TestFrames.SequenceOf(frame)));
                    Assert.Equal(TestFrames.Build((int)TestFrames.SequenceOf(frame), 80, Seed), frame);
                }
                Assert.Equal((ulong)perQueue, port.GetStats().TxQueues[q].Packets);
            }
            Assert.Equal(queues * perQueue, got.Count);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void It_works_on_any_netdev_here_a_tap_whose_other_side_is_a_net_tap_port()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string tap = Tap.TapTrafficTests.NewName();
        using MbufPool pool = MbufPool.Create("afp_on_tap", 2048, cacheSize: 0);
        try
        {
            using (EthDev tapPort = EthDev.Create($"net_tap0,iface={tap}"))
            {
                Tap.TapTrafficTests.Quiet(tap);
                PortHelper.Setup(tapPort, pool, 1);
                tapPort.Start();
                using EthDev packetPort = PortHelper.Start($"net_af_packet0,iface={tap}", pool);
                var burst = new Packet[32];
                for (int round = 0; round < 50; round++)
                {
                    // AF_PACKET port -> TAP interface's transmit -> net_tap port, and back the other way.
                    foreach ((EthDev from, EthDev to) in new[] { (packetPort, tapPort), (tapPort, packetPort) })
                    {
                        for (int i = 0; i < burst.Length; i++)
                            burst[i] = PortHelper.Make(pool, TestFrames.Build(round * 100 + i, SizeOf(round * 100 + i), Seed));
                        PortHelper.SendAll(from, 0, burst);
                        int got = 0;
                        for (var clock = Stopwatch.StartNew(); got < burst.Length && clock.Elapsed < TimeSpan.FromSeconds(5);)
                        {
                            int n = to.RxBurst(0, burst.AsSpan(got));
                            for (int i = got; i < got + n; i++)
                                Assert.Equal(TestFrames.Build(round * 100 + i, SizeOf(round * 100 + i), Seed), PortHelper.Bytes(burst[i]));
                            got += n;
                        }
                        Packet.FreeBulk(burst.AsSpan(0, got));
                        Assert.Equal(burst.Length, got);
                    }
                }
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Tap.TapTrafficTests.Cleanup(tap);
        }
    }
}
