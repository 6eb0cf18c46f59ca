using System;
using System.Linq;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Ixgbe;
using PacketPlane.Ethdev;
using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Pci;

/// <summary>The EAL's PCI probe (-a, -b, --no-pci) over a fake sysfs, with an 82599 model standing in for the device.</summary>
[Collection(EalCollection.Name)]
public class EalPciProbeTests : IDisposable
{
    private readonly FakeSysfs _fs = new();

    public EalPciProbeTests() => PacketPlane.Eal.PciProbePaths = _fs.Paths;

    public void Dispose()
    {
        PacketPlane.Eal.PciProbePaths = PciPaths.System;
        _fs.Dispose();
    }

    [Fact]
    public void Allowed_device_becomes_a_port_with_its_device_arguments()
    {
        PciAddress a = _fs.AddDevice("0000:61:00.0", 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 61);
        using var model = new Ixgbe82599Model(a);
        using var attachment = PciFunctions.Attach(model.Function);
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-a", "0000:61:00.0,rx_path=scalar"], out _))
        {
            EthDev port = Assert.Single(eal.Ports);
            Assert.Equal("pci:0000:61:00.0", port.Name);
            Assert.Equal("net_ixgbe", port.Info.DriverName);
            Assert.Equal("scalar", port.Arguments.GetString("rx_path"));
        }
        Assert.True(model.DriverReleased); // the EAL closed the port
        model.ThrowIfViolated();
    }

    [Fact]
    public void Allowed_device_bound_to_a_kernel_driver_fails_with_the_rebind_commands()
    {
        _fs.AddDevice("0000:62:00.0", 0x8086, 0x10fb, driver: "ixgbe", iommuGroup: 62, netInterface: "eth62");
        var e = Assert.Throws<PciException>(() => PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-a", "0000:62:00.0"], out _));
        Assert.Contains("is bound to the kernel driver 'ixgbe' (network interface eth62)", e.Message);
        Assert.Contains("echo vfio-pci > /sys/bus/pci/devices/0000:62:00.0/driver_override", e.Message);
        Assert.Null(PacketPlane.Eal.Current);
    }

    [Fact]
    public void Allowed_device_no_driver_supports_is_refused_with_the_supported_list()
    {
        _fs.AddDevice("0000:00:00.0", 0x8086, 0x0d57, classCode: 0x060000);
        var e = Assert.Throws<EalArgumentException>(() => PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-a", "0000:00:00.0"], out _));
        Assert.Contains("-a 0000:00:00.0: no PacketPlane driver supports 8086:0d57 (class 0x060000, bound to no driver)", e.Message);
        Assert.Contains("net_ixgbe", e.Message);
    }

    [Fact]
    public void Allowed_device_that_does_not_exist()
    {
        var e = Assert.Throws<PciException>(() => PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-a", "0000:63:00.0"], out _));
        Assert.Contains("PCI device 0000:63:00.0 does not exist", e.Message);
    }

    [Fact]
    public void Scan_takes_supported_vfio_devices_skips_blocked_kernel_bound_and_unsupported_ones()
    {
        PciAddress usable = _fs.AddDevice("0000:64:00.0", 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 64);
        PciAddress blocked = _fs.AddDevice("0000:65:00.0", 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 65);
        _fs.AddDevice("0000:66:00.0", 0x8086, 0x10fb, driver: "ixgbe", iommuGroup: 66);
        _fs.AddDevice("0000:00:03.0", 0x1af4, 0x1041, driver: "virtio-pci");
        using var m1 = new Ixgbe82599Model(usable);
        using var m2 = new Ixgbe82599Model(blocked);
        using var a1 = PciFunctions.Attach(m1.Function);
        using var a2 = PciFunctions.Attach(m2.Function);
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-b", "0000:65:00.0"], out _))
            Assert.Equal(["pci:0000:64:00.0"], eal.Ports.Select(p => p.Name));
        Assert.True(m1.DriverReleased);
        Assert.False(m2.DriverAttached);
    }

    [Fact]
    public void No_pci_scans_nothing()
    {
        PciAddress a = _fs.AddDevice("0000:67:00.0", 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 67);
        using var model = new Ixgbe82599Model(a);
        using var attachment = PciFunctions.Attach(model.Function);
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0", "--no-huge", "--no-pci"], out _))
            Assert.Empty(eal.Ports);
        Assert.False(model.DriverAttached);
    }

    [Fact]
    public void Allow_and_block_together_are_refused()
    {
        var e = Assert.Throws<EalArgumentException>(() => PacketPlane.Eal.Init(["-l", "0", "--no-huge", "-a", "0000:68:00.0", "-b", "0000:69:00.0"], out _));
        Assert.Contains("-a/--allow and -b/--block cannot be used together", e.Message);
    }
}
