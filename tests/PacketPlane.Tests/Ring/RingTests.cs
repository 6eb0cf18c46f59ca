using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using PacketPlane.Ring;
using Xunit;

namespace PacketPlane.Tests.Ring;

public class RingTests
{
    public static TheoryData<RingFlags> AllModes => new()
    {
        RingFlags.None,
        RingFlags.SingleProducer,
        RingFlags.SingleConsumer,
        RingFlags.SingleProducer | RingFlags.SingleConsumer,
    };

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Power_of_two_ring_holds_count_minus_one(RingFlags flags)
    {
        using Ring<long> ring = Ring<long>.Create(8, flags);
        Assert.Equal(7, ring.Capacity);
        for (long i = 0; i < 7; i++)
            Assert.True(ring.TryEnqueue(i));
        Assert.False(ring.TryEnqueue(99));
        Assert.True(ring.IsFull);
        Assert.Equal(7, ring.Count);
        for (long i = 0; i < 7; i++)
        {
            Assert.True(ring.TryDequeue(out long v));
            Assert.Equal(i, v);
        }
        Assert.True(ring.IsEmpty);
        Assert.False(ring.TryDequeue(out _));
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Single_element_and_bulk_calls_share_the_indexes_in_fifo_order_across_many_wraps(RingFlags flags)
    {
        using Ring<long> ring = Ring<long>.Create(8, flags);
        long next = 0, expected = 0;
        Span<long> burst = stackalloc long[3];
        for (int round = 0; round < 1000; round++)
        {
            Assert.True(ring.TryEnqueue(next++));
            burst[0] = next++;
            burst[1] = next++;
            Assert.Equal(2, ring.EnqueueBulk(burst[..2]));
            Assert.True(ring.TryDequeue(out long first));
            Assert.Equal(expected++, first);
            Assert.Equal(2, ring.DequeueBulk(burst[..2]));
            Assert.Equal(expected++, burst[0]);
            Assert.Equal(expected++, burst[1]);
        }
        Assert.True(ring.IsEmpty);
        Assert.False(ring.TryDequeue(out long none));
        Assert.Equal(0, none);
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Bulk_dequeue_of_more_than_is_ready_takes_nothing_and_exactly_enough_takes_all(RingFlags flags)
    {
        using Ring<long> ring = Ring<long>.Create(16, flags);
        Span<long> four = stackalloc long[4];
        Assert.Equal(0, ring.DequeueBulk(four));
        Assert.Equal(0, ring.DequeueBurst(four));
        Assert.Equal(3, ring.EnqueueBulk(new long[] { 10, 11, 12 }));
        Assert.Equal(0, ring.DequeueBulk(four));
        Assert.Equal(3, ring.Count);
        Assert.Equal(3, ring.DequeueBulk(four[..3]));
        Assert.Equal(new long[] { 10, 11, 12 }, four[..3].ToArray());
        Assert.Equal(2, ring.EnqueueBulk(new long[] { 13, 14 }));
        Assert.Equal(2, ring.DequeueBurst(four));
        Assert.Equal(new long[] { 13, 14 }, four[..2].ToArray());
        Assert.True(ring.IsEmpty);
    }

    [Fact]
    public void Exact_size_ring_holds_exactly_count()
    {
        using Ring<int> ring = Ring<int>.Create(1000, RingFlags.ExactSize);
        Assert.Equal(1000, ring.Capacity);
        int[] items = Enumerable.Range(0, 1000).ToArray();
        Assert.Equal(1000, ring.EnqueueBulk(items));
        Assert.Equal(0, ring.FreeCount);
        Assert.False(ring.TryEnqueue(1));
    }

    [Fact]
    public void Non_power_of_two_without_exact_size_is_refused_with_the_fix()
    {
        var e = Assert.Throws<ArgumentException>(() => Ring<int>.Create(1000));
        Assert.Contains("power of two", e.Message);
        Assert.Contains("ExactSize", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Bulk_is_all_or_nothing_and_burst_takes_what_fits(RingFlags flags)
    {
        using Ring<nint> ring = Ring<nint>.Create(16, flags);
        nint[] ten = Enumerable.Range(1, 10).Select(i => (nint)i).ToArray();
        Assert.Equal(10, ring.EnqueueBulk(ten));
        Assert.Equal(0, ring.EnqueueBulk(ten)); // 5 free: bulk refuses
        Assert.Equal(10, ring.Count);
        Assert.Equal(5, ring.EnqueueBurst(ten)); // burst takes 5
        Assert.True(ring.IsFull);

        var outBuf = new nint[20];
        Assert.Equal(0, ring.DequeueBulk(outBuf)); // only 15 present
        Assert.Equal(15, ring.DequeueBurst(outBuf));
        Assert.Equal(ten.Concat(ten.Take(5)), outBuf.Take(15));
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Indexes_wrapping_past_two_to_the_32_keep_order(RingFlags flags)
    {
        using Ring<uint> ring = Ring<uint>.Create(64, flags);
        // Drive the free-running counters through many wraps of the slot array with odd burst sizes.
        var buf = new uint[37];
        uint next = 0, expect = 0;
        for (int round = 0; round < 20_000; round++)
        {
            int n = 1 + round % 37;
            for (int i = 0; i < n; i++)
                buf[i] = next + (uint)i;
            int put = ring.EnqueueBurst(buf.AsSpan(0, n));
            next += (uint)put;
            int got = ring.DequeueBurst(buf.AsSpan(0, 1 + (round * 7) % 37));
            for (int i = 0; i < got; i++)
                Assert.Equal(expect++, buf[i]);
        }
    }

    [Fact]
    public void Works_with_any_unmanaged_struct()
    {
        using Ring<(long A, int B, byte C)> ring = Ring<(long, int, byte)>.Create(4, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        Assert.True(ring.TryEnqueue((1L, 2, 3)));
        Assert.True(ring.TryDequeue(out var v));
        Assert.Equal((1L, 2, (byte)3), v);
    }

    [Fact]
    public void Single_element_enqueue_and_dequeue_from_two_threads_each_lose_and_duplicate_nothing()
    {
        // TryEnqueue/TryDequeue have their own one-slot path; on two CPUs the threads race for the same heads.
        const int perProducer = 1_000_000;
        using Ring<long> ring = Ring<long>.Create(256);
        var tally = new Tally(2 * perProducer);
        var producers = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            long baseValue = (long)p * perProducer;
            for (int sent = 0; sent < perProducer;)
            {
                if (ring.TryEnqueue(baseValue + sent))
                    sent++;
            }
        }));
        var consumers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!tally.AllTaken)
            {
                if (ring.TryDequeue(out long value))
                    tally.Take(value);
            }
        }));
        RunToTheEnd(producers.Concat(consumers));
        tally.AssertEachTakenOnce();
        Assert.True(ring.IsEmpty);
    }

    [Fact]
    public void Two_producers_and_two_consumers_move_ten_million_distinct_items_without_loss_or_duplicates()
    {
        const int perProducer = 5_000_000;
        using Ring<long> ring = Ring<long>.Create(1024);
        var tally = new Tally(2 * perProducer);
        var producers = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            Span<long> batch = stackalloc long[32];
            long baseValue = (long)p * perProducer;
            int sent = 0;
            while (sent < perProducer)
            {
                int n = Math.Min(1 + sent % 32, perProducer - sent);
                for (int i = 0; i < n; i++)
                    batch[i] = baseValue + sent + i;
                sent += ring.EnqueueBurst(batch[..n]);
            }
        }));
        var consumers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            Span<long> batch = stackalloc long[32];
            while (!tally.AllTaken)
            {
                int n = ring.DequeueBurst(batch);
                for (int i = 0; i < n; i++)
                    tally.Take(batch[i]);
            }
        }));
        RunToTheEnd(producers.Concat(consumers));
        tally.AssertEachTakenOnce();
        Assert.True(ring.IsEmpty);
    }

    /// <summary>Starts the threads and waits for all of them, failing if one has not finished in 3 minutes.</summary>
    private static void RunToTheEnd(IEnumerable<Thread> threads)
    {
        List<Thread> all = threads.ToList();
        all.ForEach(t => t.Start());
        all.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(3))));
    }

    /// <summary>
    /// What consumer threads took of the values 0 to count - 1, each produced once. A second sighting is a
    /// duplicate; a value outside the range (a wrong slot read) is counted as foreign rather than used as an index,
    /// so a broken ring fails the test instead of killing the test host.
    /// </summary>
    private sealed class Tally(int count)
    {
        private readonly byte[] _taken = new byte[count];
        private long _takes;
        private long _duplicates;
        private long _foreign;

        public bool AllTaken => Interlocked.Read(ref _takes) >= _taken.Length;

        public void Take(long value)
        {
            if ((ulong)value >= (ulong)_taken.Length)
                Interlocked.Increment(ref _foreign);
            else if (Interlocked.Exchange(ref _taken[value], 1) != 0)
                Interlocked.Increment(ref _duplicates);
            Interlocked.Increment(ref _takes);
        }

        public void AssertEachTakenOnce()
        {
            Assert.Equal(_taken.Length, _takes);
            Assert.Equal(0, _foreign);
            Assert.Equal(0, _duplicates);
            Assert.All(_taken, b => Assert.Equal(1, b));
        }
    }

    [Fact]
    public void Bulk_enqueue_of_multiple_producers_stays_contiguous_per_call()
    {
        // A bulk call reserves its slots in one step, so a consumer sees each call's items in order.
        const int calls = 200_000;
        using Ring<long> ring = Ring<long>.Create(256, RingFlags.SingleConsumer);
        var producers = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            Span<long> four = stackalloc long[4];
            for (int c = 0; c < calls; c++)
            {
                for (int i = 0; i < 4; i++)
                    four[i] = ((long)p << 40) | ((long)c << 2) | (long)i;
                while (ring.EnqueueBulk(four) == 0)
                    Thread.SpinWait(1);
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        var buf = new long[4];
        int received = 0, torn = 0;
        while (received < 2 * calls)
        {
            if (ring.DequeueBulk(buf) == 0)
                continue;
            for (int i = 0; i < 4; i++)
            {
                if ((buf[i] & 3) != i || buf[0] >> 2 != buf[i] >> 2)
                    torn++;
            }
            received++;
        }
        producers.ForEach(t => t.Join());
        Assert.Equal(0, torn);
    }
}
