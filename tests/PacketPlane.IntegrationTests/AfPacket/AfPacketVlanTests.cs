using System;
using System.Diagnostics;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// VLAN tags over AF_PACKET: the kernel moves a received tag out of the frame into tp_vlan_tci; the port puts
/// it back (frames arrive as they were on the wire) unless VLAN stripping was asked for, and inserts tags on
/// TX when asked. Two ports on the two ends of one veth pair.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class AfPacketVlanTests
{
    private static byte[] Tagged(byte[] untagged, ushort tci)
    {
        var f = new byte[untagged.Length + 4];
        untagged.AsSpan(0, 12).CopyTo(f);
        f[12] = 0x81;
        f[13] = 0x00;
        f[14] = (byte)(tci >> 8);
        f[15] = (byte)tci;
        untagged.AsSpan(12).CopyTo(f.AsSpan(16));
        return f;
    }

    [SkippableTheory]
    [Trait("Requires", "Root")]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Tags_are_reinserted_or_stripped_on_rx_and_inserted_on_tx(bool strip, bool insertOnTx)
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        string a = $"ppva{Environment.ProcessId % 10000}", b = $"ppvb{Environment.ProcessId % 10000}";
        Shell.Run($"ip link add {a} type veth peer name {b}");
        try
        {
            foreach (string end in new[] { a, b })
            {
                Shell.Run($"sysctl -qw net.ipv6.conf.{end}.disable_ipv6=1");
                Shell.Run($"ip link set {end} multicast off up");
            }
            using MbufPool pool = MbufPool.Create("afp_vlan", 1024, cacheSize: 0);
            using (EthDev sender = PortHelper.Start($"net_af_packet0,iface={a}", pool, 1, new EthConf { TxOffloads = TxOffloads.VlanInsert }))
            using (EthDev receiver = PortHelper.Start($"net_af_packet1,iface={b}", pool, 1, new EthConf { RxOffloads = strip ? RxOffloads.VlanStrip : RxOffloads.None }))
            {
                const ushort tci = 0x2064; // priority 1, VLAN 100
                byte[] untagged = TestFrames.Build(42, 120, 3);
                byte[] tagged = Tagged(untagged, tci);
                Packet p = PortHelper.Make(pool, insertOnTx ? untagged : tagged);
                if (insertOnTx)
                {
                    p.VlanTci = tci;
                    p.Flags = OffloadFlags.TxVlan;
                }
                PortHelper.SendAll(sender, 0, [p]);

                var burst = new Packet[4];
                int n = 0;
                for (var clock = Stopwatch.StartNew(); n == 0 && clock.Elapsed < TimeSpan.FromSeconds(5);)
                    n = receiver.RxBurst(0, burst);
                Assert.Equal(1, n);
                Assert.Equal(strip ? untagged : tagged, PortHelper.Bytes(burst[0]));
                Assert.Equal(tci, burst[0].VlanTci);
                Assert.Equal(strip ? OffloadFlags.RxVlan | OffloadFlags.RxVlanStripped : OffloadFlags.RxVlan, burst[0].Flags);
                burst[0].Free();
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Shell.TryRun($"ip link del {a} 2>/dev/null");
        }
    }
}
