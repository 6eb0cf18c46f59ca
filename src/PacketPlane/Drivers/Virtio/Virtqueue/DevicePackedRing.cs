using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Spec;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// Device side of a packed virtqueue (virtio 1.2 section 2.8), for the vhost-user backend. Buffers are used in the
/// order they were made available, so each used descriptor lands on the position of its buffer's head.
/// </summary>
internal unsafe struct DevicePackedRing
{
    private const ushort AvailBit = 1 << VringFlags.VRING_PACKED_DESC_F_AVAIL;
    private const ushort UsedBit = 1 << VringFlags.VRING_PACKED_DESC_F_USED;

    private VringPackedDesc* _desc;
    private VringPackedEvent* _driverEvent;   // the driver's wishes about used-buffer notifications
    private VringPackedEvent* _deviceEvent;   // ours about available-buffer notifications
    private int _size;
    private bool _eventIdx;
    private ushort _lastAvail;
    private bool _availWrap;
    private ushort _lastUsed;
    private bool _usedWrap;
    private ushort _signalledUsed;
    private bool _signalledValid;

    /// <summary>Queue size.</summary>
    public readonly int Size => _size;

    /// <summary>The descriptor ring.</summary>
    public readonly VringPackedDesc* Descriptors => _desc;

    /// <summary>Position of the next descriptor to check for availability.</summary>
    public readonly ushort LastAvail => _lastAvail;

    /// <summary>vhost-user GET_VRING_BASE for a packed ring: next available position, wrap counter in bit 15.</summary>
    public readonly ushort Base => (ushort)(_lastAvail | (_availWrap ? 1 << 15 : 0));

    /// <summary>
    /// Takes translated pointers. <paramref name="baseIndex"/> is SET_VRING_BASE's value: position in bits 0-14,
    /// wrap counter in bit 15; used and available sides resume at the same place.
    /// </summary>
    public void Init(nint desc, nint driverEvent, nint deviceEvent, int size, bool eventIdx, ushort baseIndex)
    {
        _desc = (VringPackedDesc*)desc;
        _driverEvent = (VringPackedEvent*)driverEvent;
        _deviceEvent = (VringPackedEvent*)deviceEvent;
        _size = size;
        _eventIdx = eventIdx;
        _lastAvail = _lastUsed = (ushort)((baseIndex & 0x7fff) % size);
        _availWrap = _usedWrap = (baseIndex & 0x8000) != 0;
        _signalledValid = false;
    }

    /// <summary>True when the descriptor at <see cref="LastAvail"/> has been made available (2.8.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsAvailable()
    {
        // Acquire: address, length and id were written before the flags; pairs with the driver's release store
        // of the flags (PackedDriverRing.AddBuffer).
        ushort flags = Volatile.Read(ref _desc[_lastAvail].Flags);
        bool avail = (flags & AvailBit) != 0;
        bool used = (flags & UsedBit) != 0;
        return avail != used && avail == _availWrap;
    }

    /// <summary>True when the descriptor <paramref name="offset"/> positions after <see cref="LastAvail"/> is available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsAvailableAt(int offset)
    {
        int p = _lastAvail + offset;
        bool wrap = _availWrap;
        if (p >= _size)
        {
            p -= _size;
            wrap = !wrap;
        }
        // Acquire: pairs with the driver's release store of the flags, as in IsAvailable.
        ushort flags = Volatile.Read(ref _desc[p].Flags);
        bool avail = (flags & AvailBit) != 0;
        bool used = (flags & UsedBit) != 0;
        return avail != used && avail == wrap;
    }

    /// <summary>Position <paramref name="offset"/> descriptors after <see cref="LastAvail"/> (chains continue there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ushort PositionAfterAvail(int offset)
    {
        int p = _lastAvail + offset;
        return (ushort)(p >= _size ? p - _size : p);
    }

    /// <summary>Moves past a buffer of <paramref name="count"/> descriptors that has been read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ConsumeAvail(int count) => Advance(ref _lastAvail, ref _availWrap, count);

    /// <summary>
    /// Writes the used descriptor for a buffer of <paramref name="count"/> descriptors with id <paramref name="id"/>
    /// and skips past it (2.8.6). <paramref name="written"/> sets VRING_DESC_F_WRITE: data was written into it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MarkUsed(ushort id, uint len, int count, bool written)
    {
        ushort pos = WriteUsed(id, len, count, written, out ushort flags);
        PublishUsed(pos, flags);
    }

    /// <summary>
    /// Writes a used descriptor's id and length and moves past the buffer, but leaves it unpublished: the caller
    /// publishes with <see cref="PublishUsed"/>. Lets several buffers turn used at once (a merged receive packet,
    /// 5.1.6.4: its buffers must be observed together) by publishing the first one last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort WriteUsed(ushort id, uint len, int count, bool written, out ushort flags)
    {
        ushort pos = _lastUsed;
        VringPackedDesc* d = _desc + pos;
        d->Id = id;
        d->Len = len;
        flags = (ushort)((_usedWrap ? AvailBit | UsedBit : 0) | (written ? VringFlags.VRING_DESC_F_WRITE : 0));
        Advance(ref _lastUsed, ref _usedWrap, count);
        return pos;
    }

    /// <summary>Turns the descriptor at <paramref name="pos"/> used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PublishUsed(ushort pos, ushort flags)
    {
        // Release: data, ids, lengths (and the flags of buffers published before this one) are visible before the
        // descriptor turns used; pairs with the driver's acquire load of the flags (PackedDriverRing.PollUsed).
        Volatile.Write(ref _desc[pos].Flags, flags);
    }

    /// <summary>After marking buffers used: whether the driver asked for a notification (2.8.10).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CallNeeded()
    {
        if (_signalledValid && _signalledUsed == _lastUsed)
            return false;
        // Full fence: our flag stores must be visible before we read the driver's suppression structure.
        Interlocked.MemoryBarrier();
        ushort flags = Volatile.Read(ref _driverEvent->Flags);
        ushort oldIdx = _signalledUsed;
        bool valid = _signalledValid;
        _signalledUsed = _lastUsed;
        _signalledValid = true;
        if (flags == VringFlags.VRING_PACKED_EVENT_FLAG_DISABLE)
            return false;
        if (flags != VringFlags.VRING_PACKED_EVENT_FLAG_DESC || !_eventIdx || !valid)
            return true;
        ushort offWrap = Volatile.Read(ref _driverEvent->OffWrap);
        ushort off = (ushort)(offWrap & 0x7fff);
        ushort newIdx = _lastUsed;
        if (newIdx <= oldIdx)
            oldIdx -= (ushort)_size;
        if (((offWrap >> VringFlags.VRING_PACKED_EVENT_F_WRAP_CTR) != 0) != _usedWrap)
            off -= (ushort)_size;
        return VringFlags.NeedEvent(off, newIdx, oldIdx);
    }

    /// <summary>Asks the driver not to notify us of new buffers: the backend polls.</summary>
    public void SuppressKicks() =>
        Volatile.Write(ref _deviceEvent->Flags, VringFlags.VRING_PACKED_EVENT_FLAG_DISABLE);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Advance(ref ushort pos, ref bool wrap, int count)
    {
        int next = pos + count;
        if (next >= _size)
        {
            next -= _size;
            wrap = !wrap;
        }
        pos = (ushort)next;
    }
}
