using PacketPlane.Benchmarks.Perf;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;
using PacketPlane.Lpm;

namespace PacketPlane.Benchmarks.Lpm;

/// <summary>
/// Our run of DPDK 22.11's <c>lpm_perf_autotest</c> (app/test/test_lpm_perf.c, the test_lpm_perf part), same
/// workload and same metric: the identical ~1.08M-route table (<see cref="LpmPerfRoutes"/>) in a table of 2,000,000
/// rules and 2048 tbl8 groups; lookups of 1024 batches of 4096 uniformly random addresses, a fresh batch each time,
/// timed per batch around the lookup loop only (which includes the miss count, as in DPDK); printed as TSC cycles
/// per lookup. Bulk uses bursts of 32 and x4 groups of 4, as the autotest; x8 is ours in addition.
/// Run: <c>dotnet PacketPlane.Benchmarks.dll lpm-perf</c> (benchmarks/compare/lpm_perf.sh runs it beside DPDK).
/// </summary>
internal static class LpmPerf
{
    private const int Iterations = 1 << 10;
    private const int BatchSize = 1 << 12;
    private const int BulkSize = 32;
    private const uint NextHopAdd = 0xAA;
    private const uint Miss = uint.MaxValue;

    public static int Run(string[] args)
    {
        using Eal eal = Eal.Init(["-l", "0", "--", .. args], out _);   // pinned to CPU 0, like dpdk-test -l 0
        List<(uint Ip, byte Depth)> routes = LpmPerfRoutes.Generate();
        Console.WriteLine($"No. routes = {routes.Count}");
        PrintDistribution(routes);

        using Lpm4 lpm = Lpm4.Create("perf", new Lpm4Options { MaxRules = 2_000_000, NumberTbl8s = 2048 });
        long begin = Stopwatch.GetTimestamp();
        int added = 0;
        foreach ((uint ip, byte depth) in routes)
            added += lpm.Add(ip, depth, NextHopAdd).Succeeded ? 1 : 0;
        long addTicks = Stopwatch.GetTimestamp() - begin;
        int used = lpm.CountValidTbl24Entries();
        Console.WriteLine($"Unique added entries = {added}");
        Console.WriteLine($"Used table 24 entries = {used} ({used * 100.0 / (1 << 24):0.#####}%)");
        Console.WriteLine($"Tables in hugepages: {(lpm.IsHugepageBacked ? "yes" : "no")}; TSC {CycleClock.TscHz / 1e6:0.###} MHz from {CycleClock.Source}");
        Console.WriteLine($"Average LPM Add: {CycleClock.Cycles(addTicks) / routes.Count:0.#} cycles");

        // Let the runtime settle before timing: the route table's dictionaries are large, and a background GC or
        // tier-up compile running on the other CPU during the first timed mode would compete for memory bandwidth.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        Thread.Sleep(500);

        var rng = new XorShift(unchecked((ulong)Stopwatch.GetTimestamp()));
        uint[] batch = new uint[BatchSize];
        uint[] hops = new uint[BatchSize];
        Report("Average LPM Lookup", Measure(lpm, rng, batch, hops, Single));
        Report("BULK LPM Lookup", Measure(lpm, rng, batch, hops, Bulk));
        Report("LPM LookupX4", Measure(lpm, rng, batch, hops, X4));
        Report("LPM LookupX8", Measure(lpm, rng, batch, hops, X8));

        begin = Stopwatch.GetTimestamp();
        foreach ((uint ip, byte depth) in routes)
            lpm.Delete(ip, depth);
        long deleteTicks = Stopwatch.GetTimestamp() - begin;
        Console.WriteLine($"Average LPM Delete: {CycleClock.Cycles(deleteTicks) / routes.Count:0.#} cycles");
        return 0;
    }

    private delegate long BatchLookup(Lpm4 lpm, uint[] batch, uint[] hops);

    /// <summary>
    /// Warms the path up until the tiered JIT has produced its final code for the library methods
    /// (<see cref="JitSettle"/>), then times Iterations fresh batches. The loops themselves
    /// are compiled fully optimized at once (AggressiveOptimization), so a timed batch never runs an on-stack
    /// replacement version of them, and no tier-up compile of the harness competes with a timed batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (long Ticks, long Misses, long BestBatch) Measure(Lpm4 lpm, XorShift rng, uint[] batch, uint[] hops, BatchLookup lookup)
    {
        JitSettle.Run(() =>
        {
            for (int i = 0; i < 200; i++)
                lookup(lpm, batch, hops);
        });
        long ticks = 0, misses = 0, best = long.MaxValue;
        for (int i = 0; i < Iterations; i++)
        {
            for (int j = 0; j < BatchSize; j++)
                batch[j] = rng.Next();
            long begin = Stopwatch.GetTimestamp();
            misses += lookup(lpm, batch, hops);
            long elapsed = Stopwatch.GetTimestamp() - begin;
            ticks += elapsed;
            best = Math.Min(best, elapsed);
        }
        return (ticks, misses, best);
    }

    /// <summary>The autotest's line (mean over all batches), then the fastest batch: a hint of how much the machine interfered.</summary>
    private static void Report(string what, (long Ticks, long Misses, long BestBatch) result)
    {
        const double lookups = (double)Iterations * BatchSize;
        Console.WriteLine($"{what}: {CycleClock.Cycles(result.Ticks) / lookups:0.0} cycles (fails = {result.Misses * 100.0 / lookups:0.0}%)" +
            $" [fastest batch {CycleClock.Cycles(result.BestBatch) / BatchSize:0.0}]");
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long Single(Lpm4 lpm, uint[] batch, uint[] hops)
    {
        // gcc compiles the autotest's "if (lookup != 0) count++" without a branch (cmp; adc); so does this.
        long misses = 0;
        for (int j = 0; j < batch.Length; j++)
            misses += Unsafe.BitCast<bool, byte>(lpm.Lookup(batch[j], out _)) ^ 1;
        return misses;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long Bulk(Lpm4 lpm, uint[] batch, uint[] hops)
    {
        long misses = 0;
        Span<uint> burst = hops.AsSpan(0, BulkSize);
        for (int j = 0; j < batch.Length; j += BulkSize)
        {
            lpm.LookupBulk(batch.AsSpan(j, BulkSize), burst, Miss);
            misses += CountMisses(burst);
        }
        return misses;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long X4(Lpm4 lpm, uint[] batch, uint[] hops)
    {
        long misses = 0;
        for (int j = 0; j < batch.Length; j += 4)
        {
            Vector128<uint> result = lpm.LookupX4(Vector128.Create(batch.AsSpan(j, 4)), Miss);
            misses += BitOperations.PopCount(Vector128.Equals(result, Vector128.Create(Miss)).ExtractMostSignificantBits());
        }
        return misses;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long X8(Lpm4 lpm, uint[] batch, uint[] hops)
    {
        long misses = 0;
        for (int j = 0; j < batch.Length; j += 8)
        {
            Vector256<uint> result = lpm.LookupX8(Vector256.Create(batch.AsSpan(j, 8)), Miss);
            misses += BitOperations.PopCount(Vector256.Equals(result, Vector256.Create(Miss)).ExtractMostSignificantBits());
        }
        return misses;
    }

    /// <summary>Misses in a burst, counted with vector compares rather than a data-dependent branch per result.</summary>
    private static int CountMisses(ReadOnlySpan<uint> hops)
    {
        int misses = 0;
        for (int k = 0; k < hops.Length; k += 8)
            misses += BitOperations.PopCount(Vector256.Equals(Vector256.Create(hops.Slice(k, 8)), Vector256.Create(Miss)).ExtractMostSignificantBits());
        return misses;
    }

    private static void PrintDistribution(List<(uint Ip, byte Depth)> routes)
    {
        var counts = new int[33];
        foreach ((uint _, byte depth) in routes)
            counts[depth]++;
        Console.WriteLine("Route distribution per prefix width:");
        Console.WriteLine("DEPTH    QUANTITY (PERCENT)");
        for (int d = 1; d <= 32; d++)
            Console.WriteLine($"{d:00}{counts[d],15} ({counts[d] * 100.0 / routes.Count:0.00})");
    }

    /// <summary>Uniform 32-bit addresses (xorshift64*), standing in for rte_rand.</summary>
    internal sealed class XorShift(ulong seed)
    {
        private ulong _state = seed | 1;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public uint Next()
        {
            _state ^= _state >> 12;
            _state ^= _state << 25;
            _state ^= _state >> 27;
            return (uint)((_state * 0x2545_F491_4F6C_DD1DUL) >> 32);
        }
    }
}
