using System;
using PacketPlane.Memory;
using PacketPlane.Ring;
using Xunit;

namespace PacketPlane.Tests;

/// <summary>The pool and ring half of the README's minimal program, without ports or an EAL (PackageConsumerTests runs the whole of it).</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void Minimal_program_moves_packets_and_returns_them()
    {
        using MbufPool pool = MbufPool.Create("pool", count: 8192);
        using Ring<Packet> ring = Ring<Packet>.Create(1024, RingFlags.SingleProducer | RingFlags.SingleConsumer);

        Span<Packet> burst = new Packet[32];
        Assert.Equal(32, pool.AllocBulk(burst));
        foreach (Packet p in burst)
        {
            Assert.True(p.TryAppend(64));
            p.Data.Fill(0xAB);
        }
        int queued = ring.EnqueueBurst(burst);
        int got = ring.DequeueBurst(burst);
        Assert.Equal(32, queued);
        Assert.Equal(32, got);
        Assert.All(burst.ToArray(), p => Assert.Equal(64, p.Length));
        Packet.FreeBulk(burst[..got]);
        Assert.Equal(0, pool.InUse);
    }
}
