using System;
using System.Linq;
using PacketPlane.Bus.Pci;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Pci;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.I40e;

/// <summary>
/// The i40e driver on a real X710 through VFIO, opt-in: PACKETPLANE_TEST_X710=0000:05:00.0, and for traffic
/// PACKETPLANE_TEST_X710_PEER naming a second X710 port cabled to the first.
/// </summary>
public class I40eHardwareTests
{
    private const string Variable = "PACKETPLANE_TEST_X710";
    private const string PeerVariable = "PACKETPLANE_TEST_X710_PEER";

    [SkippableFact]
    [Trait("Requires", "Nic:X710")]
    public void Initialises_reports_link_and_starts_and_stops()
    {
        PciAddress address = HardwareNic.Require(Variable, "X710");
        using MbufPool pool = MbufPool.Create("hwx710", 8192, cacheSize: 0);
        using (EthDev port = EthDev.Create($"pci:{address}"))
        {
            Assert.Equal("net_i40e", port.Info.DriverName);
            port.Configure(2, 2, new EthConf { RssEnabled = true });
            port.SetupRxQueue(0, 1024, pool);
            port.SetupRxQueue(1, 1024, pool);
            port.SetupTxQueue(0, 1024);
            port.SetupTxQueue(1, 1024);
            port.Start();
            _ = port.WaitForLink(TimeSpan.FromSeconds(5)); // the link may be down without a cable; the query itself must work
            Assert.NotEmpty(port.GetXStats());
            port.Stop();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Nic:X710")]
    public void Frames_cross_the_cable_between_two_ports_byte_exact()
    {
        PciAddress a = HardwareNic.Require(Variable, "X710");
        PciAddress b = HardwareNic.Require(PeerVariable, "X710 (a second port, cabled to the first)");
        const int count = 100_000, size = 256;
        using MbufPool pool = MbufPool.Create("hwx710pair", 16384, cacheSize: 0);
        using (EthDev tx = EthDev.Create($"pci:{a}"))
        using (EthDev rx = EthDev.Create($"pci:{b}"))
        {
            foreach (EthDev p in new[] { tx, rx })
            {
                p.Configure(1, 1);
                p.Promiscuous = true;
                p.SetupRxQueue(0, 1024, pool);
                p.SetupTxQueue(0, 1024);
                p.Start();
                Assert.True(p.WaitForLink(TimeSpan.FromSeconds(10)).IsUp, $"{p.Name}: link down; is the cable in?");
            }
            Assert.Equal(count, HardwareTraffic.SendAndReceive(tx, rx, pool, count, size));
        }
        Assert.Equal(0, pool.InUse);
    }
}
