using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Spec;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// Driver side of a split virtqueue (virtio 1.2 section 2.7): descriptor table, available ring written by us,
/// used ring written by the device. Descriptors come from a private free list, or, with IN_ORDER, sequentially
/// from offset 0 wrapping at the end of the table as 2.7.5 requires.
/// </summary>
internal unsafe struct SplitDriverRing : IDriverRing
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
    private bool _inOrder;
    private bool _eventIdx;

    private ushort _availIdx;      // next available-ring index we write (free-running)
    private ushort _kickedIdx;     // available index at the last notification decision
    private ushort _lastUsed;      // next used-ring index we read (free-running)
    private int _free;
    private ushort _freeHead;      // head of the free list, or the next sequential descriptor with IN_ORDER

    // Private per-descriptor state: the device never writes it, so a confused device cannot corrupt it.
    private ushort* _nextFree;     // free-list links; a chain's links stay in place while it is outstanding
    private nint* _tokens;         // per head descriptor
    private ushort* _chainLen;     // per head descriptor
    private uint* _postedLen;      // per head descriptor, total bytes offered
    private ushort* _postedHeads;  // heads in the order they were made available (IN_ORDER batches)
    private ushort _completeIdx;   // available index of the oldest outstanding buffer (IN_ORDER)
    private bool _inBatch;         // an IN_ORDER batch is being completed across PollUsed calls
    private ushort _batchId;
    private uint _batchLen;
    private ulong _deviceErrors;

    public readonly int Size => _size;

    public readonly int FreeDescriptors => _free;

    public readonly int Outstanding => (ushort)(_availIdx - _completeIdx);

    public readonly ushort NextBufferId => _freeHead;

    public readonly ulong DeviceErrors => _deviceErrors;

    public void Init(VringLayout layout, bool inOrder)
    {
        int n = layout.Size;
        _size = n;
        _mask = (ushort)(n - 1);
        _inOrder = inOrder;
        _desc = (VringDesc*)layout.Desc;
        _avail = (VringAvailHeader*)layout.Driver;
        _availRing = (ushort*)(layout.Driver + sizeof(VringAvailHeader));
        _usedEvent = _availRing + n;               // avail->ring[size] is used_event (vring_used_event)
        _used = (VringUsedHeader*)layout.Device;
        _usedRing = (VringUsedElem*)(layout.Device + sizeof(VringUsedHeader));
        _availEvent = (ushort*)(_usedRing + n);    // used->ring[size] is avail_event (vring_avail_event)
        _nextFree = (ushort*)NativeMemory.AllocZeroed((nuint)n, sizeof(ushort));
        _tokens = (nint*)NativeMemory.AllocZeroed((nuint)n, (nuint)sizeof(nint));
        _chainLen = (ushort*)NativeMemory.AllocZeroed((nuint)n, sizeof(ushort));
        _postedLen = (uint*)NativeMemory.AllocZeroed((nuint)n, sizeof(uint));
        _postedHeads = (ushort*)NativeMemory.AllocZeroed((nuint)n, sizeof(ushort));
        for (int i = 0; i < n; i++)
            _nextFree[i] = (ushort)((i + 1) & _mask);
        _free = n;
        _freeHead = 0;
        _availIdx = _kickedIdx = _lastUsed = _completeIdx = 0;
    }

    public void SetEventIdx(bool eventIdx) => _eventIdx = eventIdx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort AddBuffer(ulong addr, uint len, ushort flags, nint token)
    {
        ushort head = TakeDescriptor();
        VringDesc* d = _desc + head;
        d->Addr = addr;
        d->Len = len;
        d->Flags = flags;
        d->Next = 0;
        Offer(head, 1, len, token);
        return head;
    }

    public ushort AddChain(ulong* addrs, uint* lens, int count, ushort flags, nint token)
    {
        ushort head = _freeHead;
        uint total = 0;
        for (int i = 0; i < count; i++)
        {
            ushort idx = TakeDescriptor();
            VringDesc* d = _desc + idx;
            d->Addr = addrs[i];
            d->Len = lens[i];
            total += lens[i];
            bool last = i == count - 1;
            // With IN_ORDER, next must be x+1 (0 after the last entry): exactly where sequential allocation puts it.
            d->Next = last ? (ushort)0 : _inOrder ? (ushort)((idx + 1) & _mask) : _nextFree[idx];
            d->Flags = (ushort)(flags | (last ? 0 : VringFlags.VRING_DESC_F_NEXT));
        }
        Offer(head, (ushort)count, total, token);
        return head;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort TakeDescriptor()
    {
        ushort idx = _freeHead;
        _freeHead = _inOrder ? (ushort)((idx + 1) & _mask) : _nextFree[idx];
        _free--;
        return idx;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Offer(ushort head, ushort count, uint len, nint token)
    {
        _tokens[head] = token;
        _chainLen[head] = count;
        _postedLen[head] = len;
        _postedHeads[_availIdx & _mask] = head;
        _availRing[_availIdx & _mask] = head;
        _availIdx++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish()
    {
        // Release: the descriptors and ring entries written above are visible before the new index; pairs with
        // the device's acquire load of avail->idx (DeviceSplitRing.AvailableCount).
        Volatile.Write(ref _avail->Idx, _availIdx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool KickNeeded()
    {
        if (_kickedIdx == _availIdx)
            return false;
        // Full fence: our avail->idx store must be visible before we read the device's suppression state, or the
        // device may have just gone to sleep without seeing our buffers (2.7.13.4; Linux's virtio_mb here).
        Interlocked.MemoryBarrier();
        ushort old = _kickedIdx;
        _kickedIdx = _availIdx;
        if (_eventIdx)
            return VringFlags.NeedEvent(Volatile.Read(ref *_availEvent), _availIdx, old);
        return (Volatile.Read(ref _used->Flags) & VringFlags.VRING_USED_F_NO_NOTIFY) == 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PollUsed(nint* tokens, uint* lens, int max)
    {
        // Acquire: the used entries below were written before the index; pairs with the device's release store
        // of used->idx (DeviceSplitRing.FlushUsed).
        ushort usedIdx = Volatile.Read(ref _used->Idx);
        if (_inOrder)
            return PollUsedInOrder(usedIdx, tokens, lens, max);
        int n = 0;
        while (n < max && _lastUsed != usedIdx)
        {
            VringUsedElem e = _usedRing[_lastUsed & _mask];
            if (e.Id >= (uint)_size || _tokens[e.Id] == 0)
            {
                _deviceErrors++;
                break;
            }
            _lastUsed++;
            tokens[n] = Complete((ushort)e.Id);
            lens[n] = e.Len;
            n++;
        }
        return n;
    }

    // 2.7.9: with IN_ORDER the device may write one used entry for a batch, naming the last buffer; the buffers
    // before it, in the order we made them available, are used too (and skipped buffers count as fully used).
    private int PollUsedInOrder(ushort usedIdx, nint* tokens, uint* lens, int max)
    {
        int n = 0;
        while (n < max)
        {
            if (!_inBatch)
            {
                if (_lastUsed == usedIdx)
                    break;
                VringUsedElem e = _usedRing[_lastUsed & _mask];
                if (e.Id >= (uint)_size || _tokens[e.Id] == 0)
                {
                    _deviceErrors++;
                    break;
                }
                _lastUsed++;
                _batchId = (ushort)e.Id;
                _batchLen = e.Len;
                _inBatch = true;
            }
            ushort head = _postedHeads[_completeIdx & _mask];
            bool last = head == _batchId;
            lens[n] = last ? _batchLen : _postedLen[head];
            tokens[n] = Complete(head);
            n++;
            if (last)
                _inBatch = false;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint Complete(ushort head)
    {
        nint token = _tokens[head];
        _tokens[head] = 0;
        ushort count = _chainLen[head];
        _free += count;
        _completeIdx++;
        if (!_inOrder)
        {
            // The chain's links are the free-list links it was taken with: splice the whole chain back in front.
            ushort tail = head;
            for (int i = 1; i < count; i++)
                tail = _nextFree[tail];
            _nextFree[tail] = _freeHead;
            _freeHead = head;
        }
        return token;
    }

    public void SuppressDeviceNotifications()
    {
        if (_eventIdx)
        {
            // used_event a full ring behind where we read: vring_need_event stays false until the index space wraps.
            Volatile.Write(ref *_usedEvent, (ushort)(_lastUsed - _size - 1));
            Volatile.Write(ref _avail->Flags, 0);
        }
        else
        {
            Volatile.Write(ref _avail->Flags, VringFlags.VRING_AVAIL_F_NO_INTERRUPT);
        }
    }

    public readonly ushort ResumeIndex() => Volatile.Read(ref _used->Idx);

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
        NativeMemory.Free(_nextFree);
        NativeMemory.Free(_tokens);
        NativeMemory.Free(_chainLen);
        NativeMemory.Free(_postedLen);
        NativeMemory.Free(_postedHeads);
        _nextFree = null;
        _tokens = null;
        _chainLen = null;
        _postedLen = null;
        _postedHeads = null;
    }
}
