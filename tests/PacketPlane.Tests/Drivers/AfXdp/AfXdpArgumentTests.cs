using PacketPlane.Ethdev;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>Device-string errors that need no privilege: they come before any socket or BPF call.</summary>
public class AfXdpArgumentTests
{
    [Fact]
    public void Unknown_argument_lists_every_valid_one()
    {
        string m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_af_xdp90,iface=lo,queues=2")).Message;
        Assert.Contains("unknown argument 'queues'", m);
        foreach (string key in new[] { "iface", "start_queue", "queue_count", "busy_budget", "force_copy", "xdp_prog", "shared_umem" })
            Assert.Contains(key + " (", m);
    }

    [Fact]
    public void Missing_iface_says_what_to_give()
    {
        string m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_af_xdp91,start_queue=0")).Message;
        Assert.Contains("needs iface=IFNAME", m);
    }

    [Theory]
    [InlineData("start_queue=-1", "start_queue=-1 is not valid")]
    [InlineData("queue_count=0", "queue_count=0 is not valid")]
    [InlineData("force_copy=maybe", "force_copy=maybe is not valid; expected 0 or 1")]
    [InlineData("busy_budget=lots", "busy_budget=lots is not valid")]
    public void Malformed_values_are_named(string arg, string expected)
    {
        string m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_af_xdp92,iface=lo,{arg}")).Message;
        Assert.Contains(expected, m);
    }

    [Fact]
    public void Missing_interface_lists_the_ones_that_exist()
    {
        var e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create("net_af_xdp93,iface=nosuchif0"));
        Assert.Contains("interface 'nosuchif0' does not exist", e.Message);
        Assert.Contains("lo", e.Message);
        Assert.Contains("ip link show", e.Message);
        Assert.Null(EthDev.FindByName("net_af_xdp93"));
    }
}
