using System;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>net_af_packet's RX and TX bursts allocate nothing: a million packets over a veth loop, measured.</summary>
[Collection(KernelPortsCollection.Name)]
public class AfPacketZeroAllocationTests
{
    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_million_packets_through_rx_and_tx_bursts_allocate_no_managed_memory()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        string a = $"ppza{Environment.ProcessId % 10000}", b = $"ppzb{Environment.ProcessId % 10000}";
        Shell.Run($"ip link add {a} type veth peer name {b}");
        try
        {
            foreach (string end in new[] { a, b })
            {
                Shell.Run($"sysctl -qw net.ipv6.conf.{end}.disable_ipv6=1");
                Shell.Run($"ip link set {end} multicast off up");
            }
            using MbufPool pool = MbufPool.Create("afp_zalloc", 4096, cacheSize: 0);
            using (EthDev portA = PortHelper.Start($"net_af_packet0,iface={a}", pool))
            using (EthDev portB = PortHelper.Start($"net_af_packet1,iface={b}", pool))
            {
                var loop = new PingPong(portA, portB, pool, TestFrames.Build(1, 64, 5));
                Assert.True(loop.Run(50_000, TimeSpan.FromSeconds(60)) >= 50_000); // warm up: JIT, tiering, first faults
                long before = GC.GetAllocatedBytesForCurrentThread();
                long moved = loop.Run(1_000_000, TimeSpan.FromSeconds(120));
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(moved >= 1_000_000, $"only {moved} packets moved");
                Assert.Equal(0, allocated);
                Assert.True(portA.GetStats().OutPackets > 400_000 && portB.GetStats().OutPackets > 400_000, $"A: {portA.GetStats()} B: {portB.GetStats()}");
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Shell.TryRun($"ip link del {a} 2>/dev/null");
        }
    }
}
