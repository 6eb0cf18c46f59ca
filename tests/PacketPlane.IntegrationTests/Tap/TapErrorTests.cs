using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.AfPacket;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Tap;

/// <summary>Every net_tap error a user can run into, produced for real, with the fix in its message.</summary>
[Collection(KernelPortsCollection.Name)]
public class TapErrorTests
{
    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Without_CAP_NET_ADMIN_the_error_names_the_capability_and_the_unprivileged_alternative()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        try
        {
            string output = AfPacketErrorTests.CreateWithout("-net_admin", $"net_tap0,iface={name}");
            Assert.StartsWith("error PrivilegeException:", output);
            Assert.Contains("CAP_NET_ADMIN", output);
            Assert.Contains("--cap-add NET_ADMIN --device /dev/net/tun", output);
            Assert.Contains($"ip tuntap add dev {name} mode tap multi_queue user $USER", output);
            Assert.StartsWith("ok", AfPacketErrorTests.CreateWithout("+net_admin", $"net_tap0,iface={name}"));
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void An_existing_interface_that_is_not_a_tap_is_named_as_such()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        PacketPlaneException e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create($"net_tap0,iface={veth.HostInterface}"));
        Assert.Contains($"cannot use interface '{veth.HostInterface}': it exists and is not a TUN/TAP device", e.Message);
        Assert.Contains("Pick another iface= name", e.Message);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_single_queue_tap_says_how_to_recreate_it_multi_queue()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        try
        {
            Shell.Run($"ip tuntap add dev {name} mode tap");
            PacketPlaneException e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create($"net_tap0,iface={name}"));
            Assert.Contains("single-queue TAP", e.Message);
            Assert.Contains($"ip tuntap add dev {name} mode tap multi_queue", e.Message);
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void A_tun_device_is_not_taken_for_a_tap()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = TapTrafficTests.NewName();
        try
        {
            Shell.Run($"ip tuntap add dev {name} mode tun multi_queue");
            PacketPlaneException e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create($"net_tap0,iface={name}"));
            Assert.Contains("TUN (layer 3) device, not a TAP", e.Message);
        }
        finally
        {
            TapTrafficTests.Cleanup(name);
        }
    }

    [Theory]
    [InlineData("iface=averyveryverylongname", "is not a valid interface name (1 to 15 characters")]
    [InlineData("mac=01:00:5e:00:00:01", "is a multicast address")]
    [InlineData("mac=nope", "is not a MAC address")]
    [InlineData("persist=maybe", "expected 0 or 1")]
    [InlineData("remote=eth0", "unknown argument 'remote'")]
    public void Bad_arguments_are_refused_before_anything_is_created(string argument, string expected)
    {
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_tap0,{argument}"));
        Assert.Contains(expected, e.Message);
    }
}
