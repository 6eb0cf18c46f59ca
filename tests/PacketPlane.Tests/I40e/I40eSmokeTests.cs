using System;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.I40e;

[Collection(NicModelCollection.Name)]
public class I40eSmokeTests
{
    [Fact]
    public void Initialises_through_the_admin_queue_and_passes_frames_both_ways()
    {
        var wire = new QueueWire();
        using var h = new I40eHarness(wire);
        h.Start();
        Assert.True(h.Port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
        wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(5));
        var rx = new Packet[8];
        int got = 0;
        h.WaitFor(() => (got = h.Port.RxBurst(0, rx)) > 0, TimeSpan.FromSeconds(5), "a frame");
        Assert.Equal(ModelFrames.Ipv4Flow(5), rx[0].Data.ToArray());
        Assert.Equal(1, h.Port.TxBurst(0, rx.AsSpan(0, 1)));
        h.WaitFor(() => wire.Outbound.Count == 1, TimeSpan.FromSeconds(5), "the frame on the wire");
        Assert.True(wire.Outbound.TryDequeue(out byte[]? sent));
        Assert.Equal(ModelFrames.Ipv4Flow(5), sent);
    }
}
