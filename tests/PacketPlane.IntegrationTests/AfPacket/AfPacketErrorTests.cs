using System;
using System.IO;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>Every net_af_packet error a user can run into, produced for real, with the fix in its message.</summary>
[Collection(KernelPortsCollection.Name)]
public class AfPacketErrorTests
{
    /// <summary>
    /// Runs the test host's create-port scenario with <paramref name="dropCapabilities"/> removed from the
    /// bounding set (so even root lacks them) and returns its output line.
    /// </summary>
    internal static string CreateWithout(string dropCapabilities, string deviceString)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "PacketPlane.TestHost.dll");
        Shell.Result r = Shell.TryRun($"setpriv --bounding-set={dropCapabilities} dotnet {dll} create-port '{deviceString}'", TimeSpan.FromSeconds(60));
        return r.Stdout.Trim() + r.Stderr;
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_missing_interface_is_named_with_the_interfaces_that_exist()
    {
        Prerequisites.Require(Requirement.Root);
        PacketPlaneException e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create("net_af_packet0,iface=ppnosuch0"));
        Assert.Contains("interface 'ppnosuch0' does not exist", e.Message);
        Assert.Contains("lo", e.Message);
        Assert.Contains("ip link show", e.Message);
    }

    [Fact]
    public void A_device_string_without_iface_says_what_to_add()
    {
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_af_packet0,qpairs=2"));
        Assert.Contains("needs iface=", e.Message);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Without_CAP_NET_RAW_the_error_names_the_capability_and_how_to_grant_it()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        string output = CreateWithout("-net_raw", $"net_af_packet0,iface={veth.HostInterface}");
        Assert.StartsWith("error PrivilegeException:", output);
        Assert.Contains("CAP_NET_RAW", output);
        Assert.Contains("setcap cap_net_raw+ep", output);
        Assert.Contains("--cap-add NET_RAW", output);
        // The same device string works with the capability.
        Assert.StartsWith("ok", CreateWithout("+net_raw", $"net_af_packet0,iface={veth.HostInterface}"));
    }

    [SkippableTheory]
    [Trait("Requires", "Root")]
    [InlineData("blocksz=5000", "blocksz=5000 is not a multiple of the page size (4096)", "Use blocksz=8192")]
    [InlineData("framesz=2001", "framesz=2001 is not a multiple of TPACKET_ALIGNMENT (16)", "Use framesz=2016")]
    [InlineData("framesz=8192", "framesz=8192 is larger than blocksz=4096", "Use blocksz=8192")]
    [InlineData("framesz=64", "framesz=64 is too small", "Use framesz=2048")]
    [InlineData("framecnt=513", "framecnt=513 is not a multiple of the 2 frames that fit in one block", "Use framecnt=514")]
    [InlineData("qpairs=300", "qpairs=300 is more than the 256 sockets a PACKET_FANOUT group takes", "use qpairs=1..256")]
    [InlineData("qpairs=0", "qpairs=0 is not valid", "from 1")]
    [InlineData("qdisc_bypass=2", "qdisc_bypass=2 is not valid", "expected 0 or 1")]
    [InlineData("bogus=1", "unknown argument 'bogus'", "framecnt")]
    public void Ring_geometry_and_argument_errors_name_the_rule_and_a_value_that_works(string argument, string problem, string fix)
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_af_packet0,iface={veth.HostInterface},{argument}"));
        Assert.Contains(problem, e.Message);
        Assert.Contains(fix, e.Message);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_ring_beyond_what_the_kernel_maps_is_refused_before_asking_it()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() =>
            EthDev.Create($"net_af_packet0,iface={veth.HostInterface},blocksz=1073741824,framesz=2048,framecnt=2097152"));
        Assert.Contains("more than the 4 GiB the kernel maps", e.Message);
        Assert.Contains("lower framecnt", e.Message);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_pool_whose_buffers_are_smaller_than_the_frames_is_refused_with_the_sizes()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool small = MbufPool.Create("afp_small", 256, cacheSize: 0, dataRoomSize: 1024 + 128);
        using EthDev port = EthDev.Create($"net_af_packet0,iface={veth.HostInterface}");
        port.Configure(1, 1);
        EthDevException e = Assert.Throws<EthDevException>(() => port.SetupRxQueue(0, 512, small));
        Assert.Contains("buffers hold 1024 data bytes", e.Message);
        Assert.Contains("dataRoomSize >= 2114", e.Message);
        Assert.Contains("framesz <= 1086", e.Message);
    }
}
