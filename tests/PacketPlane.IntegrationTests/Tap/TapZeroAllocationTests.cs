using System;
using PacketPlane.Drivers.Tap;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.AfPacket;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Tap;

/// <summary>net_tap's RX and TX bursts allocate nothing: a million packets between two TAPs on a bridge, measured.</summary>
[Collection(KernelPortsCollection.Name)]
public class TapZeroAllocationTests
{
    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_million_packets_through_rx_and_tx_bursts_allocate_no_managed_memory()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string a = TapTrafficTests.NewName(), b = TapTrafficTests.NewName(), bridge = $"ppbr{Environment.ProcessId % 10000}";
        using MbufPool pool = MbufPool.Create("tap_zalloc", 4096, cacheSize: 0);
        try
        {
            using (EthDev portA = EthDev.Create($"net_tap0,iface={a}"))
            using (EthDev portB = EthDev.Create($"net_tap1,iface={b}"))
            {
                // The kernel side: a bridge joining the two TAPs, so what one port sends the other receives.
                Shell.Run($"ip link add {bridge} type bridge");
                foreach (string iface in new[] { a, b, bridge })
                    TapTrafficTests.Quiet(iface);
                Shell.Run($"ip link set {a} master {bridge}");
                Shell.Run($"ip link set {b} master {bridge}");
                Shell.Run($"ip link set {bridge} up");
                PortHelper.Setup(portA, pool, 1);
                PortHelper.Setup(portB, pool, 1);
                portA.Start();
                portB.Start();
                var loop = new PingPong(portA, portB, pool, TestFrames.Build(1, 64, 5));
                Assert.True(loop.Run(50_000, TimeSpan.FromSeconds(60)) >= 50_000);
                long before = GC.GetAllocatedBytesForCurrentThread();
                long moved = loop.Run(1_000_000, TimeSpan.FromSeconds(180));
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(moved >= 1_000_000, $"only {moved} packets moved");
                Assert.Equal(0, allocated);
                Assert.True(portA.GetStats().OutPackets > 400_000 && portB.GetStats().OutPackets > 400_000, $"A: {portA.GetStats()} B: {portB.GetStats()}");
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Shell.TryRun($"ip link del {bridge} 2>/dev/null");
            TapTrafficTests.Cleanup(a);
            TapTrafficTests.Cleanup(b);
        }
    }
}
