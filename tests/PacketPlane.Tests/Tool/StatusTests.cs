using System.IO;
using System.Linq;
using PacketPlane.Tool;
using Xunit;

namespace PacketPlane.Tests.Tool;

/// <summary>packetplane status against fake sysfs trees: what it finds, what it says PacketPlane can use, the fixes it gives.</summary>
public class StatusTests
{
    private const string IpLink = """
        [{"ifname":"lo","operstate":"UNKNOWN"},
         {"ifname":"eth0","operstate":"UP"},
         {"ifname":"veth0","linkinfo":{"info_kind":"veth"},"xdp":{"mode":1,"prog":{"id":42,"name":"xdp_sock_prog"},"attached":[{"mode":1,"prog":{"id":42,"name":"xdp_sock_prog"}}]}},
         {"ifname":"ens1f0","operstate":"UP"}]
        """;

    private static FakeSystem Machine() => new FakeSystem()
        .PciNic("0000:00:03.0", "1af4:1041", "virtio-pci", iface: "eth0", netDriver: "virtio_net", virtioChild: true)
        .PciNic("0000:03:00.0", "8086:10fb", "ixgbe", iface: "ens1f0", iommuGroup: "12")
        .PciNic("0000:03:00.1", "8086:10fb", null, iommuGroup: "13")
        .PciNic("0000:00:01.0", "1af4:1045", "virtio-pci", pciClass: "0xffff00")
        .VirtualNet("lo", "unknown")
        .VirtualNet("veth0")
        .DefaultRoute("eth0")
        .Hugepages(0, 2048, 0, 0)
        .Hugepages(0, 1048576, 0, 0)
        .IpLinkJson(IpLink);

    [Fact]
    public void Finds_interfaces_pci_nics_drivers_and_what_packetplane_can_use()
    {
        using FakeSystem sys = Machine();
        SystemStatus s = StatusProbe.Probe(new SystemRoot(sys.Root), XdpProbe.Parse(IpLink), isRoot: true);

        Assert.Equal(new[] { "ens1f0", "eth0", "lo", "veth0" }, s.NetDevices.Select(d => d.Name));
        NetDevice eth0 = s.NetDevices.Single(d => d.Name == "eth0");
        Assert.Equal("virtio_net", eth0.Driver);
        Assert.Equal("0000:00:03.0", eth0.PciAddress); // found through the virtio child
        Assert.True(eth0.CarriesDefaultRoute);
        Assert.Contains("af_xdp (native XDP, copy mode)", eth0.Usable);
        NetDevice ixgbe = s.NetDevices.Single(d => d.Name == "ens1f0");
        Assert.Equal("ixgbe", ixgbe.Driver);
        Assert.Contains("af_xdp (native XDP, zero-copy likely)", ixgbe.Usable);
        NetDevice veth = s.NetDevices.Single(d => d.Name == "veth0");
        Assert.Equal("veth", veth.Driver);
        XdpAttachment xdp = Assert.Single(veth.Xdp);
        Assert.Equal(("native", 42), (xdp.Mode, xdp.ProgramId));

        Assert.Equal(new[] { "0000:00:03.0", "0000:03:00.0", "0000:03:00.1" }, s.PciNics.Select(n => n.Address)); // class 0x02 only
        PciNic bound = s.PciNics.Single(n => n.Address == "0000:03:00.0");
        Assert.Equal(("8086:10fb", "ixgbe", "ixgbe", "12"), (bound.VendorDevice, bound.Driver, bound.Pmd, bound.IommuGroup));
        Assert.Equal(new[] { "ens1f0" }, bound.Interfaces);
        Assert.Contains(bound.Usable, u => u.Contains("packetplane bind 0000:03:00.0 vfio-pci"));
        Assert.Null(s.PciNics.Single(n => n.Address == "0000:03:00.1").Driver);
    }

    [Fact]
    public void Every_problem_comes_with_the_command_that_fixes_it()
    {
        using FakeSystem sys = Machine();
        SystemStatus s = StatusProbe.Probe(new SystemRoot(sys.Root), XdpProbe.Parse(IpLink), isRoot: false, memlockBytes: 64 * 1024);
        string Fix(string about) => s.Problems.Single(p => p.What.Contains(about)).Fix;

        Assert.Equal("packetplane hugepages --reserve 2G", Fix("no hugepages are reserved"));
        Assert.Equal("modprobe vfio-pci", Fix("vfio-pci driver is not loaded"));
        Assert.StartsWith("ip link set dev veth0 xdp off", Fix("veth0 has XDP program 42"));
        Assert.Contains("packetplane bind 0000:03:00.1 vfio-pci", Fix("0000:03:00.1 (8086:10fb) has no driver bound"));
        Assert.Contains("ulimit -l unlimited", Fix("locked-memory limit is 64 KiB"));
        Assert.All(s.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Fix)));

        using FakeSystem bare = new FakeSystem().PciNic("0000:03:00.0", "8086:10fb", "ixgbe", iface: "ens1f0").Hugepages(-1, 2048, 1024, 1024);
        SystemStatus noIommu = StatusProbe.Probe(new SystemRoot(bare.Root), XdpProbe.Empty, isRoot: true);
        Assert.Contains("intel_iommu=on", noIommu.Problems.Single(p => p.What.Contains("no IOMMU groups")).Fix);
    }

    [Fact]
    public void A_ready_machine_reports_hugepages_vfio_and_no_problems()
    {
        using FakeSystem sys = new FakeSystem()
            .PciNic("0000:03:00.0", "8086:1572", "vfio-pci", iommuGroup: "7")
            .Vfio()
            .Hugepages(0, 2048, 1024, 1000)
            .Hugepages(1, 2048, 512, 512);
        SystemStatus s = StatusProbe.Probe(new SystemRoot(sys.Root), XdpProbe.Empty, isRoot: true);
        Assert.Empty(s.Problems);
        Assert.Equal(1, s.IommuGroups);
        Assert.True(s.DevVfio && s.VfioPciLoaded);
        Assert.Equal(new[] { (0, 1024L, 1000L), (1, 512L, 512L) }, s.Hugepages.Select(h => (h.Node, h.Total, h.Free)));
        Assert.Contains("i40e PMD via VFIO (bound to vfio-pci: ready)", s.PciNics.Single().Usable);
    }

    [Fact]
    public void The_command_prints_a_readable_report_and_json()
    {
        using FakeSystem sys = Machine();
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["status", "--root", sys.Root], output, new StringWriter(), isRoot: true));
        string text = output.ToString();
        Assert.Contains("eth0", text);
        Assert.Contains("[default route: do not bind]", text);
        Assert.Contains("native:42", text);
        Assert.Contains("fix: modprobe vfio-pci", text);

        var json = new StringWriter();
        Assert.Equal(0, Program.Run(["status", "--json", "--root", sys.Root], json, new StringWriter(), isRoot: true));
        using var doc = System.Text.Json.JsonDocument.Parse(json.ToString());
        Assert.Equal(4, doc.RootElement.GetProperty("netDevices").GetArrayLength());
        Assert.Equal(2, Program.Run(["status", "--bogus", "--root", sys.Root], new StringWriter(), new StringWriter(), isRoot: true));
    }
}
