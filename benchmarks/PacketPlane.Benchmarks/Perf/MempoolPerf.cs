using System;
using System.Linq;
using PacketPlane.Memory;

namespace PacketPlane.Benchmarks.Perf;

/// <summary>
/// Our side of DPDK 22.11's mempool_perf_autotest (app/test/test_mempool_perf.c), one lcore: get n_keep objects
/// in bulks of n_get_bulk, put them back in bulks of n_put_bulk, repeat for a fixed time; the figure is objects
/// per second (rate_persec), printed in the autotest's line format, plus the cycles per object it implies.
/// Pool of lcores*(MAX_KEEP + 512) - 1 objects with a 512-object cache, as the autotest sizes it.
/// </summary>
public static class MempoolPerf
{
    private const int N = 65536;
    private const int MaxKeep = 128;
    private const int CacheSize = 512;

    /// <param name="seconds">Time per case.</param>
    /// <param name="lcores">Lcores in the EAL, for the pool size.</param>
    /// <param name="only">
    /// One case to run, "CACHE/GET/PUT/KEEP" (say "512/1/1/128"), for profiling or an A/B of two builds; null runs
    /// all 36. The warm-up is the same either way.
    /// </param>
    public static int Run(double seconds, int lcores, string? only = null)
    {
        int poolSize = lcores * (MaxKeep + CacheSize) - 1;
        using MbufPool withCache = MbufPool.Create("perf_test_cache", poolSize, CacheSize);
        using MbufPool noCache = MbufPool.Create("perf_test_nocache", poolSize, 0);
        int[] bulks = [1, 4, 32];
        int[] keeps = [32, 128];
        if (only is not null && !IsCase(only, bulks, keeps))
        {
            Console.Error.WriteLine($"mempool_perf: no case '{only}'; name one as CACHE/GET/PUT/KEEP with CACHE 0 or {CacheSize}, " +
                $"GET and PUT {string.Join(", ", bulks)}, KEEP {string.Join(" or ", keeps)} (say {CacheSize}/1/1/128)");
            return 2;
        }
        // Warm-up until tiered compilation has installed its final code for the loop and the pool (JitSettle). A
        // fixed 40 rounds could end before that: a single case timed right after it ran the loop's on-stack
        // replacement code, 10 to 11 cycles per object against 8 in steady state.
        JitSettle.Run(() =>
        {
            for (int round = 0; round < 40; round++)
            {
                Loop(withCache, 128, 32, 32, 0.005);
                Loop(noCache, 128, 32, 32, 0.005);
            }
        });
        foreach ((string title, MbufPool pool) in new[] { ("without cache", noCache), ("with cache", withCache) })
        {
            Console.WriteLine($"start performance test ({title})");
            foreach (int get in bulks)
            {
                foreach (int put in bulks)
                {
                    foreach (int keep in keeps)
                    {
                        if (only is not null && only != CaseName(pool.CacheSize, get, put, keep))
                            continue;
                        double rate = Loop(pool, keep, get, put, seconds);
                        Console.WriteLine($"mempool_autotest cache={pool.CacheSize} cores=1 n_get_bulk={get} n_put_bulk={put} " +
                            $"n_keep={keep} rate_persec={(long)rate} cycles_per_object={CycleClock.TscHz / rate:F2}");
                    }
                }
            }
        }
        return 0;
    }

    private static bool IsCase(string only, int[] bulks, int[] keeps) =>
        new[] { 0, CacheSize }.Any(cache => bulks.Any(get => bulks.Any(put => keeps.Any(keep => only == CaseName(cache, get, put, keep)))));

    /// <summary>A case as the optional argument names it: CACHE/GET/PUT/KEEP.</summary>
    private static string CaseName(int cache, int get, int put, int keep) => $"{cache}/{get}/{put}/{keep}";

    /// <summary>
    /// The autotest's test_loop: raw bulk get/put (rte_mempool_generic_get/put) through the lcore's cache, which the
    /// autotest looks up once (rte_mempool_default_cache) and so do we (GetLcoreCache).
    /// </summary>
    private static double Loop(MbufPool pool, int keep, int getBulk, int putBulk, double seconds)
    {
        Span<Packet> table = new Packet[MaxKeep];
        MbufPoolCache cache = pool.GetLcoreCache();
        long objects = 0;
        long start = CycleClock.Now();
        long limit = (long)(seconds * System.Diagnostics.Stopwatch.Frequency);
        while (CycleClock.Now() - start < limit)
        {
            for (int i = 0; i < N / keep; i++)
            {
                for (int idx = 0; idx < keep; idx += getBulk)
                {
                    if (pool.RawAllocBulk(table.Slice(idx, getBulk), cache) == 0)
                        throw new InvalidOperationException("pool ran dry");
                }
                for (int idx = 0; idx < keep; idx += putBulk)
                    pool.RawFreeBulk(table.Slice(idx, putBulk), cache);
            }
            objects += N;
        }
        double elapsed = (CycleClock.Now() - start) / (double)System.Diagnostics.Stopwatch.Frequency;
        return objects / elapsed;
    }
}
