using System;
using System.Linq;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Memory;

[Collection(LcoreIdentity.Collection)]
public class MbufPoolTests
{
    [Fact]
    public void Allocating_everything_then_freeing_everything_returns_in_use_to_zero()
    {
        using MbufPool pool = MbufPool.Create("all", 4096, cacheSize: 64);
        using var _ = LcoreIdentity.As(3);
        var packets = new Packet[4096];
        for (int i = 0; i < packets.Length; i++)
        {
            packets[i] = pool.Alloc();
            Assert.False(packets[i].IsNull);
        }
        Assert.Equal(4096, pool.InUse);
        Assert.Equal(0, pool.Available);
        Assert.True(pool.Alloc().IsNull); // empty pool: a null packet, no exception
        Assert.Equal(4096, packets.Select(p => p.Address).Distinct().Count());
        Packet.FreeBulk(packets);
        Assert.Equal(0, pool.InUse);
        Assert.Equal(4096, pool.Available);
    }

    [Fact]
    public void Alloc_bulk_is_all_or_nothing()
    {
        using MbufPool pool = MbufPool.Create("bulk", 100, cacheSize: 0);
        var tooMany = new Packet[101];
        Assert.Equal(0, pool.AllocBulk(tooMany));
        Assert.Equal(0, pool.InUse);
        var some = new Packet[60];
        Assert.Equal(60, pool.AllocBulk(some));
        Assert.Equal(60, pool.InUse);
        Assert.Equal(0, pool.AllocBulk(new Packet[41]));
        Packet.FreeBulk(some);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Fresh_packet_is_empty_with_default_headroom_and_data_room()
    {
        using MbufPool pool = MbufPool.Create("fresh", 64, cacheSize: 0);
        Packet p = pool.Alloc();
        Assert.Equal(0, p.Length);
        Assert.Equal(128, p.Headroom);
        Assert.Equal(2048, p.Tailroom);
        Assert.Equal(1, p.SegmentCount);
        Assert.Equal(MbufPool.PortInvalid, p.Port);
        Assert.Same(pool, p.Pool);
        p.Free();
    }

    [Fact]
    public void Lcore_cache_absorbs_frees_and_flushes_above_one_and_a_half_times_its_size()
    {
        using MbufPool pool = MbufPool.Create("cache", 2048, cacheSize: 32);
        using var _ = LcoreIdentity.As(5);
        var packets = new Packet[100];
        Assert.Equal(100, pool.AllocBulk(packets));
        Assert.Equal(100, pool.InUse);
        // Freed one by one through lcore 5's cache; the cache never holds 48 (1.5 x 32) or more.
        foreach (Packet p in packets)
            p.Free();
        Assert.Equal(0, pool.InUse);
        MempoolCache cache = pool.CacheFor(5)!;
        Assert.True(cache.Length < 48, $"cache holds {cache.Length}");
        Assert.True(cache.Length >= 32);
    }

    [Fact]
    public void Lcore_cache_hands_back_a_freed_burst_most_recent_first_for_every_burst_size_up_to_70()
    {
        // The cache is a stack copied in and popped out in vector moves (BulkCopy): a burst freed and taken
        // again must come back as exactly the same buffers in reverse order, none lost, none duplicated.
        using MbufPool pool = MbufPool.Create("lifo", 2048, cacheSize: 512);
        using var _ = LcoreIdentity.As(6);
        for (int n = 1; n <= 70; n++)
        {
            var packets = new Packet[n];
            Assert.Equal(n, pool.RawAllocBulk(packets));
            nint[] freed = packets.Select(p => p.Address).ToArray();
            pool.RawFreeBulk(packets);
            Assert.True(pool.CacheFor(6)!.Length >= n, "the burst should sit in the cache");
            var again = new Packet[n + 1];
            Assert.Equal(n, pool.RawAllocBulk(again.AsSpan(0, n)));
            Assert.Equal(freed.Reverse(), again.Take(n).Select(p => p.Address));
            Assert.True(again[n].IsNull, "nothing written past the request");
            pool.RawFreeBulk(again.AsSpan(0, n));
        }
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void An_explicit_lcore_cache_serves_gets_and_puts_as_the_lookup_on_every_call_does()
    {
        using MbufPool pool = MbufPool.Create("explicit", 2048, cacheSize: 512);
        using var _ = LcoreIdentity.As(7);
        MbufPoolCache cache = pool.GetLcoreCache();
        Assert.True(cache.IsCached);
        var packets = new Packet[32];
        Assert.Equal(32, pool.RawAllocBulk(packets, cache));
        nint[] taken = packets.Select(p => p.Address).ToArray();
        packets[0].Port = 9;
        pool.RawFreeBulk(packets, cache);
        Assert.Equal(0, pool.InUse);
        Assert.True(pool.CacheFor(7)!.Length >= 32, "the burst should sit in lcore 7's cache");
        // The same cache the implicit calls use: they get the burst back, most recent first.
        var again = new Packet[32];
        Assert.Equal(32, pool.RawAllocBulk(again));
        Assert.Equal(taken.Reverse(), again.Select(p => p.Address));
        pool.RawFreeBulk(again);
        // AllocBulk with a cache resets what the last user left.
        Assert.Equal(32, pool.AllocBulk(packets, cache));
        Assert.All(packets, p => Assert.Equal(MbufPool.PortInvalid, p.Port));
        Assert.Equal(0, pool.AllocBulk(new Packet[4096], cache));
        Packet.FreeBulk(packets);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void The_default_cache_value_and_a_non_lcore_thread_go_straight_to_the_ring()
    {
        using MbufPool pool = MbufPool.Create("explicit_ring", 256, cacheSize: 32);
        var packets = new Packet[8];
        Assert.False(default(MbufPoolCache).IsCached);
        using (LcoreIdentity.As(8))
        {
            Assert.Equal(8, pool.RawAllocBulk(packets, default));
            pool.RawFreeBulk(packets, default);
            Assert.Equal(0u, pool.CacheFor(8)!.Length); // nothing went through lcore 8's cache
        }
        using (LcoreIdentity.As(Lcore.IdAny))
        {
            MbufPoolCache none = pool.GetLcoreCache();
            Assert.False(none.IsCached);
            Assert.Equal(8, pool.RawAllocBulk(packets, none));
            pool.RawFreeBulk(packets, none);
        }
        Assert.Equal(0, pool.InUse);
        Assert.Equal(256, pool.Available);
    }

    [Fact]
    public void A_cache_of_another_pool_is_refused_and_nothing_moves()
    {
        using MbufPool first = MbufPool.Create("cache_a", 256, cacheSize: 32);
        using MbufPool second = MbufPool.Create("cache_b", 256, cacheSize: 32);
        using var _ = LcoreIdentity.As(9);
        MbufPoolCache firstCache = first.GetLcoreCache();
        var packets = new Packet[4];
        var e = Assert.Throws<ArgumentException>(() => second.RawAllocBulk(packets, firstCache));
        Assert.Contains("'cache_a'", e.Message);
        Assert.Contains("'cache_b'", e.Message);
        Assert.Equal(0, second.InUse);
        Assert.Equal(0, first.InUse);
    }

    [Fact]
    public void A_debug_pool_refuses_a_cache_used_on_another_lcore()
    {
        using MbufPool pool = MbufPool.Create("cache_dbg", 256, cacheSize: 32, options: new MbufPoolOptions { Debug = true });
        MbufPoolCache lcore10;
        using (LcoreIdentity.As(10))
            lcore10 = pool.GetLcoreCache();
        using (LcoreIdentity.As(11))
        {
            var e = Assert.Throws<InvalidOperationException>(() => pool.RawAllocBulk(new Packet[2], lcore10));
            Assert.Contains("lcore 10's cache used on lcore 11", e.Message);
        }
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_debug_pool_checks_every_put_through_an_explicit_cache_for_double_frees()
    {
        // The inlined get and put skip every check; a debug pool's caches must send them all down the checked path.
        using MbufPool pool = MbufPool.Create("cache_dbg_free", 256, cacheSize: 32, options: new MbufPoolOptions { Debug = true });
        using var _ = LcoreIdentity.As(12);
        MbufPoolCache cache = pool.GetLcoreCache();
        var packets = new Packet[4];
        Assert.Equal(4, pool.RawAllocBulk(packets, cache));
        pool.RawFreeBulk(packets, cache);
        Assert.Equal(0, pool.DoubleFreeCount);
        pool.RawFreeBulk(packets.AsSpan(0, 1), cache); // the first packet a second time
        Assert.Equal(1, pool.DoubleFreeCount);
        Assert.Equal(256, pool.Available); // dropped, not cached twice
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Non_lcore_threads_bypass_caches()
    {
        using MbufPool pool = MbufPool.Create("nocache", 256, cacheSize: 32);
        using var _ = LcoreIdentity.As(Lcore.IdAny);
        Packet p = pool.Alloc();
        p.Free();
        Assert.Null(pool.CacheFor(Lcore.IdAny));
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Chained_packet_is_freed_as_a_whole()
    {
        using MbufPool pool = MbufPool.Create("chain", 64, cacheSize: 0);
        Packet head = pool.Alloc();
        Assert.True(head.TryAppend(100));
        for (int i = 0; i < 4; i++)
        {
            Packet seg = pool.Alloc();
            Assert.True(seg.TryAppend(10 + i));
            Assert.True(head.TryChain(seg));
        }
        Assert.Equal(5, head.SegmentCount);
        Assert.Equal(100 + 10 + 11 + 12 + 13, head.Length);
        Assert.Equal(5, pool.InUse);
        head.Free();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Prepend_append_adjust_trim_respect_bounds()
    {
        using MbufPool pool = MbufPool.Create("bounds", 8, cacheSize: 0);
        Packet p = pool.Alloc();
        Assert.True(p.TryAppend(2048));
        Assert.False(p.TryAppend(1));
        Assert.True(p.TryPrepend(128));
        Assert.False(p.TryPrepend(1));
        Assert.Equal(2176, p.Length);
        Assert.False(p.TryAdjust(2177));
        Assert.True(p.TryAdjust(14));
        Assert.Equal(2162, p.Length);
        Assert.True(p.TryTrim(4));
        Assert.Equal(2158, p.Length);
        Assert.Equal(2158, p.Data.Length);
        Assert.False(p.TryTrim(5000));
        p.Free();
    }

    [Fact]
    public void Clone_shares_data_by_reference_count_and_the_original_survives_until_both_are_freed()
    {
        using MbufPool pool = MbufPool.Create("direct", 16, cacheSize: 0);
        using MbufPool clones = MbufPool.Create("indirect", 16, cacheSize: 0);
        Packet p = pool.Alloc();
        Assert.True(p.TryAppend(4));
        p.Data.Fill(0xAB);
        Packet c = p.Clone(clones);
        Assert.False(c.IsNull);
        Assert.Equal(2, p.RefCount);
        Assert.True(c.Data.SequenceEqual(p.Data));
        p.Data[0] = 0x11;
        Assert.Equal(0x11, c.Data[0]); // same buffer
        p.Free();
        Assert.Equal(1, pool.InUse); // still referenced by the clone
        c.Free();
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, clones.InUse);
        // The clone's header got its own buffer back.
        Packet again = clones.Alloc();
        Assert.Equal(2048, again.Tailroom);
        again.Free();
    }

    [Fact]
    public void Debug_mode_catches_a_double_free_and_keeps_the_pool_consistent()
    {
        using MbufPool pool = MbufPool.Create("dbg", 32, cacheSize: 0, options: new MbufPoolOptions { Debug = true });
        Packet p = pool.Alloc();
        p.Free();
        p.Free(); // bug: freed twice
        Assert.Equal(1, pool.DoubleFreeCount);
        Assert.Equal(0, pool.InUse);
        // Every object is handed out exactly once: the double free did not duplicate the buffer.
        var all = new Packet[32];
        Assert.Equal(32, pool.AllocBulk(all));
        Assert.Equal(32, all.Select(x => x.Address).Distinct().Count());
        Packet.FreeBulk(all);
    }

    [Fact]
    public void Leak_tracking_reports_how_many_and_where()
    {
        MbufPool pool = MbufPool.Create("leaky", 32, cacheSize: 0, options: new MbufPoolOptions { Debug = true, TrackAllocations = true });
        Packet kept = pool.Alloc();
        var sites = pool.OutstandingAllocationSites();
        Assert.Single(sites);
        Assert.Contains(nameof(Leak_tracking_reports_how_many_and_where), sites.Keys.Single());
        pool.Dispose();
        Assert.Equal(1, pool.LeakedAtDispose);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Cache_larger_than_the_pool_allows_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MbufPool.Create("toobig", 100, cacheSize: 80));
        Assert.Contains("count/1.5", e.Message);
    }

    [Fact]
    public void Sizing_helper_uses_l3fwd_formula()
    {
        // 2 ports, 1 rx queue of 1024, 2 tx queues of 1024, 2 lcores, burst 32, cache 256:
        // 2*1*1024 + 2*2*32 + 2*2*1024 + 2*256 = 6784 -> floor of 8192.
        Assert.Equal(8192, MbufPool.RequiredCount(2, 1, 1024, 2, 1024, 2));
        Assert.Equal(4 * 4 * 4096 + 4 * 8 * 32 + 4 * 8 * 4096 + 8 * 256,
            MbufPool.RequiredCount(4, 4, 4096, 8, 4096, 8));
    }

    [Fact]
    public void Objects_honour_the_requested_alignment()
    {
        using MbufPool pool = MbufPool.Create("aligned", 64, cacheSize: 0, options: new MbufPoolOptions { ObjectAlignment = 4096 });
        Assert.Equal(4096, pool.ElementSize);
        var all = new Packet[64];
        Assert.Equal(64, pool.AllocBulk(all));
        Assert.All(all, p => Assert.Equal(0, p.Address % 4096));
        Packet.FreeBulk(all);
    }
}

[Collection(LcoreIdentity.Collection)]
public class MbufPoolRawTests
{
    [Fact]
    public void Raw_alloc_and_free_move_objects_without_touching_them()
    {
        using MbufPool pool = MbufPool.Create("raw", 512, cacheSize: 256);
        using var _ = LcoreIdentity.As(1);
        var burst = new Packet[32];
        Assert.Equal(32, pool.RawAllocBulk(burst));
        Assert.Equal(32, pool.InUse);
        burst[0].TrySetLength(100);
        burst[0].Port = 7;
        pool.RawFreeBulk(burst);
        Assert.Equal(0, pool.InUse);
        // Raw: what was written before the free is still there when the object comes back (LIFO cache).
        Assert.Equal(32, pool.RawAllocBulk(burst));
        Assert.Contains(burst, p => p.Port == 7 && p.Length == 100);
        Assert.Equal(0, pool.RawAllocBulk(new Packet[600]));
        pool.RawFreeBulk(burst);
    }
}

[Collection(PacketPlane.Tests.Eal.EalCollection.Name)]
public class MbufPoolDisposeOrderTests
{
    [Fact]
    public void Disposing_a_pool_before_the_port_that_holds_its_mbufs_is_safe()
    {
        MbufPool pool;
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["--no-huge", "-l", "0", "--vdev", "net_ring70"], out _))
        {
            pool = MbufPool.Create("early_dispose", 1024, 0);
            var port = eal.Ports[0];
            port.Configure(1, 1);
            port.SetupRxQueue(0, 256, pool);
            port.SetupTxQueue(0, 256);
            port.Start();
            var burst = new Packet[16];
            Assert.Equal(16, pool.AllocBulk(burst));
            Assert.Equal(16, port.TxBurst(0, burst)); // parked in the port's ring
            pool.Dispose(); // the user's `using` ends before the EAL's: the port still holds 16 mbufs
            Assert.Equal(16, pool.LeakedAtDispose);
            Assert.False(pool.Region.IsDisposed);
        }
        // EAL teardown closed the port (its mbufs went back safely), then freed the memory.
        Assert.Equal(0, pool.InUse);
        Assert.True(pool.Region.IsDisposed);
    }
}
