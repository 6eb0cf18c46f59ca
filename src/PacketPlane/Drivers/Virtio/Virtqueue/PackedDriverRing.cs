using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Spec;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// Driver side of a packed virtqueue (virtio 1.2 section 2.8): one descriptor ring both sides write, a driver
/// event suppression structure we write and a device event suppression structure the device writes. Buffer ids
/// come from a private free stack, or, with IN_ORDER, are the head's ring position so a batch the device reports
/// with one used descriptor (2.8.17) can be walked.
/// </summary>
internal unsafe struct PackedDriverRing : IDriverRing
{
    private const ushort AvailBit = 1 << VringFlags.VRING_PACKED_DESC_F_AVAIL;
    private const ushort UsedBit = 1 << VringFlags.VRING_PACKED_DESC_F_USED;

    private VringPackedDesc* _desc;
    private VringPackedEvent* _driverEvent;   // written by us: do we want used-buffer notifications
    private VringPackedEvent* _deviceEvent;   // written by the device: does it want available-buffer notifications
    private int _size;
    private bool _inOrder;
    private bool _eventIdx;

    private ushort _nextAvail;
    private bool _availWrap;
    private ushort _nextUsed;
    private bool _usedWrap;
    private int _free;
    private int _outstanding;
    private ushort _addedSinceKick;
    private bool _headPending;          // the first buffer added since the last Publish, not yet available
    private ushort _pendingPos;
    private ushort _pendingFlags;

    private ushort* _freeIds;     // stack of free buffer ids (without IN_ORDER)
    private int _freeIdCount;
    private nint* _tokens;        // per buffer id
    private ushort* _chainLen;    // per buffer id: descriptors the buffer occupies
    private uint* _postedLen;     // per buffer id: bytes offered
    private bool _inBatch;
    private ushort _batchId;
    private uint _batchLen;
    private ulong _deviceErrors;

    public readonly int Size => _size;

    public readonly int FreeDescriptors => _free;

    public readonly int Outstanding => _outstanding;

    public readonly ushort NextBufferId => _inOrder ? _nextAvail : _freeIds[_freeIdCount - 1];

    public readonly ulong DeviceErrors => _deviceErrors;

    public void Init(VringLayout layout, bool inOrder)
    {
        int n = layout.Size;
        _size = n;
        _inOrder = inOrder;
        _desc = (VringPackedDesc*)layout.Desc;
        _driverEvent = (VringPackedEvent*)layout.Driver;
        _deviceEvent = (VringPackedEvent*)layout.Device;
        _freeIds = (ushort*)NativeMemory.AllocZeroed((nuint)n, sizeof(ushort));
        _tokens = (nint*)NativeMemory.AllocZeroed((nuint)n, (nuint)sizeof(nint));
        _chainLen = (ushort*)NativeMemory.AllocZeroed((nuint)n, sizeof(ushort));
        _postedLen = (uint*)NativeMemory.AllocZeroed((nuint)n, sizeof(uint));
        for (int i = 0; i < n; i++)
            _freeIds[i] = (ushort)(n - 1 - i);   // pop order 0, 1, 2, ...
        _freeIdCount = n;
        _free = n;
        _outstanding = 0;
        _nextAvail = _nextUsed = 0;
        _availWrap = _usedWrap = true;            // 2.8.1: both wrap counters start at 1
        _headPending = false;
    }

    public void SetEventIdx(bool eventIdx) => _eventIdx = eventIdx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort AddBuffer(ulong addr, uint len, ushort flags, nint token)
    {
        ushort id = TakeId();
        ushort pos = _nextAvail;
        VringPackedDesc* d = _desc + pos;
        d->Addr = addr;
        d->Len = len;
        d->Id = id;
        ushort availFlags = (ushort)(flags | AvailFlags(_availWrap));
        Advance(ref _nextAvail, ref _availWrap, 1);
        Record(id, 1, len, token);
        MakeAvailable(pos, availFlags);
        return id;
    }

    public ushort AddChain(ulong* addrs, uint* lens, int count, ushort flags, nint token)
    {
        ushort id = TakeId();
        ushort headPos = _nextAvail;
        ushort headFlags = 0;
        uint total = 0;
        for (int i = 0; i < count; i++)
        {
            VringPackedDesc* d = _desc + _nextAvail;
            d->Addr = addrs[i];
            d->Len = lens[i];
            d->Id = id;                          // 2.8.6: the id belongs in the last descriptor; every one carries it
            total += lens[i];
            ushort f = (ushort)(flags | (i == count - 1 ? 0 : VringFlags.VRING_DESC_F_NEXT) | AvailFlags(_availWrap));
            if (i == 0)
                headFlags = f;
            else
                d->Flags = f;
            Advance(ref _nextAvail, ref _availWrap, 1);
        }
        Record(id, (ushort)count, total, token);
        // 2.8.6: the head turns available last, so the device never sees a partial chain.
        MakeAvailable(headPos, headFlags);
        return id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort AvailFlags(bool wrap) => wrap ? AvailBit : UsedBit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort TakeId() => _inOrder ? _nextAvail : _freeIds[--_freeIdCount];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Record(ushort id, ushort count, uint len, nint token)
    {
        _tokens[id] = token;
        _chainLen[id] = count;
        _postedLen[id] = len;
        _free -= count;
        _outstanding++;
        _addedSinceKick += count;
    }

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

    /// <summary>
    /// Makes the buffer whose head is at <paramref name="pos"/> available, except the first one since the last
    /// <see cref="Publish"/>, whose flags wait for it. The device walks the ring in order and stops at the first
    /// descriptor that is not available, so holding back the burst's first head holds back the whole burst: the
    /// device then sees it all at once instead of chasing the driver descriptor by descriptor, with the cache
    /// line of the descriptor being written moving between the two cores for every packet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MakeAvailable(ushort pos, ushort flags)
    {
        if (!_headPending)
        {
            _headPending = true;
            _pendingPos = pos;
            _pendingFlags = flags;
            return;
        }
        // Release: address, length and id are visible before the descriptor turns available; pairs with the
        // device's acquire load of the flags (DevicePackedRing.PeekAvailable).
        Volatile.Write(ref _desc[pos].Flags, flags);
    }

    /// <summary>Makes the burst available: the first head's flags, stored last (release), after every other descriptor of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish()
    {
        if (!_headPending)
            return;
        _headPending = false;
        Volatile.Write(ref _desc[_pendingPos].Flags, _pendingFlags);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool KickNeeded()
    {
        if (_addedSinceKick == 0)
            return false;
        // Full fence: our flag stores must be visible before we read the device's suppression structure (2.8.21).
        Interlocked.MemoryBarrier();
        ushort added = _addedSinceKick;
        _addedSinceKick = 0;
        ushort flags = Volatile.Read(ref _deviceEvent->Flags);
        if (flags == VringFlags.VRING_PACKED_EVENT_FLAG_DISABLE)
            return false;
        if (flags != VringFlags.VRING_PACKED_EVENT_FLAG_DESC || !_eventIdx)
            return true;
        // 2.8.10: notify when the device's chosen position (with its wrap counter) lies in what we just added.
        ushort offWrap = Volatile.Read(ref _deviceEvent->OffWrap);
        ushort eventIdx = (ushort)(offWrap & 0x7fff);
        bool eventWrap = (offWrap >> VringFlags.VRING_PACKED_EVENT_F_WRAP_CTR) != 0;
        if (eventWrap != _availWrap)
            eventIdx -= (ushort)_size;
        return VringFlags.NeedEvent(eventIdx, _nextAvail, (ushort)(_nextAvail - added));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PollUsed(nint* tokens, uint* lens, int max)
    {
        int n = 0;
        while (n < max)
        {
            if (_inOrder && _inBatch)
            {
                CompleteInOrderStep(tokens, lens, ref n);
                continue;
            }
            VringPackedDesc* d = _desc + _nextUsed;
            // Acquire: id and length were written before the flags; pairs with the device's release store of the
            // flags (DevicePackedRing.MarkUsed).
            ushort flags = Volatile.Read(ref d->Flags);
            if (!IsUsed(flags))
                break;
            ushort id = d->Id;
            if (id >= _size || _tokens[id] == 0)
            {
                _deviceErrors++;
                break;
            }
            if (_inOrder)
            {
                _batchId = id;
                _batchLen = d->Len;
                _inBatch = true;
                continue;
            }
            ushort count = _chainLen[id];
            lens[n] = d->Len;
            tokens[n++] = Release(id);
            _freeIds[_freeIdCount++] = id;
            Advance(ref _nextUsed, ref _usedWrap, count);
        }
        return n;
    }

    // IN_ORDER: buffer ids are head positions, so the buffers of a batch are walked from _nextUsed up to the id
    // the device wrote; the skipped ones count as fully used (2.8.17).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CompleteInOrderStep(nint* tokens, uint* lens, ref int n)
    {
        ushort id = _nextUsed;
        bool last = id == _batchId;
        ushort count = _chainLen[id];
        lens[n] = last ? _batchLen : _postedLen[id];
        tokens[n++] = Release(id);
        Advance(ref _nextUsed, ref _usedWrap, count);
        if (last)
            _inBatch = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool IsUsed(ushort flags)
    {
        // 2.8.1: used when AVAIL == USED == our used wrap counter.
        bool avail = (flags & AvailBit) != 0;
        bool used = (flags & UsedBit) != 0;
        return avail == used && used == _usedWrap;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint Release(ushort id)
    {
        nint token = _tokens[id];
        _tokens[id] = 0;
        _free += _chainLen[id];
        _outstanding--;
        return token;
    }

    public void SuppressDeviceNotifications() =>
        Volatile.Write(ref _driverEvent->Flags, VringFlags.VRING_PACKED_EVENT_FLAG_DISABLE);

    public readonly ushort ResumeIndex()
    {
        // The device resumes at the first position it has not written a used descriptor to: walk past used
        // descriptors we have not consumed yet (a stopped or vanished device writes nothing more).
        ushort pos = _nextUsed;
        bool wrap = _usedWrap;
        int seen = 0;
        while (seen < _outstanding)
        {
            ushort flags = Volatile.Read(ref _desc[pos].Flags);
            bool avail = (flags & AvailBit) != 0, used = (flags & UsedBit) != 0;
            if (!(avail == used && used == wrap))
                break;
            ushort id = _desc[pos].Id;
            if (id >= _size || _chainLen[id] == 0)
                break;
            // With IN_ORDER one used descriptor may stand for every buffer up to the one it names.
            int count = _inOrder ? (id - pos + _size) % _size + _chainLen[id] : _chainLen[id];
            Advance(ref pos, ref wrap, count);
            seen++;
        }
        return (ushort)(pos | (wrap ? 1 << 15 : 0));
    }

    public int DrainOutstanding(nint* tokens, int max)
    {
        int n = 0;
        for (int i = 0; i < _size && n < max; i++)
        {
            if (_tokens[i] != 0)
            {
                tokens[n++] = _tokens[i];
                _tokens[i] = 0;
            }
        }
        return n;
    }

    public void Dispose()
    {
        NativeMemory.Free(_freeIds);
        NativeMemory.Free(_tokens);
        NativeMemory.Free(_chainLen);
        NativeMemory.Free(_postedLen);
        _freeIds = null;
        _tokens = null;
        _chainLen = null;
        _postedLen = null;
    }
}
