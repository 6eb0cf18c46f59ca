using System;
using System.Runtime.CompilerServices;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// Backend receive: takes the packets the frontend put on its transmit vring (2N+1), copies each into an mbuf chain
/// from our pool (skipping the virtio-net header), and gives the buffers back as used. Malformed chains are
/// returned to the frontend and counted, never followed.
/// </summary>
internal sealed unsafe class VhostRxQueue : RxQueue
{
    /// <summary>Largest packet accepted (bytes after the header); a bigger one is dropped and counted.</summary>
    private const uint MaxPacket = 65535;

    private readonly VhostVring _vring;
    private readonly MbufPool _pool;
    private SegmentList _segs = SegmentList.Allocate();

    public VhostRxQueue(ushort portId, int queueId, VhostVring vring, MbufPool pool) : base(portId, queueId)
    {
        _vring = vring;
        _pool = pool;
    }

    public override int RxBurst(Span<Packet> packets)
    {
        VhostVring v = _vring;
        if (packets.IsEmpty || !v.Gate.TryEnter())
            return 0;
        int n;
        fixed (Packet* p = packets)
            n = v.IsPacked ? DequeuePacked(v, (Mbuf**)p, packets.Length) : DequeueSplit(v, (Mbuf**)p, packets.Length);
        v.Gate.Exit();
        return n;
    }

    private int DequeueSplit(VhostVring v, Mbuf** mbufs, int max)
    {
        ref DeviceSplitRing ring = ref v.Split;
        int avail = ring.AvailableCount();
        if (avail <= 0)
        {
            if (avail < 0)
                v.MalformedChains++;
            return 0;
        }
        int want = Math.Min(avail, max);
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        if (!_pool.GetBulkRaw(mbufs, (uint)want, cache))
        {
            Counters.NoMbuf += (ulong)want;
            return 0;
        }
        int got = 0;
        ulong bytes = 0;
        GuestMemory mem = v.Memory!;
        for (int i = 0; i < want; i++)
        {
            if (!ring.TryTakeHead(out ushort head))
            {
                v.MalformedChains++;
                break;
            }
            _segs.Count = 0;
            int descs = GuestChains.MapSplit(ring.Descriptors, ring.Size, mem, head, writable: false, ref _segs, out uint capacity);
            ring.PushUsed(head, 0);
            if (descs < 0 || !Assemble(mbufs[got], v.HeaderSize, capacity, cache))
            {
                Counters.Errors++;
                if (descs < 0)
                    v.MalformedChains++;
                continue;
            }
            bytes += mbufs[got]->PktLen;
            got++;
        }
        ring.FlushUsed();
        if (ring.CallNeeded())
            EventFd.Signal(v.CallFd);
        ReturnUnused(mbufs, got, want, cache);
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        return got;
    }

    private int DequeuePacked(VhostVring v, Mbuf** mbufs, int max)
    {
        ref DevicePackedRing ring = ref v.PackedRing;
        if (!ring.IsAvailable())
            return 0;
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        if (!_pool.GetBulkRaw(mbufs, (uint)max, cache))
        {
            Counters.NoMbuf += (ulong)max;
            return 0;
        }
        int got = 0;
        ulong bytes = 0;
        GuestMemory mem = v.Memory!;
        for (int i = 0; i < max && ring.IsAvailable(); i++)
        {
            _segs.Count = 0;
            int descs = GuestChains.MapPacked(ref ring, mem, 0, writable: false, ref _segs, out uint capacity, out ushort id);
            if (descs < 0)
            {
                // Give back what we can name: the head descriptor alone, with the id it carries.
                v.MalformedChains++;
                Counters.Errors++;
                ring.MarkUsed(ring.Descriptors[ring.LastAvail].Id, 0, 1, written: false);
                ring.ConsumeAvail(1);
                continue;
            }
            ring.ConsumeAvail(descs);
            ring.MarkUsed(id, 0, descs, written: false);
            if (!Assemble(mbufs[got], v.HeaderSize, capacity, cache))
            {
                Counters.Errors++;
                continue;
            }
            bytes += mbufs[got]->PktLen;
            got++;
        }
        if (ring.CallNeeded())
            EventFd.Signal(v.CallFd);
        ReturnUnused(mbufs, got, max, cache);
        Counters.Packets += (ulong)got;
        Counters.Bytes += bytes;
        return got;
    }

    /// <summary>Copies the gathered segments, minus the header, into <paramref name="head"/> and more mbufs as needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Assemble(Mbuf* head, int headerSize, uint capacity, MempoolCache? cache)
    {
        if (capacity < (uint)headerSize || capacity - (uint)headerSize > MaxPacket)
            return false;
        _pool.ResetForAlloc(head);
        head->Port = PortId;
        uint skip = (uint)headerSize;
        Mbuf* seg = head;
        uint room = (uint)(seg->BufLen - seg->DataOff);
        for (int s = 0; s < _segs.Count; s++)
        {
            byte* src = _segs.Ptr[s];
            uint len = _segs.Len[s];
            if (skip > 0)
            {
                uint k = Math.Min(skip, len);
                src += k;
                len -= k;
                skip -= k;
            }
            while (len > 0)
            {
                if (seg->DataLen == room && !AppendSegment(head, ref seg, ref room, cache))
                    return false;
                uint chunk = Math.Min(len, room - seg->DataLen);
                Unsafe.CopyBlockUnaligned(seg->BufAddr + seg->DataOff + seg->DataLen, src, chunk);
                seg->DataLen += (ushort)chunk;
                head->PktLen += chunk;
                src += chunk;
                len -= chunk;
            }
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AppendSegment(Mbuf* head, ref Mbuf* tail, ref uint room, MempoolCache? cache)
    {
        Mbuf* next;
        if (!_pool.GetBulkRaw(&next, 1, cache))
        {
            Counters.NoMbuf++;
            FreeTail(head);
            return false;
        }
        _pool.ResetForAlloc(next);
        tail->Next = next;
        head->NbSegs++;
        tail = next;
        room = (uint)(next->BufLen - next->DataOff);
        return true;
    }

    // A failed assembly keeps the head (reused for the next packet) and returns the extra segments.
    private static void FreeTail(Mbuf* head)
    {
        Mbuf* extra = head->Next;
        head->Next = null;
        head->NbSegs = 1;
        if (extra != null)
            MbufPool.FreeBulkRaw(&extra, 1);
    }

    private void ReturnUnused(Mbuf** mbufs, int used, int taken, MempoolCache? cache)
    {
        // Mbufs of dropped packets may carry extra segments from a failed assembly: free them as chains.
        for (int i = used; i < taken; i++)
            FreeTail(mbufs[i]);
        if (taken > used)
            _pool.PutBulkRaw(mbufs + used, (uint)(taken - used), cache);
    }

    protected internal override void Release()
    {
        _segs.Free();
    }
}
