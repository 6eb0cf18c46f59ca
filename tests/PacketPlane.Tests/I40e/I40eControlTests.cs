using System;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.I40e;

[Collection(NicModelCollection.Name)]
public class I40eControlTests
{
    [Fact]
    public void Link_status_comes_from_the_firmware_and_follows_the_cable()
    {
        using var h = new I40eHarness();
        h.Start();
        LinkStatus up = h.Port.Link;
        Assert.True(up.IsUp);
        Assert.Equal(10_000u, up.SpeedMbps);
        h.Model.CableConnected = false;
        Assert.False(h.Port.Link.IsUp);
        Assert.True(h.Model.LinkEventsPosted > 0); // the driver asked for link events; the firmware posted one
        h.Model.CableConnected = true;
        Assert.True(h.Port.WaitForLink(TimeSpan.FromSeconds(2)).IsUp);
    }

    [Fact]
    public void Mac_from_the_nvm_filters_and_promiscuous_modes()
    {
        var wire = new QueueWire();
        using var h = new I40eHarness(wire);
        Assert.Equal(new MacAddress(h.Model.NvmMac), h.Port.MacAddress);
        h.Start(promiscuous: false);
        Assert.Equal(0x4, h.Model.PromiscuousFlags); // broadcast only
        var mine = MacAddress.Parse("02:99:00:00:07:10");
        byte[] nvm = h.Model.NvmMac.ToArray();
        h.Port.SetMacAddress(mine);
        byte[] mineBytes = new byte[6];
        mine.CopyTo(mineBytes);
        Assert.True(h.Model.HasMacFilter(mineBytes));
        Assert.False(h.Model.HasMacFilter(nvm)); // the old filter was removed

        byte[] toMe = Frame(mine), toOther = Frame(MacAddress.Parse("02:99:00:00:07:11")), broadcast = Frame(MacAddress.Broadcast),
            multicast = Frame(MacAddress.Parse("01:00:5e:00:00:01"));
        Assert.Equal(2, Deliver(h, wire, toMe, toOther, broadcast, multicast));
        h.Port.AllMulticast = true;
        Assert.Equal(0x4 | 0x2, h.Model.PromiscuousFlags);
        Assert.Equal(3, Deliver(h, wire, toMe, toOther, broadcast, multicast));
        h.Port.AllMulticast = false;
        h.Port.Promiscuous = true;
        Assert.Equal(0x7, h.Model.PromiscuousFlags);
        Assert.Equal(4, Deliver(h, wire, toMe, toOther, broadcast, multicast));
    }

    private static byte[] Frame(MacAddress dst)
    {
        byte[] f = ModelFrames.Ipv4Flow(2);
        dst.CopyTo(f);
        return f;
    }

    private static int Deliver(I40eHarness h, QueueWire wire, params byte[][] frames)
    {
        long before = h.Model.FramesFiltered + h.Model.FramesReceived;
        long receivedBefore = h.Model.FramesReceived;
        foreach (byte[] f in frames)
            wire.Inbound.Enqueue(f);
        h.WaitFor(() => h.Model.FramesFiltered + h.Model.FramesReceived - before == frames.Length, TimeSpan.FromSeconds(5), "the model to take every frame");
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
    public void Frames_dropped_for_want_of_descriptors_are_reported()
    {
        var wire = new QueueWire();
        using var h = new I40eHarness(wire);
        h.Model.DropWhenNoDescriptor = true;
        h.Start(rxDescriptors: 64);
        for (int i = 0; i < 300; i++)
            wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(i));
        h.WaitFor(() => h.Model.FramesReceived + h.Model.FramesDropped == 300, TimeSpan.FromSeconds(10), "300 frames taken or dropped");
        Assert.Equal(63, h.Model.FramesReceived);
        Assert.Equal(237ul, h.Port.GetStats().InMissed);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal(237ul, x["rx_dropped_packets"]);
        Assert.Equal(63ul, x["vsi_rx_unicast_packets"]);
        // Free-running counters: reading twice changes nothing; a reset starts from zero.
        Assert.Equal(x["vsi_rx_bytes"], h.Port.GetXStats().Single(s => s.Name == "vsi_rx_bytes").Value);
        h.Port.ResetStats();
        Assert.Equal(0ul, h.Port.GetXStats().Single(s => s.Name == "vsi_rx_bytes").Value);
    }

    [Fact]
    public void Stop_start_reconfigure_and_close_return_every_mbuf()
    {
        var wire = new QueueWire();
        using var h = new I40eHarness(wire);
        h.Start(queues: 2, conf: new EthConf { RssEnabled = true });
        Echo(h, wire, 100);
        h.Port.Stop();
        Assert.False(h.Model.RxQueueEnabled(0));
        Assert.False(h.Model.TxQueueEnabled(1));
        h.Port.Start();
        Echo(h, wire, 100);
        h.Port.Stop();
        h.Port.Configure(1, 1);
        Assert.Equal(h.PoolInUseAtStart, h.Pool.InUse);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        h.Port.Start();
        Echo(h, wire, 50);
        var burst = new Packet[32];
        Assert.Equal(32, h.Pool.AllocBulk(burst));
        foreach (Packet p in burst)
            p.TryAppend(64);
        Assert.Equal(32, h.Port.TxBurst(0, burst));
        h.Port.Close();
        Assert.Equal(h.PoolInUseAtStart, h.Pool.InUse);
        h.Model.ThrowIfViolated();
    }

    /// <summary>Frames arrive from the wire and are sent back out; both directions counted.</summary>
    private static void Echo(I40eHarness h, QueueWire wire, int count)
    {
        while (wire.Outbound.TryDequeue(out _))
        {
        }
        for (int i = 0; i < count; i++)
            wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(i));
        var rx = new Packet[32];
        int echoed = 0;
        h.WaitFor(() =>
        {
            for (int q = 0; q < h.Port.RxQueueCount; q++)
            {
                int n = h.Port.RxBurst(q, rx);
                int sent = 0;
                while (sent < n)
                    sent += h.Port.TxBurst(0, rx.AsSpan(sent, n - sent));
                echoed += n;
            }
            return echoed == count && wire.Outbound.Count == count;
        }, TimeSpan.FromSeconds(10), $"{count} echoed frames");
    }
}
