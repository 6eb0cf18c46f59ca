using System;
using System.IO;
using PacketPlane.Bus.Pci;
using Xunit;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// Every VFIO error this machine can reach without an IOMMU (there is no /dev/vfio here), each against a fake sysfs
/// and /dev/vfio, with the message checked for the cause and the exact fix.
/// </summary>
public class VfioErrorTests
{
    private const string Nic = "0000:05:00.0";

    [Fact]
    public void Missing_device()
    {
        using var fs = new FakeSysfs();
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Equal($"PCI device {Nic} does not exist (no /sys/bus/pci/devices/{Nic}). List the machine's network devices with: lspci -D -nn | grep -i ethernet", e.Message);
    }

    [Fact]
    public void Device_bound_to_a_kernel_driver_shows_the_rebind_commands_and_is_left_alone()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "ixgbe", iommuGroup: 5, netInterface: "enp5s0f0");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"PCI device {Nic} (8086:10fb) is bound to the kernel driver 'ixgbe' (network interface enp5s0f0)", e.Message);
        Assert.Contains("PacketPlane never unbinds a device on its own", e.Message);
        Assert.Contains(
            "  modprobe vfio-pci\n" +
            $"  echo {Nic} > /sys/bus/pci/devices/{Nic}/driver/unbind\n" +
            $"  echo vfio-pci > /sys/bus/pci/devices/{Nic}/driver_override\n" +
            $"  echo {Nic} > /sys/bus/pci/drivers_probe", e.Message);
        Assert.Contains($"dpdk-devbind.py --bind=vfio-pci {Nic}", e.Message);
        Assert.Contains($"echo > /sys/bus/pci/devices/{Nic}/driver_override", e.Message); // how to give it back
        // Nothing was touched: the fake driver link is still there.
        Assert.Equal("ixgbe", new PciBus(fs.Paths).Find(PciAddress.Parse(Nic))!.KernelDriver);
    }

    [Fact]
    public void Device_bound_to_no_driver()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, iommuGroup: 5);
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains("is not bound to any driver. Bind it to vfio-pci as root:", e.Message);
        Assert.DoesNotContain("driver/unbind", e.Message);
    }

    [Fact]
    public void Missing_dev_vfio_explains_the_module_and_the_kernel_options()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 5);
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"Cannot open {Nic} through VFIO: {fs.Paths.DevVfio} does not exist, so the vfio-pci driver is not loaded", e.Message);
        Assert.Contains("modprobe vfio-pci", e.Message);
        Assert.Contains("intel_iommu=on iommu=pt", e.Message);
        Assert.Contains("amd_iommu=on iommu=pt", e.Message);
        Assert.Contains("modprobe vfio enable_unsafe_noiommu_mode=1", e.Message);
        Assert.Contains("CONFIG_VFIO_NOIOMMU", e.Message);
        Assert.Contains("--iova-mode pa", e.Message);
    }

    [Fact]
    public void Device_in_no_iommu_group()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci");
        fs.AddDevVfio("vfio");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"PCI device {Nic} is in no IOMMU group: the IOMMU is off or absent", e.Message);
        Assert.Contains("intel_iommu=on iommu=pt", e.Message);
    }

    [Fact]
    public void Non_viable_group_names_the_other_devices_and_their_drivers()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 5);
        fs.AddDevice("0000:05:00.1", 0x8086, 0x10fb, driver: "ixgbe", iommuGroup: 5);
        fs.AddDevice("0000:00:1c.0", 0x8086, 0xa110, classCode: 0x060400, driver: "pcieport", iommuGroup: 5); // bridges are fine
        fs.AddDevVfio("vfio", "5");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"IOMMU group 5 of {Nic} is not viable", e.Message);
        Assert.Contains("Other devices in group 5: 0000:05:00.1 8086:10fb bound to 'ixgbe'.", e.Message);
        Assert.DoesNotContain("0000:00:1c.0", e.Message);
        Assert.Contains("echo 0000:05:00.1 > /sys/bus/pci/devices/0000:05:00.1/driver/unbind", e.Message);
    }

    [Fact]
    public void Group_device_missing_although_bound_to_vfio_pci()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 5);
        fs.AddDevVfio("vfio");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"is bound to vfio-pci and in IOMMU group 5, but {Path.Combine(fs.Paths.DevVfio, "5")} does not exist", e.Message);
        Assert.Contains("dmesg | grep -i vfio", e.Message);
    }

    [Fact]
    public void Container_missing_from_dev_vfio()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 5);
        fs.AddDevVfio("5");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"{fs.Paths.Container} does not exist, so the vfio-pci driver is not loaded", e.Message);
    }

    [Fact]
    public void Container_that_is_not_a_vfio_device()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice(Nic, 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 5);
        fs.AddDevVfio("vfio", "5");
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(PciAddress.Parse(Nic), fs.Paths));
        Assert.Contains($"{fs.Paths.Container} does not answer VFIO_GET_API_VERSION (errno 25", e.Message);
        Assert.Contains("it is not the VFIO container device", e.Message);
    }

    [Fact]
    public void The_real_machine_has_no_vfio_and_the_uplink_is_refused_not_touched()
    {
        // On these machines: no /dev/vfio; the only network function is the virtio-net uplink, bound to virtio-pci.
        PciDeviceInfo? uplink = null;
        foreach (PciDeviceInfo d in PciBus.System.Scan())
        {
            if (d.IsEthernet && d.KernelDriver is not null && !d.IsBoundToVfio)
                uplink = d;
        }
        if (uplink is null)
            return; // some other machine
        var e = Assert.Throws<PciException>(() => VfioPciFunction.Open(uplink.Address));
        Assert.Contains($"is bound to the kernel driver '{uplink.KernelDriver}'", e.Message);
        Assert.Equal(uplink.KernelDriver, PciBus.System.Find(uplink.Address)!.KernelDriver);
    }
}
