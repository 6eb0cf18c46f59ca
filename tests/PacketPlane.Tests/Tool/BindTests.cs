using System.IO;
using System.Linq;
using PacketPlane.Tool;
using Xunit;

namespace PacketPlane.Tests.Tool;

/// <summary>
/// packetplane bind's decisions and writes, against fake sysfs trees only: this machine's one PCI NIC is its uplink.
/// </summary>
public class BindTests
{
    private static FakeSystem Machine() => new FakeSystem()
        .PciNic("0000:00:03.0", "1af4:1041", "virtio-pci", iface: "eth0", netDriver: "virtio_net", virtioChild: true, iommuGroup: "3")
        .PciNic("0000:03:00.0", "8086:10fb", "ixgbe", iface: "ens1f0", iommuGroup: "12")
        .PciNic("0000:03:00.1", "8086:10fb", "vfio-pci", iommuGroup: "13")
        .Vfio()
        .DefaultRoute("eth0");

    [Fact]
    public void Refuses_the_device_that_carries_the_default_route_unless_forced()
    {
        using FakeSystem sys = Machine();
        var root = new SystemRoot(sys.Root);
        BindPlan refused = BindCommand.Plan(root, "0000:00:03.0", "vfio-pci", force: false);
        Assert.Contains("eth0, which carries the default route", refused.Refusal);
        Assert.Contains("--force", refused.Refusal);
        Assert.Empty(refused.Writes);
        var err = new StringWriter();
        Assert.Equal(1, Program.Run(["bind", "00:03.0", "vfio-pci", "--root", sys.Root], new StringWriter(), err, isRoot: true));
        Assert.Equal("(null)\n", sys.Read("sys/devices/pci0000:00/0000:00:03.0/driver_override")); // nothing written

        BindPlan forced = BindCommand.Plan(root, "0000:00:03.0", "vfio-pci", force: true);
        Assert.Null(forced.Refusal);
        Assert.Contains(forced.Warnings, w => w.Contains("--force given"));
    }

    [Fact]
    public void To_vfio_writes_driver_override_then_unbind_then_drivers_probe()
    {
        using FakeSystem sys = Machine();
        BindPlan plan = BindCommand.Plan(new SystemRoot(sys.Root), "0000:03:00.0", "vfio-pci", force: false);
        Assert.Null(plan.Refusal);
        Assert.Equal("ixgbe", plan.CurrentDriver);
        Assert.Equal(new[]
        {
            (sys.P("sys/bus/pci/devices/0000:03:00.0/driver_override"), "vfio-pci"),
            (sys.P("sys/bus/pci/devices/0000:03:00.0/driver/unbind"), "0000:03:00.0"),
            (sys.P("sys/bus/pci/drivers_probe"), "0000:03:00.0"),
        }, plan.Writes.Select(w => (w.Path, w.Value)));
        Assert.Contains(plan.Warnings, w => w.Contains("ens1f0"));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = Program.Run(["bind", "0000:03:00.0", "vfio-pci", "--root", sys.Root], stdout, stderr, isRoot: true);
        Assert.Equal("vfio-pci", sys.Read("sys/devices/pci0000:00/0000:03:00.0/driver_override"));
        Assert.Equal("0000:03:00.0", sys.Read("sys/bus/pci/drivers/ixgbe/unbind"));
        Assert.Equal("0000:03:00.0", sys.Read("sys/bus/pci/drivers_probe"));
        // A fake tree has no kernel to rebind the device: the tool checks and says so instead of claiming success.
        Assert.Equal(1, rc);
        Assert.Contains("now bound to ixgbe, not vfio-pci", stderr.ToString());
    }

    [Fact]
    public void Dry_run_prints_the_plan_and_writes_nothing()
    {
        using FakeSystem sys = Machine();
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["bind", "0000:03:00.0", "vfio-pci", "--dry-run", "--root", sys.Root], stdout, new StringWriter(), isRoot: false));
        Assert.Contains("would write 'vfio-pci' to", stdout.ToString());
        Assert.Equal("(null)\n", sys.Read("sys/devices/pci0000:00/0000:03:00.0/driver_override"));
        Assert.Equal("", sys.Read("sys/bus/pci/drivers/ixgbe/unbind"));
    }

    [Fact]
    public void Back_to_kernel_clears_the_override_and_unbinds_from_vfio()
    {
        using FakeSystem sys = Machine();
        BindPlan plan = BindCommand.Plan(new SystemRoot(sys.Root), "0000:03:00.1", "kernel", force: false);
        Assert.Equal(new[] { "\n", "0000:03:00.1", "0000:03:00.1" }, plan.Writes.Select(w => w.Value));
        Assert.EndsWith("driver/unbind", plan.Writes[1].Path);
        Assert.True(BindCommand.Plan(new SystemRoot(sys.Root), "0000:03:00.0", "kernel", false).NothingToDo); // already on ixgbe
        Assert.True(BindCommand.Plan(new SystemRoot(sys.Root), "0000:03:00.1", "vfio-pci", false).NothingToDo);
    }

    [Fact]
    public void Missing_vfio_or_iommu_group_is_refused_with_the_fix()
    {
        using FakeSystem noVfio = new FakeSystem().PciNic("0000:03:00.0", "8086:10fb", "ixgbe", iommuGroup: "1");
        Assert.Equal("the vfio-pci driver is not loaded: modprobe vfio-pci", BindCommand.Plan(new SystemRoot(noVfio.Root), "0000:03:00.0", "vfio-pci", false).Refusal);

        using FakeSystem noGroup = new FakeSystem().PciNic("0000:03:00.0", "8086:10fb", "ixgbe").Vfio();
        string? refusal = BindCommand.Plan(new SystemRoot(noGroup.Root), "0000:03:00.0", "vfio-pci", false).Refusal;
        Assert.Contains("no IOMMU group", refusal);
        Assert.Contains("intel_iommu=on", refusal);
    }

    [Fact]
    public void Other_devices_in_the_iommu_group_are_warned_about()
    {
        using FakeSystem sys = new FakeSystem()
            .PciNic("0000:03:00.0", "8086:10fb", "ixgbe", iommuGroup: "5")
            .Vfio();
        File.CreateSymbolicLink(sys.P("sys/kernel/iommu_groups/5/devices/0000:03:00.1"), sys.P("sys/devices/pci0000:00/0000:03:00.1"));
        sys.PciNic("0000:03:00.1", "8086:10fb", "ixgbe");
        BindPlan plan = BindCommand.Plan(new SystemRoot(sys.Root), "0000:03:00.0", "vfio-pci", false);
        Assert.Contains(plan.Warnings, w => w.Contains("IOMMU group 5 also holds 0000:03:00.1 (driver ixgbe)"));
    }

    [Theory]
    [InlineData("03:00", "is not a PCI address")]
    [InlineData("0000:09:00.0", "there is no PCI device 0000:09:00.0")]
    public void Bad_addresses_are_refused(string address, string message)
    {
        using FakeSystem sys = Machine();
        Assert.Contains(message, BindCommand.Plan(new SystemRoot(sys.Root), address, "vfio-pci", false).Refusal);
    }

    [Fact]
    public void Bad_command_lines_are_usage_errors()
    {
        using FakeSystem sys = Machine();
        Assert.Equal(2, Program.Run(["bind", "0000:03:00.0", "--root", sys.Root], new StringWriter(), new StringWriter(), true));
        Assert.Equal(2, Program.Run(["bind", "0000:03:00.0", "vfio-pci", "--frce", "--root", sys.Root], new StringWriter(), new StringWriter(), true));
        Assert.Equal(1, Program.Run(["bind", "0000:03:00.0", "uio", "--root", sys.Root], new StringWriter(), new StringWriter(), true));
        Assert.Equal(2, Program.Run(["frobnicate"], new StringWriter(), new StringWriter(), true));
    }
}
