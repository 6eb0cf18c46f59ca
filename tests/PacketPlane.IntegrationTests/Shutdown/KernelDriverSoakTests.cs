using System;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.AfPacket;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using PacketPlane.Tests.Shutdown;
using Xunit;

namespace PacketPlane.IntegrationTests.Shutdown;

/// <summary>
/// The shared soak and peer-loss harnesses pointed at the drivers that need root: stop/start and create/close
/// cycles leak no descriptor, mapping or mbuf; a peer that disappears turns the link down and is counted.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class KernelDriverSoakTests
{
    [SkippableFact]
    [Trait("Requires", "NetworkNamespaces")]
    public void Af_packet_stop_start_and_create_close_cycles_leak_nothing()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        string device = $"net_af_packet70,iface={veth.HostInterface},qpairs=2";
        SoakHarness.StopStartCycles(device, 300, queues: 2);
        SoakHarness.CreateCloseCycles(device, 100, queues: 2);
    }

    [SkippableFact]
    [Trait("Requires", "NetworkNamespaces")]
    public void Af_xdp_stop_start_and_create_close_cycles_leak_nothing_and_leave_no_program()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        string device = $"net_af_xdp70,iface={veth.HostInterface},queue_count=2";
        // Fewer cycles than the other drivers: the kernel releases an AF_XDP queue from deferred work, so each
        // restart may wait for the previous socket's teardown.
        SoakHarness.StopStartCycles(device, 50, queues: 2);
        SoakHarness.CreateCloseCycles(device, 30, queues: 2);
        Assert.DoesNotContain("prog/xdp", Shell.Run($"ip -d link show dev {veth.HostInterface}"));
    }

    [SkippableFact]
    [Trait("Requires", "Tun")]
    public void Tap_stop_start_and_create_close_cycles_leak_nothing()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string device = $"net_tap70,iface=ppsoak{Environment.ProcessId % 1000}";
        SoakHarness.StopStartCycles(device, 300, queues: 2);
        SoakHarness.CreateCloseCycles(device, 100, queues: 2);
    }

    [SkippableFact]
    [Trait("Requires", "NetworkNamespaces")]
    public void Af_packet_port_survives_its_veth_disappearing()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using MbufPool pool = MbufPool.Create("peerloss_afp", 4096, 0);
        VethPair veth = VethPair.Create();
        int inUse = pool.InUse;
        EthDev port = PortHelper.Start($"net_af_packet71,iface={veth.HostInterface}", pool);
        PeerLossResult r = PeerLossHarness.Run(port, pool, veth.Dispose, TimeSpan.FromSeconds(5));
        PeerLossHarness.AssertContract(r, port, pool, inUse);
    }

    [SkippableFact]
    [Trait("Requires", "Tun")]
    public void Tap_port_survives_its_interface_being_deleted()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        using MbufPool pool = MbufPool.Create("peerloss_tap", 4096, 0);
        string name = $"pploss{Environment.ProcessId % 1000}";
        int inUse = pool.InUse;
        EthDev port = PortHelper.Start($"net_tap71,iface={name}", pool);
        PeerLossResult r = PeerLossHarness.Run(port, pool, () => Shell.Run($"ip link del {name}"), TimeSpan.FromSeconds(5));
        PeerLossHarness.AssertContract(r, port, pool, inUse);
    }
}
