using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Tap;

/// <summary>
/// Receives from one TAP queue file: each frame is read with readv() straight into the data rooms of a chain
/// of mbufs kept armed in advance (as many as the largest frame the MTU allows needs), so there is no bounce
/// buffer and no copy. The segments a frame used are handed out and replaced from the pool.
/// </summary>
internal sealed unsafe class TapRxQueue : RxQueue
{
    /// <summary>Most segments a frame may span (64 x 2 KiB covers the largest TAP frame).</summary>
    internal const int MaxSegments = 64;

    private readonly MbufPool _pool;
    private readonly int _fd;
    private readonly uint _room;
    private readonly nint[] _slotArray = GC.AllocateArray<nint>(MaxSegments, pinned: true);
    private readonly Libc.iovec[] _iovArray = GC.AllocateArray<Libc.iovec>(MaxSegments, pinned: true);
    private readonly Mbuf** _slots;
    private readonly Libc.iovec* _iov;
    private int _armed;
    private int _want = 1;
    private bool _gone;

    public TapRxQueue(ushort portId, int queueId, MbufPool pool, int fd) : base(portId, queueId)
    {
        _pool = pool;
        _fd = fd;
        _room = (uint)(pool.DataRoomSize - pool.Headroom);
        _slots = (Mbuf**)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slotArray));
        _iov = (Libc.iovec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iovArray));
    }

    /// <summary>The queue's file.</summary>
    internal int Fd => _fd;

    /// <summary>Frames larger than the armed chain (the kernel cut them short), dropped and counted as errors.</summary>
    internal ulong Oversize;

    /// <summary>Mbufs the queue holds armed for the next read.</summary>
    internal int Armed => _armed;

    /// <summary>Arms enough segments for frames of <paramref name="frameBytes"/> (the MTU plus Ethernet and VLAN headers).</summary>
    internal void SetMaxFrame(int frameBytes) =>
        _want = (int)Math.Clamp((frameBytes + _room - 1) / _room, 1, MaxSegments);

    public override int RxBurst(Span<Packet> packets)
    {
        if (_gone || packets.IsEmpty)
            return 0;
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        int n = 0;
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** received = (Mbuf**)p;
            while (n < packets.Length)
            {
                if (_armed < _want && !Refill(cache))
                {
                    Counters.NoMbuf++;
                    break;
                }
                nint r = Libc.readv(_fd, _iov, _armed);
                if (r <= 0)
                {
                    if (r < 0)
                        ReadFailed(Libc.LastErrno);
                    break;
                }
                if ((ulong)r > (ulong)_armed * _room)
                {
                    // tun_put_user copies what fits and reports the whole length: the frame was cut.
                    Oversize++;
                    Counters.Errors++;
                    continue;
                }
                received[n++] = TakePacket((uint)r);
                bytes += (ulong)r;
            }
        }
        Counters.Packets += (ulong)n;
        Counters.Bytes += bytes;
        return n;
    }

    /// <summary>Chains the first segments a <paramref name="length"/>-byte read filled into a packet and re-packs the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Mbuf* TakePacket(uint length)
    {
        uint segments = (length + _room - 1) / _room;
        Mbuf* head = _slots[0];
        uint left = length;
        Mbuf* prev = null;
        for (uint i = 0; i < segments; i++)
        {
            Mbuf* seg = _slots[i];
            seg->DataLen = (ushort)Math.Min(left, _room);
            left -= seg->DataLen;
            if (prev != null)
                prev->Next = seg;
            prev = seg;
        }
        head->PktLen = length;
        head->NbSegs = (ushort)segments;
        head->Port = PortId;
        int rest = _armed - (int)segments;
        for (int j = 0; j < rest; j++)
        {
            _slots[j] = _slots[j + segments];
            _iov[j] = _iov[j + segments];
        }
        _armed = rest;
        return head;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Refill(MempoolCache? cache)
    {
        uint need = (uint)(_want - _armed);
        if (!_pool.GetBulkRaw(_slots + _armed, need, cache))
            return false;
        for (int i = _armed; i < _want; i++)
        {
            Mbuf* m = _slots[i];
            _pool.ResetForAlloc(m);
            _iov[i].iov_base = m->BufAddr + m->DataOff;
            _iov[i].iov_len = _room;
        }
        _armed = _want;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReadFailed(int errno)
    {
        if (errno == Libc.EAGAIN || errno == Libc.EINTR)
            return;
        Counters.Errors++;
        // EBADFD: the interface was deleted under us; the file can never carry frames again.
        if (errno == Libc.EBADFD)
            _gone = true;
    }

    /// <summary>Returns the armed mbufs to the pool.</summary>
    protected internal override void Release()
    {
        if (_armed > 0)
            _pool.PutBulkRaw(_slots, (uint)_armed, null);
        _armed = 0;
    }
}
