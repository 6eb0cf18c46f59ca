using System.IO;
using PacketPlane.Tool;
using Xunit;

namespace PacketPlane.Tests.Tool;

public class HugepagesCommandTests
{
    [Theory]
    [InlineData("2G", 2L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1024k", 1L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("3MB", 3L << 20)]
    [InlineData("1T", 1L << 40)]
    public void Sizes_parse_with_units(string text, long bytes) => Assert.Equal(bytes, HugepagesCommand.ParseSize(text));

    [Theory]
    [InlineData("2")]
    [InlineData("2X")]
    [InlineData("-1G")]
    [InlineData("99999999999999999999G")]
    public void Sizes_without_a_unit_or_out_of_range_are_refused(string text) =>
        Assert.Contains("size", Assert.Throws<UsageException>(() => HugepagesCommand.ParseSize(text)).Message);

    [Fact]
    public void Reserve_writes_the_page_count_for_the_total_size_machine_wide_or_per_node()
    {
        using FakeSystem sys = new FakeSystem().Hugepages(-1, 2048, 0, 0).Hugepages(1, 2048, 0, 0).Hugepages(-1, 1048576, 0, 0);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["hugepages", "--reserve", "1G", "--root", sys.Root], stdout, new StringWriter(), isRoot: true));
        Assert.Equal("512", sys.Read("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
        Assert.Contains("0 -> 512 reserved", stdout.ToString());

        Assert.Equal(0, Program.Run(["hugepages", "--reserve", "3M", "--node", "1", "--root", sys.Root], new StringWriter(), new StringWriter(), isRoot: true));
        Assert.Equal("2", sys.Read("sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")); // rounded up to whole pages

        Assert.Equal(0, Program.Run(["hugepages", "--reserve", "2G", "--pagesize", "1G", "--root", sys.Root], new StringWriter(), new StringWriter(), isRoot: true));
        Assert.Equal("2", sys.Read("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"));

        Assert.Equal(0, Program.Run(["hugepages", "--clear", "--root", sys.Root], new StringWriter(), new StringWriter(), isRoot: true));
        Assert.Equal("0", sys.Read("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
    }

    [Fact]
    public void Show_and_errors()
    {
        using FakeSystem sys = new FakeSystem().Hugepages(-1, 2048, 1024, 1000);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["hugepages", "--root", sys.Root], stdout, new StringWriter(), isRoot: false));
        Assert.Contains("1024 reserved (2G), 1000 free", stdout.ToString());

        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["hugepages", "--reserve", "1G", "--node", "3", "--root", sys.Root], new StringWriter(), stderr, isRoot: true));
        Assert.Contains("no NUMA node 3", stderr.ToString());
        Assert.Equal(2, Program.Run(["hugepages", "--reserve", "lots", "--root", sys.Root], new StringWriter(), new StringWriter(), isRoot: true));
    }
}
