using System;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.Ixgbe;

[Collection(NicModelCollection.Name)]
public class IxgbeControlTests
{
    [Fact]
    public void Link_comes_up_at_10G_on_a_connected_cable_and_stays_down_without_one()
    {
        using (var h = new IxgbeHarness())
        {
            h.Start();
            LinkStatus link = h.Port.WaitForLink(TimeSpan.FromSeconds(5));
            Assert.True(link.IsUp);
            Assert.Equal(10_000u, link.SpeedMbps);
            Assert.Equal("Link up at 10 Gbps full-duplex", link.ToString());
        }
        using (var h = new IxgbeHarness())
        {
            h.Model.CableConnected = false;
            h.Start();
            Assert.False(h.Port.WaitForLink(TimeSpan.FromMilliseconds(200)).IsUp);
        }
        using (var h = new IxgbeHarness())
        {
            h.Model.CableConnected = false;
            h.Start(conf: new EthConf { Loopback = true }); // MAC loopback forces the link up (AUTOC.FLU)
            Assert.True(h.Port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
        }
    }

    [Fact]
    public void Mac_comes_from_the_eeprom_and_the_filter_follows_mac_promiscuous_and_allmulti()
    {
        var wire = new QueueWire();
        using var h = new IxgbeHarness(wire);
        Assert.Equal(new MacAddress(h.Model.EepromMac), h.Port.MacAddress);
        h.Start(promiscuous: false);
        var mine = MacAddress.Parse("02:99:00:00:00:07");
        h.Port.SetMacAddress(mine);
        Assert.Equal(mine, h.Port.MacAddress);

        byte[] toMe = Frame(mine), toOther = Frame(MacAddress.Parse("02:99:00:00:00:08")), broadcast = Frame(MacAddress.Broadcast),
            multicast = Frame(MacAddress.Parse("01:00:5e:00:00:01"));
        Assert.Equal(2, Deliver(h, wire, toMe, toOther, broadcast, multicast)); // unicast to us and broadcast (FCTRL.BAM)
        h.Port.AllMulticast = true;
        Assert.Equal(3, Deliver(h, wire, toMe, toOther, broadcast, multicast));
        h.Port.AllMulticast = false;
        h.Port.Promiscuous = true;
        Assert.Equal(4, Deliver(h, wire, toMe, toOther, broadcast, multicast));
    }

    private static byte[] Frame(MacAddress dst)
    {
        byte[] f = ModelFrames.Ipv4Flow(1);
        dst.CopyTo(f);
        return f;
    }

    private static int Deliver(IxgbeHarness h, QueueWire wire, params byte[][] frames)
    {
        long filteredBefore = h.Model.FramesFiltered;
        long receivedBefore = h.Model.FramesReceived;
        foreach (byte[] f in frames)
            wire.Inbound.Enqueue(f);
        h.WaitFor(() => h.Model.FramesFiltered + h.Model.FramesReceived - filteredBefore - receivedBefore == frames.Length,
            TimeSpan.FromSeconds(5), "the model to take every frame");
        var burst = new Packet[32];
        int got = 0;
        h.WaitFor(() =>
        {
            int n = h.Port.RxBurst(0, burst);
            got += n;
            Packet.FreeBulk(burst.AsSpan(0, n));
            return got == h.Model.FramesReceived - receivedBefore;
        }, TimeSpan.FromSeconds(5), "the accepted frames");
        return got;
    }

    [Fact]
    public void Full_ring_with_drop_enabled_counts_missed_frames_in_port_stats_and_xstats()
    {
        var wire = new QueueWire();
        using var h = new IxgbeHarness(wire);
        h.Start(rxDescriptors: 64, dropWhenFull: true);
        for (int i = 0; i < 500; i++)
            wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(i));
        // Nobody polls: 63 descriptors fill, the rest are dropped by the device (SRRCTL.DROP_EN, counted in QPRDC).
        h.WaitFor(() => h.Model.FramesReceived + h.Model.FramesDroppedNoDescriptor == 500, TimeSpan.FromSeconds(10), "500 frames taken or dropped");
        Assert.Equal(63, h.Model.FramesReceived);
        PortStats stats = h.Port.GetStats();
        Assert.Equal(437ul, stats.InMissed);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal(437ul, x["hw_rx_q0_dropped"]);
        Assert.Equal(63ul, x["mac_rx_good_packets"]);
        // Counters clear on read in the device; the driver accumulates, so reading again changes nothing.
        var again = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal(x["hw_rx_q0_dropped"], again["hw_rx_q0_dropped"]);
        Assert.Equal(x["mac_rx_good_packets"], again["mac_rx_good_packets"]);
        h.Port.ResetStats();
        Assert.Equal(0ul, h.Port.GetXStats().Single(s => s.Name == "mac_rx_good_packets").Value);
    }

    [Fact]
    public void Stop_start_and_close_in_any_order_return_every_mbuf()
    {
        var wire = new QueueWire();
        using var h = new IxgbeHarness(wire);
        h.Start(queues: 2, conf: new EthConf { Loopback = true, RssEnabled = true });
        SendSome(h, 100);
        h.Port.Stop();
        Assert.False(h.Model.RxQueueEnabled(0));
        Assert.False(h.Model.TxQueueEnabled(0));
        h.Port.Start();
        SendSome(h, 100);
        h.Port.Stop();
        h.Port.Configure(1, 1, new EthConf { Loopback = true }); // releases the queues
        Assert.Equal(h.PoolInUseAtStart, h.Pool.InUse);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        h.Port.Start();
        SendSome(h, 50);
        // Frames in flight on both rings when the port closes.
        var burst = new Packet[32];
        Assert.Equal(32, h.Pool.AllocBulk(burst));
        foreach (Packet p in burst)
            p.TryAppend(64);
        Assert.Equal(32, h.Port.TxBurst(0, burst));
        h.Port.Close();
        Assert.Equal(h.PoolInUseAtStart, h.Pool.InUse);
        h.Model.ThrowIfViolated();
    }

    private static void SendSome(IxgbeHarness h, int count)
    {
        var burst = new Packet[1];
        var rx = new Packet[32];
        int received = 0;
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(1, h.Pool.AllocBulk(burst));
            byte[] f = ModelFrames.Ipv4Flow(i);
            burst[0].TryAppend(f.Length);
            f.CopyTo(burst[0].Data);
            h.WaitFor(() => h.Port.TxBurst(0, burst) == 1, TimeSpan.FromSeconds(5), "room in the TX ring");
        }
        h.WaitFor(() =>
        {
            for (int q = 0; q < h.Port.RxQueueCount; q++)
            {
                int n = h.Port.RxBurst(q, rx);
                received += n;
                Packet.FreeBulk(rx.AsSpan(0, n));
            }
            return received == count;
        }, TimeSpan.FromSeconds(10), $"{count} looped frames");
    }
}
