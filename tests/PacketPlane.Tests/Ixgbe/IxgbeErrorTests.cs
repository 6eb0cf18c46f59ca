using System;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.Ixgbe;

/// <summary>Every refusal of the ixgbe driver and the PCI port driver, with its message.</summary>
[Collection(NicModelCollection.Name)]
public class IxgbeErrorTests
{
    [Fact]
    public void Unknown_rx_path_names_the_valid_ones()
    {
        using var h = new IxgbeHarness(create: false);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"pci:{h.Address},rx_path=turbo"));
        Assert.Contains("rx_path=turbo is not valid; expected auto, scalar, bulk or vector", e.Message);
    }

    [Fact]
    public void Unknown_argument_lists_the_driver_parameters()
    {
        using var h = new IxgbeHarness(create: false);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"pci:{h.Address},queues=4"));
        Assert.Contains("unknown argument 'queues'", e.Message);
        Assert.Contains("rx_path", e.Message);
    }

    [Fact]
    public void Malformed_pci_address_is_refused()
    {
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("pci:03:00"));
        Assert.Contains("'03:00' is not a PCI address; expected pci:DOMAIN:BUS:DEVICE.FUNCTION", e.Message);
    }

    [Fact]
    public void Address_with_no_device_says_so()
    {
        var e = Assert.Throws<PciException>(() => EthDev.Create("pci:0000:fe:1f.7"));
        Assert.Contains("PCI device 0000:fe:1f.7 does not exist (no /sys/bus/pci/devices/0000:fe:1f.7)", e.Message);
        Assert.Contains("lspci -D -nn", e.Message);
    }

    [Fact]
    public void Device_without_a_driver_lists_the_supported_ids()
    {
        using var fake = new FakePciFunction(new PciAddress(0, 0x3f, 0, 0), 0x8086, 0x1234);
        using var _ = PciFunctions.Attach(fake);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("pci:0000:3f:00.0"));
        Assert.Contains("no PacketPlane driver for PCI device 0000:3f:00.0 (8086:1234)", e.Message);
        Assert.Contains("net_ixgbe (Intel 82599 SFP+ (X520)): 8086:10fb", e.Message);
    }

    [Fact]
    public void Descriptor_count_must_be_a_power_of_two()
    {
        using var h = new IxgbeHarness();
        h.Port.Configure(1, 1);
        var e = Assert.Throws<EthDevException>(() => h.Port.SetupRxQueue(0, 1000, h.Pool));
        Assert.Contains("1000 RX descriptors requested; this driver takes a power of two from 32 to 4096", e.Message);
    }

    [Fact]
    public void Pool_buffers_below_one_kib_are_refused_with_the_reason()
    {
        using var h = new IxgbeHarness();
        using var small = MbufPool.Create("ixgbe_small", 1024, cacheSize: 0, dataRoomSize: 512 + Mbuf.DefaultHeadroom);
        h.Port.Configure(1, 1);
        var e = Assert.Throws<EthDevException>(() => h.Port.SetupRxQueue(0, 256, small));
        Assert.Contains("has 512 data bytes per mbuf after headroom; the 82599 takes receive buffers in whole KiB (SRRCTL.BSIZEPKT)", e.Message);
    }

    [Fact]
    public void Mtu_larger_than_the_buffers_is_refused_at_start()
    {
        using var h = new IxgbeHarness();
        h.Port.Configure(1, 1, new EthConf { Mtu = 9000 });
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        var e = Assert.Throws<EthDevException>(() => h.Port.Start());
        Assert.Contains("MTU 9000 needs 9018-byte frames but RX queue 0's buffers hold 2048 bytes and this driver does not chain buffers", e.Message);
    }

    [Fact]
    public void Rss_key_of_the_wrong_length_is_refused()
    {
        using var h = new IxgbeHarness();
        var e = Assert.Throws<EthDevException>(() => h.Port.Configure(2, 2, new EthConf { RssEnabled = true, RssKey = new byte[16] }));
        Assert.Contains("the 82599 RSS key is 40 bytes, 16 given", e.Message);
    }

    [Fact]
    public void Ring_pool_too_small_to_fill_the_ring_says_how_to_size_it()
    {
        using var h = new IxgbeHarness(poolSize: 100);
        h.Port.Configure(1, 1);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        var e = Assert.Throws<EthDevException>(() => h.Port.Start());
        Assert.Contains("ran out while filling 256 descriptors", e.Message);
        Assert.Contains("MbufPool.RequiredCount", e.Message);
    }

    [Fact]
    public void A_device_that_never_leaves_reset_times_out_naming_register_and_bits()
    {
        using var h = new IxgbeHarness(create: false);
        h.Model.FaultResetNeverCompletes = true;
        var e = Assert.Throws<PciException>(() => EthDev.Create($"pci:{h.Address}"));
        Assert.Contains("timed out after 1000 ms waiting for CTRL (0x00000) bits CTRL_RST_MASK (0x04000008) to clear", e.Message);
    }

    [Fact]
    public void A_queue_that_never_comes_on_times_out_naming_register_and_bits()
    {
        using var h = new IxgbeHarness();
        h.Model.FaultQueueEnableNeverLatches = true;
        h.Port.Configure(1, 1);
        h.Port.SetupRxQueue(0, 256, h.Pool);
        h.Port.SetupTxQueue(0, 256);
        var e = Assert.Throws<PciException>(() => h.Port.Start());
        Assert.Contains("waiting for TXDCTL(q.QueueId) (0x06028) bits TXDCTL_ENABLE (0x02000000) to set", e.Message);
        h.Model.FaultQueueEnableNeverLatches = false;
    }
}
