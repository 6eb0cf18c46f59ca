using System.Linq;
using Microsoft.Extensions.Logging;
using Xunit;

namespace PacketPlane.Tests.Eal;

public class EalArgumentsTests
{
    [Fact]
    public void Parses_a_typical_dpdk_command_line_and_keeps_application_arguments()
    {
        string[] args = ["-l", "0-3,5", "--main-lcore", "1", "-n", "4", "--vdev", "net_null0,size=64", "--vdev=net_null1",
            "-a", "03:00.0", "-b", "0000:04:00.1", "--no-huge", "--in-memory", "--iova-mode", "va", "--log-level", "lib.eal:debug",
            "--", "-p", "0x3", "--config=(0,0,1)"];
        EalOptions o = EalArguments.Parse(args, out string[] app);
        Assert.Equal([0, 1, 2, 3, 5], o.Lcores.Keys.ToArray());
        Assert.Equal(1, o.MainLcore);
        Assert.Equal(["net_null0,size=64", "net_null1"], o.VirtualDevices.ToArray());
        Assert.Equal(["0000:03:00.0"], o.AllowedPciDevices.ToArray());
        Assert.Equal(["0000:04:00.1"], o.BlockedPciDevices.ToArray());
        Assert.True(o.NoHuge);
        Assert.True(o.InMemory);
        Assert.Equal(IovaMode.VirtualAddress, o.IovaMode);
        Assert.Equal(LogLevel.Debug, o.LogLevel);
        Assert.Equal(["-p", "0x3", "--config=(0,0,1)"], app);
    }

    [Fact]
    public void Coremask_and_attached_short_values_work()
    {
        EalOptions o = EalArguments.Parse(["-c", "0x5"], out _);
        Assert.Equal([0, 2], o.Lcores.Keys.ToArray());
        o = EalArguments.Parse(["-l1-2", "-m", "512"], out _);
        Assert.Equal([1, 2], o.Lcores.Keys.ToArray());
        Assert.Equal(512, o.MemoryMegabytes);
        Assert.True(o.RequiresHugepages);
    }

    [Fact]
    public void Lcore_to_cpu_pairs_are_supported()
    {
        EalOptions o = EalArguments.Parse(["--lcores", "1@0,2@1"], out _);
        Assert.Equal(0, o.Lcores[1]);
        Assert.Equal(1, o.Lcores[2]);
    }

    [Fact]
    public void Socket_mem_sets_per_node_requirements()
    {
        EalOptions o = EalArguments.Parse(["--socket-mem", "512,0"], out _);
        Assert.Equal([512L, 0L], o.SocketMemoryMegabytes.ToArray());
        Assert.True(o.RequiresHugepages);
        o = EalArguments.Parse(["--socket-mem", "512", "--no-huge"], out _);
        Assert.False(o.RequiresHugepages);
    }

    [Theory]
    [InlineData("--bogus", "unknown EAL argument '--bogus'")]
    [InlineData("-x", "unknown EAL argument '-x'")]
    public void Unknown_argument_is_named_and_the_accepted_ones_listed(string arg, string expected)
    {
        var e = Assert.Throws<EalArgumentException>(() => EalArguments.Parse([arg], out _));
        Assert.Contains(expected, e.Message);
        Assert.Contains("--vdev DEVICE", e.Message);
        Assert.Contains("after '--'", e.Message);
    }

    [Theory]
    [InlineData(new[] { "-l", "3-1" }, "runs backwards")]
    [InlineData(new[] { "-l", "a" }, "'a' is not a CPU number")]
    [InlineData(new[] { "-l" }, "needs a value")]
    [InlineData(new[] { "-c", "0xZ" }, "invalid coremask")]
    [InlineData(new[] { "--iova-mode", "xx" }, "expected va or pa")]
    [InlineData(new[] { "-a", "3:0.0" }, "DOMAIN:BUS:DEVICE.FUNCTION")]
    [InlineData(new[] { "--log-level", "loud" }, "invalid --log-level")]
    [InlineData(new[] { "-m", "-5" }, "expected MB")]
    [InlineData(new[] { "--no-huge=1" }, "takes no value")]
    [InlineData(new[] { "--lcores", "(0-1)@2" }, "not supported")]
    public void Malformed_values_name_the_problem_and_the_accepted_form(string[] args, string expected)
    {
        var e = Assert.Throws<EalArgumentException>(() => EalArguments.Parse(args, out _));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Cpu_set_prints_in_dpdk_list_form()
    {
        Assert.Equal("0-3,5,7-8", CpuSet.ParseList("8,7,5,0-3").ToString());
    }
}
