using System;
using System.Threading;
using PacketPlane.Ring;

namespace PacketPlane.Benchmarks.Perf;

/// <summary>
/// Our side of DPDK 22.11's ring_perf_autotest (app/test/test_ring_perf.c), same workload and same metric, printed
/// in the same line format so benchmarks/compare/ring_perf.sh can pair the lines:
/// <list type="bullet">
/// <item>single lcore, ring of 4096: cycles per iteration, one iteration being an enqueue of n plus a dequeue of n
/// (n = 1 single, 8 and 32 for burst and bulk), 2^24 iterations for single and 2^23 for bulk/burst;</item>
/// <item>empty bulk dequeue of 8: cycles per call, 2^26 calls;</item>
/// <item>two cores: enqueuer and dequeuer each measure cycles per element over 2^15 bulk calls; the printed
/// figure is the sum of both sides.</item>
/// </list>
/// Legacy (pointer) and 16-byte element rings, as the autotest.
/// </summary>
public static class RingPerf
{
    private const int RingSize = 4096;
    private static readonly int[] BulkSizes = [8, 32];

    public static void Run(bool includeTwoCores)
    {
        RunFor<nint>("legacy APIs", includeTwoCores);
        RunFor<Element16>("elem APIs: element size 16B", includeTwoCores);
    }

    private static void RunFor<T>(string label, bool includeTwoCores) where T : unmanaged
    {
        using Ring<T> spsc = Ring<T>.Create(RingSize, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        using Ring<T> mpmc = Ring<T>.Create(RingSize);
        // Warm-up: call every measured method until tiered compilation has installed its final (tier-1, PGO)
        // code. A fixed count of short rounds took a few milliseconds, under the JIT's 100 ms call-counting delay,
        // so the first timed case (single) ran partly in unoptimised code.
        JitSettle.Run(() =>
        {
            for (int round = 0; round < 50; round++)
            {
                Single<T, SpScSite>(spsc, 1 << 12);
                Single<T, MpMcSite>(mpmc, 1 << 12);
                EmptyDequeue<T, SpScSite>(spsc, 1 << 12);
                EmptyDequeue<T, MpMcSite>(mpmc, 1 << 12);
                foreach (int n in BulkSizes)
                {
                    Bulk<T, SpScSite>(spsc, n, 1 << 12, burst: true);
                    Bulk<T, SpScSite>(spsc, n, 1 << 12, burst: false);
                    Bulk<T, MpMcSite>(mpmc, n, 1 << 12, burst: true);
                    Bulk<T, MpMcSite>(mpmc, n, 1 << 12, burst: false);
                }
            }
        });

        Console.WriteLine();
        Console.WriteLine("### Testing single element enq/deq ###");
        Console.WriteLine($"{label}: SP/SC: single: {Single<T, SpScSite>(spsc, 1 << 24):F2}");
        Console.WriteLine($"{label}: MP/MC: single: {Single<T, MpMcSite>(mpmc, 1 << 24):F2}");
        Console.WriteLine();
        Console.WriteLine("### Testing burst enq/deq ###");
        foreach (int n in BulkSizes)
            Console.WriteLine($"{label}: SP/SC: burst (size: {n}): {Bulk<T, SpScSite>(spsc, n, 1 << 23, burst: true):F2}");
        foreach (int n in BulkSizes)
            Console.WriteLine($"{label}: MP/MC: burst (size: {n}): {Bulk<T, MpMcSite>(mpmc, n, 1 << 23, burst: true):F2}");
        Console.WriteLine();
        Console.WriteLine("### Testing bulk enq/deq ###");
        foreach (int n in BulkSizes)
            Console.WriteLine($"{label}: SP/SC: bulk (size: {n}): {Bulk<T, SpScSite>(spsc, n, 1 << 23, burst: false):F2}");
        foreach (int n in BulkSizes)
            Console.WriteLine($"{label}: MP/MC: bulk (size: {n}): {Bulk<T, MpMcSite>(mpmc, n, 1 << 23, burst: false):F2}");
        Console.WriteLine();
        Console.WriteLine("### Testing empty bulk deq ###");
        Console.WriteLine($"{label}: SP/SC: bulk (size: 8): {EmptyDequeue<T, SpScSite>(spsc):F2}");
        Console.WriteLine($"{label}: MP/MC: bulk (size: 8): {EmptyDequeue<T, MpMcSite>(mpmc):F2}");
        if (includeTwoCores)
        {
            Console.WriteLine();
            Console.WriteLine("### Testing using two physical cores ###");
            foreach (int n in BulkSizes)
            {
                Console.WriteLine($"{label}: SP/SC: bulk (size: {n}): {TwoCores(spsc, n):F2}");
                Console.WriteLine($"{label}: MP/MC: bulk (size: {n}): {TwoCores(mpmc, n):F2}");
            }
        }
    }

    private static double Single<T, TSite>(Ring<T> ring, int iterations) where T : unmanaged where TSite : struct
    {
        T item = default;
        long start = CycleClock.Now();
        for (int i = 0; i < iterations; i++)
        {
            ring.TryEnqueue(item);
            ring.TryDequeue(out item);
        }
        return CycleClock.CyclesSince(start) / iterations;
    }

    private static double Bulk<T, TSite>(Ring<T> ring, int n, int iterations, bool burst) where T : unmanaged where TSite : struct
    {
        Span<T> items = new T[n];
        long start = CycleClock.Now();
        if (burst)
        {
            for (int i = 0; i < iterations; i++)
            {
                ring.EnqueueBurst(items);
                ring.DequeueBurst(items);
            }
        }
        else
        {
            for (int i = 0; i < iterations; i++)
            {
                ring.EnqueueBulk(items);
                ring.DequeueBulk(items);
            }
        }
        return CycleClock.CyclesSince(start) / iterations;
    }

    private static double EmptyDequeue<T, TSite>(Ring<T> ring, int iterations = 1 << 26) where T : unmanaged where TSite : struct
    {
        Span<T> items = new T[8];
        long start = CycleClock.Now();
        for (int i = 0; i < iterations; i++)
            ring.DequeueBulk(items);
        return CycleClock.CyclesSince(start) / iterations;
    }

    /// <summary>Enqueue on the main lcore, dequeue on a worker lcore; per-element cycles of both sides, summed.</summary>
    private static double TwoCores<T>(Ring<T> ring, int n) where T : unmanaged
    {
        const int iterations = 1 << 15;
        Eal? eal = Eal.Current;
        if (eal is null || eal.WorkerLcores.Count == 0)
            return double.NaN;
        int ready = 0;
        double dequeueSide = 0;
        int worker = eal.WorkerLcores[0].Id;
        eal.RemoteLaunch(worker, () =>
        {
            dequeueSide = Side(ring, n, iterations, enqueue: false, ref ready);
            return 0;
        });
        double enqueueSide = Side(ring, n, iterations, enqueue: true, ref ready);
        eal.Wait(worker);
        return enqueueSide + dequeueSide;
    }

    private static double Side<T>(Ring<T> ring, int n, int iterations, bool enqueue, ref int ready) where T : unmanaged
    {
        // On this thread's stack: two heap arrays allocated one after the other by the two sides can share a cache
        // line, and the false sharing cost the two-lcore bulk of 8 about four times its cycles. With stackalloc the
        // method gets no profile, so a per-mode instantiation (below) would change nothing here.
        Span<T> items = stackalloc T[n];
        // Both sides start together, as the autotest's lcore_count handshake.
        Interlocked.Increment(ref ready);
        while (Volatile.Read(ref ready) < 2)
            Thread.SpinWait(1);
        long start = CycleClock.Now();
        for (int i = 0; i < iterations; i++)
        {
            if (enqueue)
            {
                while (ring.EnqueueBulk(items) == 0)
                    Thread.SpinWait(1);
            }
            else
            {
                while (ring.DequeueBulk(items) == 0)
                    Thread.SpinWait(1);
            }
        }
        return CycleClock.CyclesSince(start) / ((double)iterations * n);
    }

    // Each one-lcore measuring loop runs once per ring mode as its own generic instantiation (the marker's only use), so each
    // has its own call sites. The JIT profiles the ring class a call site sees and inlines that class's code behind
    // a type check; one loop shared by the SP/SC and MP/MC rings saw both and sent one of them through virtual
    // calls, which DPDK's statically chosen rte_ring_sp_*/rte_ring_mp_* calls never pay, nor does a user's loop
    // over one ring. The one-lcore loops take their elements from an array allocated before the clock starts, not
    // from stackalloc: a method with stackalloc is compiled once, optimised but without a profile, so every ring
    // call in it stays virtual.
    private struct SpScSite
    {
    }

    private struct MpMcSite
    {
    }

    /// <summary>The autotest's 16-byte element.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 16)]
    private struct Element16
    {
    }
}
