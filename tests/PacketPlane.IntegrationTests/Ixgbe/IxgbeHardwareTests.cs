using System;
using System.Linq;
using PacketPlane.Bus.Pci;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Pci;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Ixgbe;

/// <summary>
/// The ixgbe driver on a real 82599 through VFIO, opt-in: PACKETPLANE_TEST_82599=0000:03:00.0. MAC loopback
/// (HLREG0.LPBK) needs no cable, so the traffic test runs on a single unplugged port.
/// </summary>
public class IxgbeHardwareTests
{
    private const string Variable = "PACKETPLANE_TEST_82599";

    [SkippableFact]
    [Trait("Requires", "Nic:82599")]
    public void Vfio_opens_the_port_maps_bar0_and_reads_its_registers()
    {
        PciAddress address = HardwareNic.Require(Variable, "82599");
        using VfioPciFunction f = VfioPciFunction.Open(address);
        Assert.Equal(0x8086, f.VendorId);
        (nint bar, long length) = f.MapBar(0);
        Assert.NotEqual(0, bar);
        Assert.True(length >= 0x20000, $"BAR0 is {length} bytes; the 82599's is at least 128 KB");
        Span<byte> id = stackalloc byte[2];
        Assert.Equal(2, f.ReadConfig(0, id));
        Assert.Equal(0x8086, id[0] | id[1] << 8);
        f.EnableBusMaster();
        Span<byte> cmd = stackalloc byte[2];
        f.ReadConfig(4, cmd);
        Assert.True((cmd[0] & 0x4) != 0, "bus master enable did not stick");
    }

    [SkippableFact]
    [Trait("Requires", "Nic:82599")]
    public void Loopback_passes_frames_byte_exact_with_matching_hardware_counters()
    {
        PciAddress address = HardwareNic.Require(Variable, "82599");
        const int count = 100_000, size = 128;
        using MbufPool pool = MbufPool.Create("hw82599", 16384, cacheSize: 0);
        int inUse = pool.InUse;
        using (EthDev port = EthDev.Create($"pci:{address}"))
        {
            port.Configure(1, 1, new EthConf { Loopback = true });
            port.Promiscuous = true;
            port.SetupRxQueue(0, 1024, pool, new RxQueueConf { DropWhenFull = false });
            port.SetupTxQueue(0, 1024);
            port.Start();
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(10)).IsUp);
            int received = HardwareTraffic.SendAndReceive(port, port, pool, count, size);
            Assert.Equal(count, received);
            var x = port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
            Assert.Equal((ulong)count, x["mac_tx_good_packets"]);
            Assert.Equal((ulong)count, x["hw_rx_q0_packets"]);
            port.Stop();
        }
        Assert.Equal(inUse, pool.InUse);
    }
}
