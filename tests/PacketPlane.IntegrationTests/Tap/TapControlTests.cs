using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using PacketPlane.Drivers.Tap;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.AfPacket;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Tap;

/// <summary>
/// net_tap's control path on real TAP interfaces: names, MACs (random, fixed, given), persist, link state from
/// the interface, MTU, promiscuous and all-multicast flags, the interface deleted under a running port, every
/// error message, and stop/start/close in any order without leaking an mbuf.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class TapControlTests
{
    private static int Flags(string iface) =>
        int.Parse(File.ReadAllText($"/sys/class/net/{iface}/flags").Trim()[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string Address(string iface) => File.ReadAllText($"/sys/class/net/{iface}/address").Trim();

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Link_follows_start_and_stop_and_mtu_and_flags_are_the_interfaces()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        using MbufPool pool = MbufPool.Create("tap_ctl", 1024, cacheSize: 0);
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name}"))
            {
                TapTrafficTests.Quiet(name);
                Assert.Equal("net_tap", port.Info.DriverName);
                Assert.Contains($"TAP interface {name}", port.Info.Mode);
                Assert.Equal(int.Parse(File.ReadAllText($"/sys/class/net/{name}/ifindex"), CultureInfo.InvariantCulture), port.Info.InterfaceIndex);
                Assert.False(port.Link.IsUp);
                PortHelper.Setup(port, pool, 1);
                port.Start();
                Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
                Assert.Contains(",UP,LOWER_UP>", Shell.Run($"ip link show {name}"));

                port.SetMtu(1280);
                Assert.Contains("mtu 1280", Shell.Run($"ip link show {name}"));
                Assert.Equal(1280, port.Mtu);
                port.Promiscuous = true;
                Assert.NotEqual(0, Flags(name) & 0x100);
                Assert.True(port.Promiscuous);
                port.AllMulticast = true;
                Assert.NotEqual(0, Flags(name) & 0x200);
                port.Promiscuous = false;
                port.AllMulticast = false;
                Assert.Equal(0, Flags(name) & 0x300);

                port.Stop();
                Assert.False(port.Link.IsUp);
                Assert.Equal(0, Flags(name) & 0x1);
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Mac_addresses_are_random_fixed_or_given_as_in_dpdk()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string a = TapTrafficTests.NewName(), b = TapTrafficTests.NewName(), c = TapTrafficTests.NewName(), d = TapTrafficTests.NewName();
        try
        {
            using EthDev fixed1 = EthDev.Create($"net_tap0,iface={a},mac=fixed");
            using EthDev fixed2 = EthDev.Create($"net_tap1,iface={b},mac=fixed");
            using EthDev given = EthDev.Create($"net_tap2,iface={c},mac=02:00:00:aa:bb:cc");
            using EthDev random = EthDev.Create($"net_tap3,iface={d}");
            Assert.StartsWith("02:64:74:61:70:", fixed1.MacAddress.ToString());
            Assert.Equal(fixed1.MacAddress.ToUInt64() + 1, fixed2.MacAddress.ToUInt64());
            Assert.Equal(fixed1.MacAddress.ToString(), Address(a));
            Assert.Equal(fixed2.MacAddress.ToString(), Address(b));
            Assert.Equal("02:00:00:aa:bb:cc", Address(c));
            Assert.Equal("02:00:00:aa:bb:cc", given.MacAddress.ToString());
            Assert.True(random.MacAddress.IsLocallyAdministered);
            Assert.False(random.MacAddress.IsMulticast);
            Assert.Equal(random.MacAddress.ToString(), Address(d));
            given.SetMacAddress(new Net.MacAddress(0x02_00_00_aa_bb_cdUL));
            Assert.Equal("02:00:00:aa:bb:cd", Address(c));
        }
        finally
        {
            foreach (string n in new[] { a, b, c, d })
                TapTrafficTests.Cleanup(n);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void The_default_name_is_numbered_by_the_kernel_and_goes_away_with_the_port()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name;
        using (EthDev port = EthDev.Create("net_tap0"))
        {
            name = ((TapDevice)port.Device).InterfaceName;
            Assert.Matches("^dtap[0-9]+$", name);
            Assert.True(File.Exists($"/sys/class/net/{name}/tun_flags"));
        }
        Assert.False(Directory.Exists($"/sys/class/net/{name}"));
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Persist_keeps_the_interface_and_a_later_port_attaches_to_it()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        using MbufPool pool = MbufPool.Create("tap_persist", 1024, cacheSize: 0);
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name},persist=1"))
                Assert.Contains("persistent", port.Info.Mode);
            Assert.True(Directory.Exists($"/sys/class/net/{name}"), "persist=1 did not keep the interface");
            using (EthDev again = EthDev.Create($"net_tap0,iface={name}"))
            {
                Assert.Contains("attached to an existing interface", again.Info.Mode);
                TapTrafficTests.Quiet(name);
                PortHelper.Setup(again, pool, 2);
                again.Start();
                using RawSocket capture = RawSocket.Open(name, TestFrames.EtherType);
                Packet[] one = [PortHelper.Make(pool, TestFrames.Build(5, 64, 2))];
                PortHelper.SendAll(again, 1, one);
                Assert.Equal(TestFrames.Build(5, 64, 2), capture.Receive(TimeSpan.FromSeconds(5)));
            }
            Assert.True(Directory.Exists($"/sys/class/net/{name}"), "a persistent interface must outlive the port that attached to it");
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Deleting_the_interface_under_a_running_port_takes_the_link_down_and_counts_errors()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        using MbufPool pool = MbufPool.Create("tap_gone", 1024, cacheSize: 0);
        int before = pool.InUse;
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name}"))
            {
                TapTrafficTests.Quiet(name);
                PortHelper.Setup(port, pool, 2);
                port.Start();
                Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);
                var burst = new Packet[16];
                Assert.Equal(0, port.RxBurst(0, burst)); // arms the RX chain: the queue now holds mbufs
                Assert.True(pool.InUse > before);
                Shell.Run($"ip link del {name}");
                Assert.False(port.Link.IsUp);
                for (int round = 0; round < 3; round++)
                {
                    for (int i = 0; i < burst.Length; i++)
                        burst[i] = PortHelper.Make(pool, TestFrames.Build(i, 64, 1));
                    Assert.Equal(burst.Length, port.TxBurst(round % 2, burst)); // taken and dropped, never stuck
                    Assert.Equal(0, port.RxBurst(round % 2, burst));
                }
                PortStats stats = port.GetStats();
                Assert.Equal(48UL, stats.OutErrors);
                Assert.Equal(0UL, stats.OutPackets);
                Assert.True(stats.InErrors >= 1);
                port.Stop();
            }
            Assert.Equal(before, pool.InUse);
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
    }

    [SkippableTheory]
    [Trait("Requires", "Root")]
    [InlineData("start,stop,start,traffic,close")]
    [InlineData("start,close")]
    [InlineData("close")]
    [InlineData("stop,start,traffic,stop,stop,close,close")]
    [InlineData("start,traffic,stop,reconfigure3,start,traffic,close")]
    [InlineData("start,traffic,stop,reconfigure1,start,traffic,stop,close")]
    public void Stop_start_and_close_in_any_order_neither_leak_nor_crash(string steps)
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        using MbufPool pool = MbufPool.Create("tap_life", 1024, cacheSize: 0);
        int before = pool.InUse;
        EthDev port = EthDev.Create($"net_tap0,iface={name}");
        try
        {
            TapTrafficTests.Quiet(name);
            int queues = 1;
            PortHelper.Setup(port, pool, queues);
            int seq = 0;
            foreach (string step in steps.Split(','))
            {
                switch (step)
                {
                    case "start": port.Start(); break;
                    case "stop": port.Stop(); break;
                    case "close": port.Close(); break;
                    case "reconfigure1": queues = 1; PortHelper.Setup(port, pool, 1); break;
                    case "reconfigure3": queues = 3; PortHelper.Setup(port, pool, 3); break;
                    case "traffic": seq = ExchangeTraffic(port, name, pool, queues, seq); break;
                    default: throw new ArgumentException(step);
                }
            }
            Assert.Equal(PortState.Closed, port.State);
            Assert.Equal(before, pool.InUse);
        }
        finally
        {
            port.Close();
            TapTrafficTests.Cleanup(name);
        }
    }

    private static int ExchangeTraffic(EthDev port, string iface, MbufPool pool, int queues, int seq)
    {
        using RawSocket kernel = RawSocket.Open(iface, TestFrames.EtherType);
        for (int q = 0; q < queues; q++, seq++)
        {
            Packet[] one = [PortHelper.Make(pool, TestFrames.Build(seq, 70, 9))];
            PortHelper.SendAll(port, q, one);
            Assert.Equal(TestFrames.Build(seq, 70, 9), kernel.Receive(TimeSpan.FromSeconds(5)));
        }
        kernel.Send(TestFrames.Build(seq, 70, 9));
        var burst = new Packet[8];
        int got = 0;
        for (var clock = Stopwatch.StartNew(); got == 0 && clock.Elapsed < TimeSpan.FromSeconds(5);)
        {
            for (int q = 0; q < queues && got == 0; q++)
            {
                got = port.RxBurst(q, burst);
                if (got > 0)
                    Assert.Equal(TestFrames.Build(seq, 70, 9), PortHelper.Bytes(burst[0]));
                Packet.FreeBulk(burst.AsSpan(0, got));
            }
        }
        Assert.Equal(1, got);
        return seq + 1;
    }
}
