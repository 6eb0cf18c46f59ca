using System;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using Xunit;

namespace PacketPlane.Tests.Pci;

public class BareAddressTests
{
    [Fact]
    public void A_bare_pci_address_is_claimed_by_the_pci_driver()
    {
        Assert.Equal("pci:", EthDriverRegistry.Find("0000:03:00.0").Name);
        Assert.Equal("pci:", EthDriverRegistry.Find("03:00.0").Name);
        Assert.Equal("net_null", EthDriverRegistry.Find("net_null0").Name);
    }

    [Fact]
    public void Creating_a_port_on_an_absent_device_names_the_address()
    {
        Exception e = Assert.ThrowsAny<PacketPlaneException>(() => EthDev.Create("0000:fe:1f.7"));
        Assert.Contains("0000:fe:1f.7", e.Message);
        Assert.DoesNotContain("no driver for device", e.Message);
    }
}
