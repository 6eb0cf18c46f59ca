using System.Linq;
using PacketPlane.Drivers.Tap;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.Tests.Drivers.Tap;

/// <summary>net_tap arguments, checked without touching the kernel.</summary>
public class TapOptionsTests
{
    private static TapOptions Parse(string text) => TapOptions.Parse(DeviceArguments.Parse(text));

    [Fact]
    public void Defaults_let_the_kernel_number_the_name_and_pick_the_mac()
    {
        TapOptions o = Parse("net_tap0");
        Assert.Equal("dtap%d", o.Interface);
        Assert.Null(o.Mac);
        Assert.False(o.Persist);
    }

    [Fact]
    public void Fixed_macs_spell_dtap_and_count_up_per_device()
    {
        MacAddress first = Parse("net_tap0,mac=fixed").Mac!.Value;
        MacAddress second = Parse("net_tap1,mac=fixed").Mac!.Value;
        Assert.StartsWith("02:64:74:61:70:", first.ToString());
        Assert.Equal((first.ToUInt64() + 1) & 0xff, second.ToUInt64() & 0xff);
        Assert.True(first.IsLocallyAdministered);
    }

    [Fact]
    public void An_explicit_mac_and_persist_are_taken_as_given()
    {
        TapOptions o = Parse("net_tap0,iface=tap9,mac=02:11:22:33:44:55,persist=1");
        Assert.Equal("tap9", o.Interface);
        Assert.Equal("02:11:22:33:44:55", o.Mac.ToString());
        Assert.True(o.Persist);
    }

    [Theory]
    [InlineData("iface=", "is not a valid interface name")]
    [InlineData("iface=a/b", "no '/'")]
    [InlineData("mac=03:00:00:00:00:01", "multicast")]
    [InlineData("mac=02:00:00", "is not a MAC address")]
    [InlineData("persist=2", "expected 0 or 1")]
    public void Invalid_arguments_name_the_problem(string args, string expected)
    {
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => Parse("net_tap0," + args));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_driver_is_registered_with_its_arguments_and_requirements()
    {
        EthDriver driver = EthDriverRegistry.Find("net_tap3");
        Assert.Equal("net_tap", driver.Name);
        Assert.Equal(["iface", "mac", "persist"], driver.Parameters.Keys.Order());
        Assert.Contains("CAP_NET_ADMIN", driver.Requirements);
        Assert.Contains("/dev/net/tun", driver.Requirements);
        DeviceArgumentException e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_tap0,remote=eth0"));
        Assert.Contains("valid arguments: iface", e.Message);
    }
}
