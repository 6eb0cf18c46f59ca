using System;
using System.Threading;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Ixgbe;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Pci;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Ixgbe;

/// <summary>Kernel traffic reaches the ixgbe driver through the 82599 model's TAP wire, and the driver's echo reaches the kernel.</summary>
public class IxgbeTapBridgeTests
{
    [SkippableFact]
    [Trait("Requires", "Root")]
    [Trait("Requires", "NetworkNamespaces")]
    [Trait("Requires", "Tun")]
    public void Frames_from_the_kernel_reach_the_driver_and_come_back_byte_exact()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Tun);
        const int count = 2000, size = 256, seed = 41;
        using TapBridge bridge = TapBridge.Create();
        var address = new PciAddress(0, 0xd1, 0, 0);
        using var model = new Ixgbe82599Model(address, bridge.Tap);
        using var attachment = PciFunctions.Attach(model.Function);
        using MbufPool pool = MbufPool.Create("ixgbe_tap", 4096, cacheSize: 0);
        using (EthDev port = EthDev.Create($"pci:{address}"))
        {
            port.Configure(1, 1);
            port.Promiscuous = true; // test frames are addressed to 02:00:00:00:00:02, not the port
            port.SetupRxQueue(0, 512, pool);
            port.SetupTxQueue(0, 512);
            port.Start();
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
            string[] back = bridge.EchoThroughDriver(port, count, size, seed, model.ThrowIfViolated);
            Assert.Equal(count, back.Length);
            for (int i = 0; i < count; i++)
                Assert.Equal(Convert.ToHexString(TestFrames.Build(i, size, seed)), back[i], ignoreCase: true);
            Assert.True(bridge.Tap.FramesFromKernel >= count);
            Assert.True(bridge.Tap.FramesToKernel >= count);
            Assert.Equal((ulong)count, port.GetStats().InPackets);
        }
        Assert.Equal(0, pool.InUse);
        model.ThrowIfViolated();
    }
}
