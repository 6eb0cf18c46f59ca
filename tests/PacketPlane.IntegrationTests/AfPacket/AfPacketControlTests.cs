using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// net_af_packet's control path on a real veth: link, MTU limits from framesz, MAC, promiscuous mode through
/// packet memberships, kernel drops as imissed, the interface vanishing under a running port, every error
/// message, and stop/start/close in any order without leaking an mbuf.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class AfPacketControlTests
{
    private static int Flags(string iface) =>
        int.Parse(File.ReadAllText($"/sys/class/net/{iface}/flags").Trim()[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Link_mtu_mac_and_limits_come_from_the_interface_and_framesz()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_ctl", 1024, cacheSize: 0);
        using EthDev port = EthDev.Create($"net_af_packet0,iface={veth.HostInterface}");
        Assert.Equal("net_af_packet", port.Info.DriverName);
        Assert.Equal(2048 - 80, port.Info.MaxMtu);
        Assert.Equal(2048 - 66, port.Info.MaxRxPacketLength);
        Assert.Contains("TPACKET_V2", port.Info.Mode);
        Assert.Equal(File.ReadAllText($"/sys/class/net/{veth.HostInterface}/address").Trim(), port.MacAddress.ToString(), ignoreCase: true);
        Assert.Equal(1500, port.Mtu);
        Assert.False(port.Link.IsUp);

        PortHelper.Setup(port, pool, 1);
        port.Start();
        Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
        port.SetMtu(1400);
        Assert.Contains("mtu 1400", Shell.Run($"ip link show {veth.HostInterface}"));
        Assert.Equal(1400, port.Mtu);
        EthDevException tooBig = Assert.Throws<EthDevException>(() => port.SetMtu(2000));
        Assert.Contains("68..1968", tooBig.Message);
        port.Stop();
        Assert.False(port.Link.IsUp);
        var newMac = new Net.MacAddress(0x02_00_00_99_00_01UL);
        port.SetMacAddress(newMac);
        Assert.Equal("02:00:00:99:00:01", File.ReadAllText($"/sys/class/net/{veth.HostInterface}/address").Trim());
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Promiscuous_and_allmulti_are_packet_memberships_that_end_with_the_port()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_promisc", 1024, cacheSize: 0);
        const int IFF_PROMISC = 0x100, IFF_ALLMULTI = 0x200;
        using (EthDev port = EthDev.Create($"net_af_packet0,iface={veth.HostInterface}"))
        {
            PortHelper.Setup(port, pool, 1);
            port.Promiscuous = true; // before start: applied when the sockets open
            Assert.Equal(0, Flags(veth.HostInterface) & IFF_PROMISC);
            port.Start();
            Assert.NotEqual(0, Flags(veth.HostInterface) & IFF_PROMISC);
            port.Promiscuous = false;
            Assert.Equal(0, Flags(veth.HostInterface) & IFF_PROMISC);
            port.Promiscuous = true;
            port.AllMulticast = true;
            Assert.NotEqual(0, Flags(veth.HostInterface) & IFF_ALLMULTI);
            Assert.True(port.Promiscuous);
        }
        // Closing the sockets dropped the memberships: the interface is as it was.
        Assert.Equal(0, Flags(veth.HostInterface) & (IFF_PROMISC | IFF_ALLMULTI));
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_the_ring_had_no_room_for_are_counted_as_imissed()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int sent = 200;
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("afp_drops", 1024, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},blocksz=4096,framesz=2048,framecnt=8", pool))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, TestFrames.EtherType, veth.Namespace))
        {
            // Nobody polls while the peer sends: the 8-frame ring fills and the kernel drops the rest.
            for (int i = 0; i < sent; i++)
                peer.Send(TestFrames.Build(i, 100, 3));
            System.Threading.Thread.Sleep(200);
            var burst = new Packet[32];
            int received = port.RxBurst(0, burst);
            for (int i = 0; i < received; i++)
                Assert.Equal(TestFrames.Build(i, 100, 3), PortHelper.Bytes(burst[i]));
            Packet.FreeBulk(burst.AsSpan(0, received));
            Assert.Equal(8, received);
            PortStats stats = port.GetStats();
            Assert.Equal((ulong)(sent - received), stats.InMissed);
            Assert.Equal(stats.InMissed, port.GetXStats().Single(x => x.Name == "rx_q0_kernel_drops").Value);
            Assert.Equal((ulong)sent, port.GetXStats().Single(x => x.Name == "rx_q0_kernel_packets").Value);
            port.ResetStats();
            Assert.Equal(0UL, port.GetStats().InMissed);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Deleting_the_interface_under_a_running_port_takes_the_link_down_and_counts_errors()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        using MbufPool pool = MbufPool.Create("afp_gone", 1024, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},qpairs=2", pool, 2))
        {
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
            Shell.Run($"ip netns del {veth.Namespace}"); // takes the peer, and with it the whole veth pair
            for (var clock = Stopwatch.StartNew(); File.Exists($"/sys/class/net/{veth.HostInterface}/flags") && clock.Elapsed < TimeSpan.FromSeconds(5);)
                System.Threading.Thread.Sleep(10);
            Assert.False(port.Link.IsUp);
            var burst = new Packet[16];
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < burst.Length; i++)
                    burst[i] = PortHelper.Make(pool, TestFrames.Build(i, 64, 1));
                Assert.Equal(burst.Length, port.TxBurst(round % 2, burst)); // taken and dropped, never stuck
                Assert.Equal(0, port.RxBurst(round % 2, burst));
            }
            PortStats stats = port.GetStats();
            Assert.Equal(48UL, stats.OutErrors);
            Assert.Equal(0UL, stats.OutPackets);
            Assert.True(port.GetXStats().Single(x => x.Name == "tx_q0_kick_errors").Value > 0);
            Assert.Equal(0, pool.InUse);
            port.Stop();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_port_started_on_a_down_interface_reports_link_down_and_receives_once_it_is_up()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        Shell.Run($"ip link set {veth.HostInterface} down");
        using MbufPool pool = MbufPool.Create("afp_down", 1024, cacheSize: 0);
        using (EthDev port = PortHelper.Start($"net_af_packet0,iface={veth.HostInterface},qpairs=2", pool, 2))
        using (RawSocket peer = RawSocket.Open(veth.PeerInterface, 0x0800, veth.Namespace))
        {
            Assert.False(port.Link.IsUp);
            Shell.Run($"ip link set {veth.HostInterface} up");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
            const int total = 2000;
            var seen = new int[total];
            var burst = new Packet[64];
            int received = 0;
            for (int sent = 0; sent < total; sent += 200)
            {
                for (int i = sent; i < sent + 200; i++)
                    peer.Send(FlowFrames.Build(i, 80, 32));
                for (var clock = Stopwatch.StartNew(); received < sent + 200 && clock.Elapsed < TimeSpan.FromSeconds(10);)
                {
                    for (int q = 0; q < 2; q++)
                    {
                        int n = port.RxBurst(q, burst);
                        for (int i = 0; i < n; i++)
                            seen[FlowFrames.SequenceOf(PortHelper.Bytes(burst[i]))]++;
                        Packet.FreeBulk(burst.AsSpan(0, n));
                        received += n;
                    }
                }
            }
            Assert.All(seen, c => Assert.Equal(1, c));
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableTheory]
    [Trait("Requires", "Root")]
    [InlineData("start,stop,start,traffic,close")]
    [InlineData("start,close")]
    [InlineData("close")]
    [InlineData("stop,start,traffic,stop,stop,close,close")]
    [InlineData("start,traffic,stop,reconfigure2,start,traffic,close")]
    [InlineData("start,stop,reconfigure1,start,traffic,stop,close")]
    public void Stop_start_and_close_in_any_order_neither_leak_nor_crash(string steps)
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        using MbufPool pool = MbufPool.Create("afp_life", 2048, cacheSize: 0);
        int before = pool.InUse;
        EthDev port = EthDev.Create($"net_af_packet0,iface={veth.HostInterface},qpairs=2");
        using RawSocket peer = RawSocket.Open(veth.PeerInterface, TestFrames.EtherType, veth.Namespace);
        int queues = 1;
        PortHelper.Setup(port, pool, queues);
        int seq = 0;
        try
        {
            foreach (string step in steps.Split(','))
            {
                switch (step)
                {
                    case "start": port.Start(); break;
                    case "stop": port.Stop(); break;
                    case "close": port.Close(); break;
                    case "reconfigure1": queues = 1; PortHelper.Setup(port, pool, 1); break;
                    case "reconfigure2": queues = 2; PortHelper.Setup(port, pool, 2); break;
                    case "traffic": seq = ExchangeTraffic(port, peer, pool, queues, seq); break;
                    default: throw new ArgumentException(step);
                }
            }
            Assert.Equal(PortState.Closed, port.State);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(before, pool.InUse);
    }

    /// <summary>One frame each way on every queue: proves a (re)started port really moves frames.</summary>
    private static int ExchangeTraffic(EthDev port, RawSocket peer, MbufPool pool, int queues, int seq)
    {
        for (int q = 0; q < queues; q++, seq++)
        {
            Packet[] one = [PortHelper.Make(pool, TestFrames.Build(seq, 70, 9))];
            PortHelper.SendAll(port, q, one);
            Assert.Equal(TestFrames.Build(seq, 70, 9), peer.Receive(TimeSpan.FromSeconds(5)));
        }
        peer.Send(TestFrames.Build(seq, 70, 9));
        var burst = new Packet[8];
        int got = 0;
        for (var clock = Stopwatch.StartNew(); got == 0 && clock.Elapsed < TimeSpan.FromSeconds(5);)
        {
            for (int q = 0; q < queues && got == 0; q++)
            {
                got = port.RxBurst(q, burst);
                if (got > 0)
                    Assert.Equal(TestFrames.Build(seq, 70, 9), PortHelper.Bytes(burst[0]));
                Packet.FreeBulk(burst.AsSpan(0, got));
            }
        }
        Assert.Equal(1, got);
        return seq + 1;
    }
}
