using System;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.AfXdp;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>
/// The ring protocol against a simulated kernel side on plain memory: free-running u32 counters that wrap,
/// cached counters that are refreshed only when needed.
/// </summary>
public class XskRingTests
{
    /// <summary>Producer, consumer and flags words plus 16 descriptor slots, as the kernel lays a ring out.</summary>
    private sealed class SharedRing : IDisposable
    {
        private readonly nint _mem = Marshal.AllocHGlobal(64 + 16 * 16);

        public SharedRing() => Marshal.Copy(new byte[64 + 16 * 16], 0, _mem, 64 + 16 * 16);

        public uint Producer
        {
            get => (uint)Marshal.ReadInt32(_mem);
            set => Marshal.WriteInt32(_mem, (int)value);
        }

        public uint Consumer
        {
            get => (uint)Marshal.ReadInt32(_mem, 4);
            set => Marshal.WriteInt32(_mem, 4, (int)value);
        }

        public uint Flags
        {
            set => Marshal.WriteInt32(_mem, 8, (int)value);
        }

        public XskRing View(uint size, bool weProduce, uint start)
        {
            Producer = start;
            Consumer = start;
            return Attach(size, weProduce);
        }

        /// <summary>A new view over the ring as it is now.</summary>
        public XskRing Attach(uint size, bool weProduce)
        {
            XskRing r = XskRing.Over(_mem, _mem + 4, _mem + 8, _mem + 64, size);
            r.Resync(weProduce);
            return r;
        }

        public void Dispose() => Marshal.FreeHGlobal(_mem);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFF0u)] // counters wrap past 2^32 during the test
    public void Producer_side_fills_only_free_slots_and_publishes_on_submit(uint start)
    {
        using var shared = new SharedRing();
        XskRing fill = shared.View(8, weProduce: true, start);
        Assert.Equal(8u, fill.FreeSlots(8));
        for (uint i = 0; i < 8; i++)
            fill.WriteAddress(fill.CachedProducer + i, 100 + i);
        fill.CachedProducer += 8;
        Assert.Equal(start, shared.Producer); // nothing visible before Submit
        fill.Submit();
        Assert.Equal(start + 8, shared.Producer);
        Assert.Equal(0u, fill.FreeSlots(1)); // full: the kernel consumed nothing

        shared.Consumer = start + 3; // the kernel takes three entries
        Assert.Equal(3u, fill.FreeSlots(1));
        Assert.Equal(103ul, fill.ReadAddress(start + 3)); // slot index is masked
        Assert.Equal(103ul, fill.ReadAddress(start + 3 + 8));
        Assert.False(fill.IsDrained());
        shared.Consumer = start + 8;
        Assert.True(fill.IsDrained());
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFFEu)]
    public void Consumer_side_sees_entries_only_after_the_producer_moves_and_releases_them(uint start)
    {
        using var shared = new SharedRing();
        XskRing rx = shared.View(16, weProduce: false, start);
        Assert.Equal(0u, rx.Available(4));
        shared.Producer = start + 5; // the kernel produced five
        Assert.Equal(5u, rx.Available(4));
        shared.Producer = start + 9; // the cached five are enough for 4: no reread
        Assert.Equal(5u, rx.Available(4));
        Assert.Equal(9u, rx.Available(6)); // not enough cached: reread
        rx.CachedConsumer += 9;
        Assert.Equal(start, shared.Consumer);
        rx.Release();
        Assert.Equal(start + 9, shared.Consumer);
        Assert.Equal(0u, rx.Available(1));
    }

    [Fact]
    public void Resync_picks_up_a_ring_that_was_used_before()
    {
        using var shared = new SharedRing();
        XskRing first = shared.View(8, weProduce: true, 0);
        first.CachedProducer += 5;
        first.Submit();
        shared.Consumer = 2;
        XskRing second = shared.Attach(8, weProduce: true); // a queue set up again on the same socket
        Assert.Equal(5u, second.CachedProducer);
        Assert.Equal(5u, second.FreeSlots(1)); // 8 slots, 3 still in the kernel's hands
    }

    [Fact]
    public void Need_wakeup_follows_the_flag_word()
    {
        using var shared = new SharedRing();
        XskRing tx = shared.View(8, weProduce: true, 0);
        Assert.False(tx.NeedsWakeup());
        shared.Flags = 1; // XDP_RING_NEED_WAKEUP
        Assert.True(tx.NeedsWakeup());
    }
}
