using System;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.I40e;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Pci;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.I40e;

/// <summary>Kernel traffic reaches the i40e driver through the X710 model's TAP wire, and back.</summary>
public class I40eTapBridgeTests
{
    [SkippableFact]
    [Trait("Requires", "Root")]
    [Trait("Requires", "NetworkNamespaces")]
    [Trait("Requires", "Tun")]
    public void Frames_from_the_kernel_reach_the_driver_and_come_back_byte_exact()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Tun);
        const int count = 2000, size = 300, seed = 43;
        using TapBridge bridge = TapBridge.Create();
        var address = new PciAddress(0, 0xd2, 0, 0);
        using var model = new X710Model(address, bridge.Tap);
        using var attachment = PciFunctions.Attach(model.Function);
        using MbufPool pool = MbufPool.Create("i40e_tap", 4096, cacheSize: 0);
        using (EthDev port = EthDev.Create($"pci:{address}"))
        {
            port.Configure(1, 1);
            port.Promiscuous = true;
            port.SetupRxQueue(0, 512, pool);
            port.SetupTxQueue(0, 512);
            port.Start();
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
            string[] back = bridge.EchoThroughDriver(port, count, size, seed, model.ThrowIfViolated);
            Assert.Equal(count, back.Length);
            for (int i = 0; i < count; i++)
                Assert.Equal(Convert.ToHexString(TestFrames.Build(i, size, seed)), back[i], ignoreCase: true);
        }
        Assert.Equal(0, pool.InUse);
        model.ThrowIfViolated();
    }
}
