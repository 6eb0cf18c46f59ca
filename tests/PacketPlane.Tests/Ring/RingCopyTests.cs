using System;
using PacketPlane.Ring;
using Xunit;

namespace PacketPlane.Tests.Ring;

/// <summary>
/// The slot copy moves 32 bytes at a time with a last, overlapping move: every burst size, element size and
/// position of the slot array's wrap must still deliver exactly the elements sent, in order, and never write
/// past the part of the caller's buffer the call fills.
/// </summary>
public class RingCopyTests
{
    private struct Twelve
    {
        public int A, B, C;
    }

    [Fact]
    public void Every_burst_size_crosses_the_wrap_intact_for_8_byte_elements() =>
        CheckAllSizes(i => (long)i * 0x0101_0101_0101L);

    [Fact]
    public void Every_burst_size_crosses_the_wrap_intact_for_12_byte_elements() =>
        CheckAllSizes(i => new Twelve { A = i, B = ~i, C = i * 7 });

    [Fact]
    public void Every_burst_size_crosses_the_wrap_intact_for_16_byte_elements() =>
        CheckAllSizes(i => (A: (long)i, B: -(long)i));

    private static void CheckAllSizes<T>(Func<int, T> make) where T : unmanaged
    {
        const int slots = 128;
        using Ring<T> ring = Ring<T>.Create(slots, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        T sentinel = make(-1);
        int next = 0, expected = 0;
        for (int size = 1; size <= 80; size++)
        {
            // Start the burst at every offset around the wrap by first moving the indexes along.
            for (int shift = 0; shift < 37; shift += 5)
            {
                var filler = new T[shift];
                Assert.Equal(shift, ring.EnqueueBulk(filler));
                Assert.Equal(shift, ring.DequeueBulk(filler));
                var send = new T[size];
                for (int i = 0; i < size; i++)
                    send[i] = make(next++);
                Assert.Equal(size, ring.EnqueueBulk(send));
                var receive = new T[size + 8];
                Array.Fill(receive, sentinel);
                Assert.Equal(size, ring.DequeueBurst(receive.AsSpan(0, size)));
                for (int i = 0; i < size; i++)
                    Assert.Equal(make(expected++), receive[i]);
                for (int i = size; i < receive.Length; i++)
                    Assert.Equal(sentinel, receive[i]); // nothing written past the request
            }
        }
        Assert.Equal(0, ring.Count);
    }
}
