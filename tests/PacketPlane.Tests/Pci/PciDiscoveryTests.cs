using System;
using System.IO;
using System.Linq;
using PacketPlane.Bus.Pci;
using Xunit;

namespace PacketPlane.Tests.Pci;

public class PciDiscoveryTests
{
    [Fact]
    public void Scan_reads_ids_class_driver_group_numa_and_interfaces_from_a_fake_tree()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice("0000:03:00.1", 0x8086, 0x10fb, driver: "vfio-pci", iommuGroup: 7, numaNode: 1);
        fs.AddDevice("0000:03:00.0", 0x8086, 0x10fb, driver: "ixgbe", iommuGroup: 7, numaNode: 1, netInterface: "eth7");
        fs.AddDevice("0000:00:00.0", 0x8086, 0x0d57, classCode: 0x060000);
        Directory.CreateDirectory(Path.Combine(fs.Paths.Devices, "not-an-address"));
        Directory.CreateDirectory(Path.Combine(fs.Paths.Devices, "0000:09:00.0")); // no vendor file: skipped

        var bus = new PciBus(fs.Paths);
        var all = bus.Scan();
        Assert.Equal(["0000:00:00.0", "0000:03:00.0", "0000:03:00.1"], all.Select(d => d.Address.ToString()));
        PciDeviceInfo nic = all[1];
        Assert.Equal(0x8086, nic.VendorId);
        Assert.Equal(0x10fb, nic.DeviceId);
        Assert.Equal(0x020000u, nic.ClassCode);
        Assert.True(nic.IsEthernet);
        Assert.Equal("ixgbe", nic.KernelDriver);
        Assert.False(nic.IsBoundToVfio);
        Assert.Equal(7, nic.IommuGroup);
        Assert.Equal(1, nic.NumaNode);
        Assert.Equal(["eth7"], nic.NetInterfaces);
        Assert.True(all[2].IsBoundToVfio);
        Assert.Null(all[0].KernelDriver);
        Assert.Null(all[0].IommuGroup);
        Assert.False(all[0].IsEthernet);
        Assert.Equal(["0000:03:00.0", "0000:03:00.1"], bus.IommuGroupMembers(7).Select(a => a.ToString()));
        Assert.Null(bus.Find(PciAddress.Parse("0000:0a:00.0")));
    }

    [Fact]
    public void A_virtio_functions_interface_is_found_under_its_virtio_device()
    {
        using var fs = new FakeSysfs();
        fs.AddDevice("0000:00:03.0", 0x1af4, 0x1041, driver: "virtio-pci");
        // virtio-pci hangs the netdev off the virtio device: DEVICE/virtio0/net/eth0.
        Directory.CreateDirectory(Path.Combine(fs.Paths.Devices, "0000:00:03.0", "virtio0", "net", "eth0"));
        Assert.Equal(["eth0"], new PciBus(fs.Paths).Scan().Single().NetInterfaces);
    }

    [Fact]
    public void The_machines_uplink_is_recognised_by_its_default_route()
    {
        string route = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(route,
            [
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
                "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
                "eth1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            ]);
            Assert.Equal(["eth0"], PacketPlane.Interop.NetInterface.DefaultRouteInterfaces(route));
        }
        finally
        {
            File.Delete(route);
        }
    }

    [Fact]
    public void Scan_of_the_real_sys_bus_pci_matches_sysfs_read_only()
    {
        string dir = "/sys/bus/pci/devices";
        if (!Directory.Exists(dir))
            return; // a container without sysfs: nothing to compare with
        var found = PciBus.System.Scan();
        string[] entries = Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(entries, found.Select(d => d.Address.ToString()).ToArray());
        foreach (PciDeviceInfo d in found)
        {
            string vendor = File.ReadAllText(Path.Combine(dir, d.Address.ToString(), "vendor")).Trim();
            Assert.Equal(Convert.ToUInt16(vendor, 16), d.VendorId);
            string? driverLink = new FileInfo(Path.Combine(dir, d.Address.ToString(), "driver")).LinkTarget;
            Assert.Equal(driverLink is null ? null : Path.GetFileName(driverLink), d.KernelDriver);
        }
    }

    [Fact]
    public void Filter_follows_allow_block_and_no_pci()
    {
        var a = PciAddress.Parse("0000:03:00.0");
        var b = PciAddress.Parse("0000:03:00.1");
        var allow = new EalOptions();
        allow.AllowedPciDevices.Add("0000:03:00.0,rx_path=scalar");
        PciDeviceFilter f = PciDeviceFilter.FromOptions(allow);
        Assert.True(f.IsAllowed(a));
        Assert.False(f.IsAllowed(b));
        Assert.Equal("rx_path=scalar", f.ArgumentsFor(a));

        var block = new EalOptions();
        block.BlockedPciDevices.Add("03:00.1");
        f = PciDeviceFilter.FromOptions(block);
        Assert.True(f.IsAllowed(a));
        Assert.False(f.IsAllowed(b));

        var none = new EalOptions { NoPci = true };
        Assert.False(PciDeviceFilter.FromOptions(none).IsAllowed(a));

        var both = new EalOptions();
        both.AllowedPciDevices.Add("0000:03:00.0");
        both.BlockedPciDevices.Add("0000:03:00.1");
        var e = Assert.Throws<EalArgumentException>(() => PciDeviceFilter.FromOptions(both));
        Assert.Contains("-a/--allow and -b/--block cannot be used together", e.Message);

        var twice = new EalOptions();
        twice.AllowedPciDevices.Add("0000:03:00.0");
        twice.AllowedPciDevices.Add("03:00.0");
        Assert.Contains("-a 0000:03:00.0 is given twice", Assert.Throws<EalArgumentException>(() => PciDeviceFilter.FromOptions(twice)).Message);
    }
}
