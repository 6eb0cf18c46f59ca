using System;
using PacketPlane.Bus.Pci;
using PacketPlane.Ethdev;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.I40e;

[Collection(NicModelCollection.Name)]
public class I40eErrorTests
{
    [Fact]
    public void Vector_receive_path_is_refused_with_the_alternatives()
    {
        using var h = new I40eHarness(create: false);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"pci:{h.Address},rx_path=vector"));
        Assert.Contains("the i40e driver has scalar and bulk receive paths; rx_path=vector is only available on ixgbe", e.Message);
    }

    [Fact]
    public void Firmware_api_of_another_major_version_is_refused()
    {
        using var h = new I40eHarness(create: false);
        h.Model.ApiMajor = 2;
        var e = Assert.Throws<EthDevException>(() => EthDev.Create($"pci:{h.Address}"));
        Assert.Contains("the firmware speaks admin API 2.15; this driver speaks 1.x. Update PacketPlane", e.Message);
    }

    [Fact]
    public void Firmware_that_does_not_answer_times_out_with_the_register_state()
    {
        using var h = new I40eHarness(create: false);
        h.Model.FaultFirmwareSilent = true;
        var e = Assert.Throws<EthDevException>(() => EthDev.Create($"pci:{h.Address}"));
        Assert.Contains("admin command get version timed out after 500 ms (PF_ATQH did not reach ", e.Message);
        Assert.Contains("The firmware is not answering", e.Message);
    }

    [Fact]
    public void Queue_that_never_enables_times_out_naming_register_and_bits()
    {
        using var h = new I40eHarness();
        h.Model.FaultQueueNeverEnables = true;
        h.Port.Configure(1, 1);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        var e = Assert.Throws<PciException>(() => h.Port.Start());
        Assert.Contains("waiting for QTX_ENA(i) (0x100000) bits QENA_STAT (0x00000004) to set", e.Message);
        h.Model.FaultQueueNeverEnables = false;
    }

    [Fact]
    public void Descriptor_counts_rss_key_loopback_and_mtu_are_checked()
    {
        using var h = new I40eHarness();
        Assert.Contains("the X710 RSS key is 52 bytes, 40 given",
            Assert.Throws<EthDevException>(() => h.Port.Configure(2, 2, new EthConf { RssEnabled = true, RssKey = new byte[40] })).Message);
        Assert.Contains("loopback is not supported by the i40e driver",
            Assert.Throws<EthDevException>(() => h.Port.Configure(1, 1, new EthConf { Loopback = true })).Message);
        h.Port.Configure(1, 1);
        Assert.Contains("96 RX descriptors requested; this driver takes a power of two from 64 to 4096",
            Assert.Throws<EthDevException>(() => h.Port.SetupRxQueue(0, 96, h.Pool)).Message);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        h.Port.Start();
        Assert.Contains("stop the port before changing the MTU", Assert.Throws<EthDevException>(() => h.Port.SetMtu(9000)).Message);
    }
}
