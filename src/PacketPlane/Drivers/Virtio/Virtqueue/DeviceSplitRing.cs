using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Spec;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// Device side of a split virtqueue (virtio 1.2 section 2.7), for the vhost-user backend: reads the available
/// ring the driver writes, writes used entries back. The ring pointers are already translated into our address
/// space; every index the driver supplies is checked before use, because the driver is another process.
/// </summary>
internal unsafe struct DeviceSplitRing
{
    private VringDesc* _desc;
    private VringAvailHeader* _avail;
    private ushort* _availRing;
    private ushort* _usedEvent;
    private VringUsedHeader* _used;
    private VringUsedElem* _usedRing;
    private ushort* _availEvent;
    private int _size;
    private ushort _mask;
    private bool _eventIdx;
    private ushort _lastAvail;     // next available-ring index to read (free-running)
    private ushort _lastUsed;      // next used-ring index to write (free-running)
    private ushort _signalledUsed; // used index at the last notification decision

    /// <summary>Queue size.</summary>
    public readonly int Size => _size;

    /// <summary>The next available index the device will read (vhost-user GET_VRING_BASE answers it).</summary>
    public readonly ushort LastAvail => _lastAvail;

    /// <summary>The descriptor table.</summary>
    public readonly VringDesc* Descriptors => _desc;

    /// <summary>
    /// Takes translated ring pointers. The used index is read from the ring (the driver has seen every entry a
    /// previous device published); the available index restarts at <paramref name="baseIndex"/>, unless that
    /// disagrees with the used index: every buffer before used->idx has been used, so a virtio-net device resumes
    /// there (DPDK's virtio-user always sends base 0, also when it reconnects to a ring in use). Returns false when
    /// it had to resynchronise that way.
    /// </summary>
    public bool Init(nint desc, nint avail, nint used, int size, bool eventIdx, ushort baseIndex)
    {
        _size = size;
        _mask = (ushort)(size - 1);
        _eventIdx = eventIdx;
        _desc = (VringDesc*)desc;
        _avail = (VringAvailHeader*)avail;
        _availRing = (ushort*)(avail + sizeof(VringAvailHeader));
        _usedEvent = _availRing + size;
        _used = (VringUsedHeader*)used;
        _usedRing = (VringUsedElem*)(used + sizeof(VringUsedHeader));
        _availEvent = (ushort*)(_usedRing + size);
        _lastUsed = Volatile.Read(ref _used->Idx);
        _lastAvail = _lastUsed;
        _signalledUsed = _lastUsed;
        return baseIndex == _lastUsed;
    }

    /// <summary>
    /// Buffers the driver has made available and we have not taken, or -1 when the driver's index is impossible
    /// (more than a ring ahead): the ring is then unusable.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int AvailableCount()
    {
        // Acquire: the ring entries and descriptors were written before the index; pairs with the driver's release
        // store of avail->idx (SplitDriverRing.Publish).
        int n = (ushort)(Volatile.Read(ref _avail->Idx) - _lastAvail);
        return n <= _size ? n : -1;
    }

    /// <summary>Takes the next available head; false (nothing taken) when it is out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTakeHead(out ushort head)
    {
        head = _availRing[_lastAvail & _mask];
        if (head >= _size)
            return false;
        _lastAvail++;
        return true;
    }

    /// <summary>The head <paramref name="k"/> entries past the next available one (caller checked the count); false when out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool TryPeekHead(int k, out ushort head)
    {
        head = _availRing[(ushort)(_lastAvail + k) & _mask];
        return head < _size;
    }

    /// <summary>Moves past <paramref name="k"/> available entries already read with <see cref="TryPeekHead"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int k) => _lastAvail += (ushort)k;

    /// <summary>Writes a used entry (not yet published).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushUsed(ushort id, uint len)
    {
        VringUsedElem* e = _usedRing + (_lastUsed & _mask);
        e->Id = id;
        e->Len = len;
        _lastUsed++;
    }

    /// <summary>Publishes the used entries pushed since the last flush.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FlushUsed()
    {
        // Release: the used entries (and the data written into the buffers) are visible before the index; pairs
        // with the driver's acquire load of used->idx (SplitDriverRing.PollUsed).
        Volatile.Write(ref _used->Idx, _lastUsed);
    }

    /// <summary>After <see cref="FlushUsed"/>: whether the driver asked for a used-buffer notification (2.7.10).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CallNeeded()
    {
        if (_signalledUsed == _lastUsed)
            return false;
        // Full fence: our used->idx store must be visible before we read the driver's suppression state.
        Interlocked.MemoryBarrier();
        ushort old = _signalledUsed;
        _signalledUsed = _lastUsed;
        if (_eventIdx)
            return VringFlags.NeedEvent(Volatile.Read(ref *_usedEvent), _lastUsed, old);
        return (Volatile.Read(ref _avail->Flags) & VringFlags.VRING_AVAIL_F_NO_INTERRUPT) == 0;
    }

    /// <summary>Asks the driver not to notify us of new buffers: the backend polls.</summary>
    public void SuppressKicks()
    {
        if (_eventIdx)
        {
            // avail_event a ring behind what we read: vring_need_event stays false until the index space wraps.
            Volatile.Write(ref *_availEvent, (ushort)(_lastAvail - _size - 1));
            Volatile.Write(ref _used->Flags, 0);
        }
        else
        {
            Volatile.Write(ref _used->Flags, VringFlags.VRING_USED_F_NO_NOTIFY);
        }
    }
}
