using System.IO;
using System.Linq;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Eal;

/// <summary>Hugepage memory through memfd: obtained, shared by fd, and gone when the process dies, even by SIGKILL.</summary>
[Collection(HugepageCollection.Name)]
public class HugepageTests
{
    [SkippableFact]
    [Trait("Requires", "Hugepages")]
    public void Region_uses_hugepages_when_they_are_free()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages);
        using MemoryRegion r = MemoryRegion.Create("it_huge", 5 << 20);
        Assert.True(r.IsHugepage);
        Assert.Equal(Hugepages.Size2M, r.PageSize);
        Assert.Equal(6L << 20, r.Length);
        r.AsSpan(r.Length - 4096, 4096).Fill(7);
        string maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains("memfd:packetplane:it_huge", maps);
    }

    [SkippableFact]
    [Trait("Requires", "Hugepages")]
    public void Eal_with_socket_mem_uses_hugepages_for_pools()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages);
        using PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0", "--socket-mem", "64"], out _);
        using Memory.MbufPool pool = Memory.MbufPool.Create("it_hp_pool", 8192, 256);
        Assert.True(pool.Region.IsHugepage);
    }

    [SkippableFact]
    [Trait("Requires", "Hugepages")]
    public void Sigkill_leaves_no_hugepage_or_file_behind()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages);
        long freeBefore = Hugepages.FreeBytes(Hugepages.Size2M);
        string[] hugetlbfsBefore = Directory.Exists("/dev/hugepages") ? Directory.GetFiles("/dev/hugepages") : [];
        var (process, ready) = HostProcess.StartAndWaitReady("hold-memory", "64 huge");
        Assert.Equal($"ready {Hugepages.Size2M}", ready);
        Assert.True(Hugepages.FreeBytes(Hugepages.Size2M) <= freeBefore - (64L << 20));
        HostProcess.Kill9(process);
        // The kernel frees the memfd's pages with the last reference; give it a moment.
        for (int i = 0; i < 100 && Hugepages.FreeBytes(Hugepages.Size2M) < freeBefore; i++)
            System.Threading.Thread.Sleep(50);
        Assert.Equal(freeBefore, Hugepages.FreeBytes(Hugepages.Size2M));
        string[] hugetlbfsAfter = Directory.Exists("/dev/hugepages") ? Directory.GetFiles("/dev/hugepages") : [];
        Assert.Equal(hugetlbfsBefore.OrderBy(f => f), hugetlbfsAfter.OrderBy(f => f));
    }
}

/// <summary>Hugepage accounting tests must not overlap (they compare free counts).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HugepageCollection
{
    public const string Name = "hugepages";
}
