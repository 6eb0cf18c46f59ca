using System;
using PacketPlane.Memory;
using PacketPlane.Ring;
using Xunit;

namespace PacketPlane.Tests.Memory;

/// <summary>The datapath allocates nothing: measured with GC.GetAllocatedBytesForCurrentThread over a million operations.</summary>
[Collection(LcoreIdentity.Collection)]
public class ZeroAllocationTests
{
    private const int Operations = 1_000_000;

    /// <summary>
    /// Repeats <paramref name="body"/> for half a second. A fixed count of calls can finish inside tiered
    /// compilation's 100 ms call-counting delay, and then the tier-up (and on-stack replacement of the measured
    /// loop) happens during the measurement; a few runs saw 2 KiB allocated that way by the runtime, not by us.
    /// </summary>
    private static void WarmUp(Action body)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 500)
            body();
    }

    [Fact]
    public void Mbuf_alloc_and_free_allocate_no_managed_memory()
    {
        using MbufPool pool = MbufPool.Create("zalloc", 8192, cacheSize: 256);
        using var _ = LcoreIdentity.As(2);
        var burst = new Packet[32];
        WarmUp(() => RunAllocFree(pool, burst, 1_000)); // JIT tiers, cache creation
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunAllocFree(pool, burst, Operations / 32);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Single_packet_alloc_free_allocates_nothing()
    {
        using MbufPool pool = MbufPool.Create("zsingle", 1024, cacheSize: 64);
        using var _ = LcoreIdentity.As(2);
        WarmUp(() =>
        {
            for (int i = 0; i < 1_000; i++)
                pool.Alloc().Free();
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Operations; i++)
            pool.Alloc().Free();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Gets_and_puts_through_an_explicit_lcore_cache_allocate_nothing()
    {
        using MbufPool pool = MbufPool.Create("zexplicit", 1024, cacheSize: 64);
        using var _ = LcoreIdentity.As(2);
        MbufPoolCache cache = pool.GetLcoreCache();
        var burst = new Packet[4];
        WarmUp(() =>
        {
            for (int i = 0; i < 1_000; i++)
                RunExplicit(pool, cache, burst);
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Operations / burst.Length; i++)
            RunExplicit(pool, cache, burst);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, pool.InUse);
    }

    private static void RunExplicit(MbufPool pool, MbufPoolCache cache, Packet[] burst)
    {
        if (pool.AllocBulk(burst, cache) != burst.Length)
            throw new InvalidOperationException("pool ran dry");
        pool.RawFreeBulk(burst, cache);
        if (pool.RawAllocBulk(burst, cache) != burst.Length)
            throw new InvalidOperationException("pool ran dry");
        pool.RawFreeBulk(burst, cache);
    }

    [Theory]
    [InlineData(RingFlags.None)]
    [InlineData(RingFlags.SingleProducer | RingFlags.SingleConsumer)]
    public void Ring_enqueue_and_dequeue_allocate_no_managed_memory(RingFlags flags)
    {
        using Ring<nint> ring = Ring<nint>.Create(1024, flags);
        Span<nint> items = stackalloc nint[32];
        nint[] warmItems = new nint[32];
        WarmUp(() => RunRing(ring, warmItems, 1_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunRing(ring, items, Operations / 32);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RunAllocFree(MbufPool pool, Packet[] burst, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            if (pool.AllocBulk(burst) != burst.Length)
                throw new InvalidOperationException("pool ran dry");
            Packet.FreeBulk(burst);
        }
    }

    private static void RunRing(Ring<nint> ring, Span<nint> items, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            ring.EnqueueBulk(items);
            ring.DequeueBulk(items);
        }
    }
}
