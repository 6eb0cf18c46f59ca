using System;
using System.Linq;
using PacketPlane.Ring;
using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Ring;

/// <summary>The single-producer/single-consumer ring between two pinned lcores, as a forwarding pipeline uses it.</summary>
[Collection(EalCollection.Name)]
public class RingAcrossLcoresTests
{
    [Fact]
    public void Sp_sc_ring_moves_ten_million_items_between_two_lcores_in_order()
    {
        const long items = 10_000_000;
        using PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { NoHuge = true });
        Lcore? worker = eal.WorkerLcores.FirstOrDefault();
        Assert.True(worker is not null, "this test needs two CPUs (an EAL with a worker lcore)");
        using Ring<long> ring = Ring<long>.Create(1024, RingFlags.SingleProducer | RingFlags.SingleConsumer);

        // Producer on the worker lcore, consumer on the main lcore.
        eal.RemoteLaunch(worker!.Id, () =>
        {
            Span<long> batch = stackalloc long[32];
            long next = 0;
            while (next < items)
            {
                int n = (int)Math.Min(batch.Length, items - next);
                for (int i = 0; i < n; i++)
                    batch[i] = next + i;
                next += ring.EnqueueBurst(batch[..n]);
            }
            return 0;
        });
        Span<long> got = stackalloc long[32];
        long expected = 0, outOfOrder = 0;
        while (expected < items)
        {
            int n = ring.DequeueBurst(got);
            for (int i = 0; i < n; i++)
            {
                if (got[i] != expected)
                    outOfOrder++;
                expected++;
            }
        }
        Assert.Equal(0, eal.Wait(worker.Id));
        Assert.Equal(0, outOfOrder);
        Assert.True(ring.IsEmpty);
    }
}
