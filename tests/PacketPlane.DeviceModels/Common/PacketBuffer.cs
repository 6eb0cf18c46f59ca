using System;

namespace PacketPlane.DeviceModels.Common;

/// <summary>
/// A NIC's receive packet buffer: frames accepted from the wire wait here, in order, until a descriptor takes them.
/// Bounded by bytes (the RXPBSIZE the driver programs) and by slot count; allocation-free after construction.
/// </summary>
public sealed class PacketBuffer
{
    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private int _head;
    private int _count;
    private long _bytes;

    /// <summary>Creates a buffer of <paramref name="slots"/> frames of up to <paramref name="maxFrame"/> bytes.</summary>
    public PacketBuffer(int slots, int maxFrame)
    {
        _slots = new byte[slots][];
        for (int i = 0; i < slots; i++)
            _slots[i] = new byte[maxFrame];
        _lengths = new int[slots];
    }

    /// <summary>Frames waiting.</summary>
    public int Count => _count;

    /// <summary>Bytes waiting.</summary>
    public long Bytes => _bytes;

    /// <summary>True when a frame of <paramref name="length"/> bytes fits under <paramref name="capacityBytes"/>.</summary>
    public bool HasRoom(int length, long capacityBytes) => _count < _slots.Length && _bytes + length <= capacityBytes;

    /// <summary>The slot the next frame is written into (call <see cref="Commit"/> after).</summary>
    public byte[] NextSlot => _slots[(_head + _count) % _slots.Length];

    /// <summary>Adds the frame written into <see cref="NextSlot"/>.</summary>
    public void Commit(int length)
    {
        _lengths[(_head + _count) % _slots.Length] = length;
        _count++;
        _bytes += length;
    }

    /// <summary>The oldest frame.</summary>
    public ReadOnlySpan<byte> Peek() => _slots[_head].AsSpan(0, _lengths[_head]);

    /// <summary>The oldest frame's storage.</summary>
    public byte[] PeekArray(out int length)
    {
        length = _lengths[_head];
        return _slots[_head];
    }

    /// <summary>Drops the oldest frame.</summary>
    public void Pop()
    {
        _bytes -= _lengths[_head];
        _head = (_head + 1) % _slots.Length;
        _count--;
    }

    /// <summary>Empties the buffer (device reset).</summary>
    public void Clear()
    {
        _head = 0;
        _count = 0;
        _bytes = 0;
    }
}
