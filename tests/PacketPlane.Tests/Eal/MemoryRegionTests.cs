using System;
using System.IO;
using System.Linq;
using Xunit;

namespace PacketPlane.Tests.Eal;

public class MemoryRegionTests
{
    [Fact]
    public void Small_page_region_is_a_mapped_memfd_rounded_to_pages()
    {
        using MemoryRegion r = MemoryRegion.Create("t_small", 10_000, new MemoryRegionOptions { Pages = PagePolicy.SmallPages });
        Assert.Equal(12288, r.Length);
        Assert.Equal(4096, r.PageSize);
        Assert.False(r.IsHugepage);
        Assert.True(r.Fd > 0);
        Assert.Equal((ulong)r.BaseAddress + 100, r.Iova(r.BaseAddress + 100));
        Span<byte> s = r.AsSpan(0, 12288);
        s.Fill(0x5A);
        Assert.All(r.AsSpan(12000, 288).ToArray(), b => Assert.Equal(0x5A, b));
        // It is a memfd: visible in the fd table as such, with nothing on any file system.
        string link = File.ResolveLinkTarget($"/proc/self/fd/{r.Fd}", false)!.FullName;
        Assert.Contains("memfd:packetplane:t_small", link);
        Assert.Contains(r, MemoryRegion.LiveRegions);
    }

    [Fact]
    public void Dispose_unmaps_and_is_idempotent()
    {
        MemoryRegion r = MemoryRegion.Create("t_dispose", 4096, new MemoryRegionOptions { Pages = PagePolicy.SmallPages });
        int fd = r.Fd;
        r.Dispose();
        r.Dispose();
        Assert.True(r.IsDisposed);
        Assert.DoesNotContain(r, MemoryRegion.LiveRegions);
        Assert.False(File.Exists($"/proc/self/fd/{fd}") && File.ResolveLinkTarget($"/proc/self/fd/{fd}", false)?.FullName.Contains("t_dispose") == true);
    }

    [Fact]
    public void Out_of_range_span_is_refused()
    {
        using MemoryRegion r = MemoryRegion.Create("t_range", 4096, new MemoryRegionOptions { Pages = PagePolicy.SmallPages });
        Assert.Throws<ArgumentOutOfRangeException>(() => r.AsSpan(4000, 200));
    }

    [Fact]
    public void Required_hugepages_beyond_what_is_free_fail_with_the_reserve_command()
    {
        long huge = 1L << 40; // 1 TiB: never free here
        var e = Assert.Throws<MemoryAllocationException>(() =>
            MemoryRegion.Create("t_huge", huge, new MemoryRegionOptions { Pages = PagePolicy.RequireHugepages }));
        Assert.Contains("nr_hugepages", e.Message);
        Assert.Contains("--no-huge", e.Message);
    }

    [Fact]
    public void Numa_topology_always_has_a_node_covering_every_cpu()
    {
        Assert.NotEmpty(Numa.Nodes);
        foreach (int cpu in CpuSet.ProcessAllowed().Cpus)
            Assert.Contains(Numa.Nodes, n => n.Cpus.Contains(cpu));
    }

    [Fact]
    public void Physical_address_mode_needs_root_and_says_so()
    {
        if (PacketPlane.Interop.Libc.IsRoot)
        {
            using MemoryRegion r = MemoryRegion.Create("t_pa", 4096, new MemoryRegionOptions { Pages = PagePolicy.SmallPages, IovaMode = IovaMode.PhysicalAddress });
            Assert.NotEqual((ulong)r.BaseAddress, r.Iova(r.BaseAddress));
            Assert.NotEqual(0UL, r.Iova(r.BaseAddress));
            Assert.Equal(r.Iova(r.BaseAddress) + 8, r.Iova(r.BaseAddress + 8));
        }
        else
        {
            var e = Assert.Throws<PrivilegeException>(() => MemoryRegion.Create("t_pa", 4096,
                new MemoryRegionOptions { Pages = PagePolicy.SmallPages, IovaMode = IovaMode.PhysicalAddress }));
            Assert.Contains("--iova-mode va", e.Message);
        }
    }
}
