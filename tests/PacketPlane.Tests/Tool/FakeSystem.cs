using System;
using System.IO;

namespace PacketPlane.Tests.Tool;

/// <summary>
/// A fake sys/ proc/ dev/ tree laid out as the kernel lays it out (symlinks where sysfs has symlinks), so the tool's
/// decisions can be tested without touching this machine's devices.
/// </summary>
internal sealed class FakeSystem : IDisposable
{
    public FakeSystem()
    {
        Root = Directory.CreateTempSubdirectory("pp_fakesys").FullName;
        Directory.CreateDirectory(P("sys/class/net"));
        Directory.CreateDirectory(P("sys/bus/pci/devices"));
        Directory.CreateDirectory(P("sys/bus/pci/drivers"));
        Directory.CreateDirectory(P("sys/kernel/iommu_groups"));
        Directory.CreateDirectory(P("proc/net"));
        File.WriteAllText(P("sys/bus/pci/drivers_probe"), "");
        File.WriteAllText(P("proc/net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    }

    public string Root { get; }

    public string P(string relative) => Path.Combine(Root, relative);

    public FakeSystem Driver(string name)
    {
        Directory.CreateDirectory(P($"sys/bus/pci/drivers/{name}"));
        File.WriteAllText(P($"sys/bus/pci/drivers/{name}/unbind"), "");
        File.WriteAllText(P($"sys/bus/pci/drivers/{name}/bind"), "");
        return this;
    }

    /// <summary>A PCI NIC; its interface hangs directly under it (ixgbe style) or under a virtio child (virtio style).</summary>
    public FakeSystem PciNic(string address, string vendorDevice, string? driver, string? iface = null, string? netDriver = null,
        bool virtioChild = false, string? iommuGroup = null, string pciClass = "0x020000")
    {
        string dev = P($"sys/devices/pci0000:00/{address}");
        Directory.CreateDirectory(dev);
        File.WriteAllText(Path.Combine(dev, "class"), pciClass + "\n");
        File.WriteAllText(Path.Combine(dev, "vendor"), "0x" + vendorDevice[..4] + "\n");
        File.WriteAllText(Path.Combine(dev, "device"), "0x" + vendorDevice[5..] + "\n");
        File.WriteAllText(Path.Combine(dev, "numa_node"), "0\n");
        File.WriteAllText(Path.Combine(dev, "driver_override"), "(null)\n");
        File.CreateSymbolicLink(P($"sys/bus/pci/devices/{address}"), dev);
        if (driver is not null)
        {
            Driver(driver);
            File.CreateSymbolicLink(Path.Combine(dev, "driver"), $"../../../bus/pci/drivers/{driver}");
        }
        if (iommuGroup is not null)
        {
            Directory.CreateDirectory(P($"sys/kernel/iommu_groups/{iommuGroup}/devices"));
            File.CreateSymbolicLink(P($"sys/kernel/iommu_groups/{iommuGroup}/devices/{address}"), dev);
            File.CreateSymbolicLink(Path.Combine(dev, "iommu_group"), $"../../../kernel/iommu_groups/{iommuGroup}");
        }
        if (iface is not null)
        {
            string parent = virtioChild ? Path.Combine(dev, "virtio0") : dev;
            string netDir = Path.Combine(parent, "net", iface);
            Directory.CreateDirectory(netDir);
            WriteNetFiles(netDir, "up");
            if (virtioChild && netDriver is not null)
            {
                // virtio-net: the interface's device is the virtio child, bound to virtio_net on the virtio bus.
                string driverDir = P($"sys/bus/virtio/drivers/{netDriver}");
                Directory.CreateDirectory(driverDir);
                File.CreateSymbolicLink(Path.Combine(parent, "driver"), driverDir);
            }
            File.CreateSymbolicLink(Path.Combine(netDir, "device"), parent);
            File.CreateSymbolicLink(P($"sys/class/net/{iface}"), netDir);
        }
        return this;
    }

    public FakeSystem VirtualNet(string name, string state = "up")
    {
        string dir = P($"sys/devices/virtual/net/{name}");
        Directory.CreateDirectory(dir);
        WriteNetFiles(dir, state);
        File.CreateSymbolicLink(P($"sys/class/net/{name}"), dir);
        return this;
    }

    public FakeSystem DefaultRoute(string iface)
    {
        File.AppendAllText(P("proc/net/route"), $"{iface}\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
        return this;
    }

    public FakeSystem Hugepages(int node, long kb, long total, long free)
    {
        string dir = node < 0 ? P($"sys/kernel/mm/hugepages/hugepages-{kb}kB") : P($"sys/devices/system/node/node{node}/hugepages/hugepages-{kb}kB");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "nr_hugepages"), $"{total}\n");
        File.WriteAllText(Path.Combine(dir, "free_hugepages"), $"{free}\n");
        return this;
    }

    public FakeSystem Vfio()
    {
        Driver("vfio-pci");
        Directory.CreateDirectory(P("dev/vfio"));
        return this;
    }

    public FakeSystem IpLinkJson(string json)
    {
        File.WriteAllText(P("ip-link.json"), json);
        return this;
    }

    public string Read(string relative) => File.ReadAllText(P(relative));

    public void Dispose() => Directory.Delete(Root, true);

    private static void WriteNetFiles(string dir, string state)
    {
        File.WriteAllText(Path.Combine(dir, "operstate"), state + "\n");
        File.WriteAllText(Path.Combine(dir, "address"), "02:00:00:00:00:01\n");
    }
}
