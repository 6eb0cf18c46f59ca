using System;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.Virtqueue;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>
/// The driver rings against the device rings in one block of memory: buffers round the ring many times, batches
/// reported by a single used entry (IN_ORDER), and notification suppression both ways, with and without EVENT_IDX.
/// </summary>
public sealed class VirtqueueTests : IDisposable
{
    private const int Size = 64;
    private readonly nint _memory;
    private readonly VringLayout _split;
    private readonly VringLayout _packed;

    public VirtqueueTests()
    {
        long bytes = VringLayout.Bytes(Size, false) + VringLayout.Bytes(Size, true);
        _memory = Marshal.AllocHGlobal((nint)bytes + 64);
        nint aligned = (_memory + 63) & ~(nint)63;
        _split = VringLayout.At(aligned, Size, packed: false);
        _packed = VringLayout.At(aligned + (nint)VringLayout.Bytes(Size, false), Size, packed: true);
        _split.Clear();
        _packed.Clear();
    }

    public void Dispose() => Marshal.FreeHGlobal(_memory);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Split_buffers_come_back_in_order_with_their_lengths_over_many_laps(bool inOrder)
    {
        var driver = new SplitDriverRing();
        driver.Init(_split, inOrder);
        var device = new DeviceSplitRing();
        device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx: false, baseIndex: 0);
        var tokens = new nint[Size];
        var lens = new uint[Size];
        long next = 1, expected = 1;
        for (int lap = 0; lap < 10 * Size / 7; lap++)
        {
            while (driver.FreeDescriptors >= 2)
            {
                // Alternate one-descriptor buffers and two-descriptor chains.
                if (next % 2 == 0)
                    driver.AddBuffer(0x1000UL * (ulong)next, 100, VringFlags.VRING_DESC_F_WRITE, (nint)next);
                else
                    driver.AddChain([0x1000UL * (ulong)next, 0x1000UL * (ulong)next + 512], [12, 88], VringFlags.VRING_DESC_F_WRITE, (nint)next);
                next++;
            }
            driver.Publish();
            int avail = device.AvailableCount();
            Assert.True(avail > 0);
            for (int i = 0; i < Math.Min(avail, 7); i++)
            {
                Assert.True(device.TryTakeHead(out ushort head));
                device.PushUsed(head, (uint)(head + 1));
            }
            device.FlushUsed();
            int n = driver.PollUsed(tokens, lens);
            Assert.Equal(Math.Min(avail, 7), n);
            for (int i = 0; i < n; i++)
                Assert.Equal(expected++, (long)tokens[i]);
        }
        Assert.Equal(0UL, driver.DeviceErrors);
        driver.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Packed_buffers_come_back_in_order_over_many_laps(bool inOrder)
    {
        var driver = new PackedDriverRing();
        driver.Init(_packed, inOrder);
        var device = new DevicePackedRing();
        device.Init(_packed.Desc, _packed.Driver, _packed.Device, Size, eventIdx: false, baseIndex: 1 << 15);
        var tokens = new nint[Size];
        var lens = new uint[Size];
        long next = 1, expected = 1;
        for (int lap = 0; lap < 10 * Size / 5; lap++)
        {
            while (driver.FreeDescriptors >= 2)
            {
                if (next % 3 == 0)
                    driver.AddChain([0x2000UL, 0x3000UL], [12, 200], VringFlags.VRING_DESC_F_WRITE, (nint)next);
                else
                    driver.AddBuffer(0x1000UL * (ulong)next, 150, VringFlags.VRING_DESC_F_WRITE, (nint)next);
                next++;
            }
            driver.Publish();
            for (int i = 0; i < 5 && device.IsAvailable(); i++)
            {
                int count = ChainLength(device.LastAvail);
                ushort id = PackedId((ushort)((device.LastAvail + count - 1) % Size));
                device.ConsumeAvail(count);
                device.MarkUsed(id, 42, count, written: true);
            }
            int n = driver.PollUsed(tokens, lens);
            Assert.Equal(5, n);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(expected++, (long)tokens[i]);
                Assert.Equal(42u, lens[i]);
            }
        }
        Assert.Equal(0UL, driver.DeviceErrors);
        driver.Dispose();
    }

    [Fact]
    public void Split_in_order_batch_reported_by_one_used_entry_completes_every_buffer()
    {
        var driver = new SplitDriverRing();
        driver.Init(_split, inOrder: true);
        for (int i = 1; i <= 5; i++)
            driver.AddBuffer((ulong)i * 0x100, 256, VringFlags.VRING_DESC_F_WRITE, i);
        driver.Publish();
        // 2.7.9: one used entry naming the last buffer of the batch (head 4), used->idx advanced by one.
        WriteUsedSplit(slot: 0, id: 4, len: 77);
        Marshal.WriteInt16(_split.Device + 2, 1);
        var tokens = new nint[8];
        var lens = new uint[8];
        int n = driver.PollUsed(tokens, lens);
        Assert.Equal(5, n);
        Assert.Equal(new nint[] { 1, 2, 3, 4, 5 }, tokens[..5]);
        Assert.Equal(new uint[] { 256, 256, 256, 256, 77 }, lens[..5]);  // skipped buffers count as fully used
        Assert.Equal(Size, driver.FreeDescriptors);
        driver.Dispose();
    }

    [Fact]
    public void Packed_in_order_batch_reported_by_one_used_descriptor_completes_every_buffer()
    {
        var driver = new PackedDriverRing();
        driver.Init(_packed, inOrder: true);
        for (int i = 1; i <= 4; i++)
            driver.AddBuffer((ulong)i * 0x100, 300, VringFlags.VRING_DESC_F_WRITE, i);
        driver.Publish();
        // 2.8.17: the device writes one used descriptor at the first position, with the id of the last buffer (3).
        nint d = _packed.Desc;
        Marshal.WriteInt32(d + 8, 55);
        Marshal.WriteInt16(d + 12, 3);
        Marshal.WriteInt16(d + 14, unchecked((short)(0x80 | 0x8000 | VringFlags.VRING_DESC_F_WRITE)));
        var tokens = new nint[8];
        var lens = new uint[8];
        int n = driver.PollUsed(tokens, lens);
        Assert.Equal(4, n);
        Assert.Equal(new nint[] { 1, 2, 3, 4 }, tokens[..4]);
        Assert.Equal(55u, lens[3]);
        driver.Dispose();
    }

    [Fact]
    public void Split_kicks_follow_the_used_flags_without_event_idx()
    {
        var driver = new SplitDriverRing();
        driver.Init(_split, inOrder: false);
        var device = new DeviceSplitRing();
        device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx: false, baseIndex: 0);
        driver.AddBuffer(0x100, 64, 0, 1);
        driver.Publish();
        Assert.True(driver.KickNeeded());           // a fresh used ring asks for notifications
        Assert.False(driver.KickNeeded());          // nothing new since
        device.SuppressKicks();                      // VRING_USED_F_NO_NOTIFY
        driver.AddBuffer(0x200, 64, 0, 2);
        driver.Publish();
        Assert.False(driver.KickNeeded());
        driver.Dispose();
    }

    [Fact]
    public void Split_kicks_follow_avail_event_with_event_idx()
    {
        var driver = new SplitDriverRing();
        driver.Init(_split, inOrder: false);
        driver.SetEventIdx(true);
        var device = new DeviceSplitRing();
        device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx: true, baseIndex: 0);
        driver.AddBuffer(0x100, 64, 0, 1);
        driver.Publish();
        Assert.True(driver.KickNeeded());           // avail_event 0 lies in [0, 1)
        driver.AddBuffer(0x200, 64, 0, 2);
        driver.Publish();
        Assert.False(driver.KickNeeded());          // [1, 2) does not contain 0
        Marshal.WriteInt16(_split.Device + 4 + 8 * Size, 3);   // the device asks once index 3 is passed
        for (int i = 0; i < 3; i++)
            driver.AddBuffer(0x300, 64, 0, 3 + i);
        driver.Publish();
        Assert.True(driver.KickNeeded());           // [2, 5) contains 3
        device.SuppressKicks();
        driver.AddBuffer(0x400, 64, 0, 9);
        driver.Publish();
        Assert.False(driver.KickNeeded());
        driver.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Split_calls_follow_the_drivers_suppression(bool eventIdx)
    {
        var driver = new SplitDriverRing();
        driver.Init(_split, inOrder: false);
        driver.SetEventIdx(eventIdx);
        var device = new DeviceSplitRing();
        device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx, baseIndex: 0);
        for (int i = 1; i <= 4; i++)
            driver.AddBuffer(0x100, 64, 0, i);
        driver.Publish();
        UseOne(ref device);
        Assert.True(device.CallNeeded());            // no suppression yet (used_event 0 is passed)
        driver.SuppressDeviceNotifications();       // NO_INTERRUPT, or used_event a ring behind
        UseOne(ref device);
        Assert.False(device.CallNeeded());
        UseOne(ref device);
        Assert.False(device.CallNeeded());
        driver.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Packed_burst_turns_available_all_at_once_when_published(bool chainFirst)
    {
        var driver = new PackedDriverRing();
        driver.Init(_packed, inOrder: false);
        var device = new DevicePackedRing();
        device.Init(_packed.Desc, _packed.Driver, _packed.Device, Size, eventIdx: false, baseIndex: 1 << 15);
        if (chainFirst)
            driver.AddChain([0x2000UL, 0x3000UL], [12, 200], 0, 1);
        else
            driver.AddBuffer(0x1000, 64, 0, 1);
        driver.AddBuffer(0x4000, 64, 0, 2);
        driver.AddBuffer(0x5000, 64, 0, 3);
        // Until Publish the device must not start on the burst: its first head is held back, so the device does not
        // chase the driver descriptor by descriptor.
        Assert.False(device.IsAvailable());
        driver.Publish();
        Assert.True(device.IsAvailable());
        int descriptors = chainFirst ? 4 : 3;
        for (int i = 0; i < descriptors; i++)
            Assert.True(device.IsAvailableAt(i), $"descriptor {i} of the burst is not available after Publish");
        Assert.False(device.IsAvailableAt(descriptors));
        driver.Publish();                               // nothing pending: no effect
        Assert.False(device.IsAvailableAt(descriptors));
        driver.Dispose();
    }

    [Fact]
    public void Packed_kicks_and_calls_follow_the_event_suppression_structures()
    {
        var driver = new PackedDriverRing();
        driver.Init(_packed, inOrder: false);
        driver.SetEventIdx(true);
        var device = new DevicePackedRing();
        device.Init(_packed.Desc, _packed.Driver, _packed.Device, Size, eventIdx: true, baseIndex: 1 << 15);
        driver.AddBuffer(0x100, 64, 0, 1);
        driver.Publish();
        Assert.True(driver.KickNeeded());             // RING_EVENT_FLAGS_ENABLE (0)
        device.SuppressKicks();                        // DISABLE
        driver.AddBuffer(0x200, 64, 0, 2);
        driver.Publish();
        Assert.False(driver.KickNeeded());
        // DESC mode: notify once position 4 (wrap counter 1) is made available.
        Marshal.WriteInt16(_packed.Device, unchecked((short)(4 | 0x8000)));
        Marshal.WriteInt16(_packed.Device + 2, (short)VringFlags.VRING_PACKED_EVENT_FLAG_DESC);
        driver.AddBuffer(0x300, 64, 0, 3);              // position 2
        driver.Publish();
        Assert.False(driver.KickNeeded());
        driver.AddBuffer(0x400, 64, 0, 4);              // 3
        driver.AddBuffer(0x500, 64, 0, 5);              // 4
        driver.Publish();
        Assert.True(driver.KickNeeded());

        device.ConsumeAvail(1);
        device.MarkUsed(PackedId(0), 0, 1, written: false);
        Assert.True(device.CallNeeded());              // driver event ENABLE
        driver.SuppressDeviceNotifications();         // DISABLE
        device.ConsumeAvail(1);
        device.MarkUsed(PackedId(1), 0, 1, written: false);
        Assert.False(device.CallNeeded());
        driver.Dispose();
    }

    [Fact]
    public void The_device_side_refuses_impossible_indexes()
    {
        var device = new DeviceSplitRing();
        device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx: false, baseIndex: 0);
        Marshal.WriteInt16(_split.Driver + 2, Size + 1);       // avail->idx more than a ring ahead
        Assert.Equal(-1, device.AvailableCount());
        Marshal.WriteInt16(_split.Driver + 2, 1);
        Marshal.WriteInt16(_split.Driver + 4, Size + 5);       // head out of range
        Assert.Equal(1, device.AvailableCount());
        Assert.False(device.TryTakeHead(out _));
    }

    [Fact]
    public void A_device_resuming_on_a_used_ring_starts_at_its_used_index()
    {
        Marshal.WriteInt16(_split.Device + 2, 300);   // a previous device used 300 buffers
        var device = new DeviceSplitRing();
        bool agreed = device.Init(_split.Desc, _split.Driver, _split.Device, Size, eventIdx: false, baseIndex: 0);
        Assert.False(agreed);
        Assert.Equal(300, device.LastAvail);
    }

    private static void UseOne(ref DeviceSplitRing device)
    {
        Assert.True(device.TryTakeHead(out ushort head));
        device.PushUsed(head, 0);
        device.FlushUsed();
    }

    private void WriteUsedSplit(int slot, uint id, uint len)
    {
        Marshal.WriteInt32(_split.Device + 4 + 8 * slot, (int)id);
        Marshal.WriteInt32(_split.Device + 8 + 8 * slot, (int)len);
    }

    private ushort PackedId(ushort pos) => (ushort)Marshal.ReadInt16(_packed.Desc + 16 * pos + 12);

    private int ChainLength(ushort pos)
    {
        int n = 1;
        while ((Marshal.ReadInt16(_packed.Desc + 16 * ((pos + n - 1) % Size) + 14) & VringFlags.VRING_DESC_F_NEXT) != 0)
            n++;
        return n;
    }
}
