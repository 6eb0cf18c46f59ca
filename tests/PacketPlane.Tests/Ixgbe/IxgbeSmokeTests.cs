using System;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Ixgbe;

[Collection(PacketPlane.Tests.Pci.NicModelCollection.Name)]
public class IxgbeSmokeTests
{
    [Fact]
    public void Initialises_and_loops_a_frame_back()
    {
        using var h = new IxgbeHarness();
        h.Start(conf: new EthConf { Loopback = true });
        var tx = new Packet[1];
        Assert.Equal(1, h.Pool.AllocBulk(tx));
        Assert.True(tx[0].TryAppend(100));
        for (int i = 0; i < 100; i++)
            tx[0].Data[i] = (byte)i;
        Assert.Equal(1, h.Port.TxBurst(0, tx));
        var rx = new Packet[32];
        int got = 0;
        h.WaitFor(() => (got = h.Port.RxBurst(0, rx)) > 0, TimeSpan.FromSeconds(5), "the looped frame");
        Assert.Equal(1, got);
        Assert.Equal(100, rx[0].Length);
        for (int i = 0; i < 100; i++)
            Assert.Equal((byte)i, rx[0].Data[i]);
        rx[0].Free();
    }
}
