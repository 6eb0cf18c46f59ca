using System;
using System.Runtime.CompilerServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// Backend transmit: copies each packet into the receive buffers the frontend posted on vring 2N, header first.
/// With MRG_RXBUF a packet may fill several buffers (num_buffers says how many, virtio 1.2 5.1.6.4); without it
/// it must fit one buffer, or it is dropped and counted. Packets are taken (and freed) once copied; when the
/// frontend has no buffers left the rest stay the caller's.
/// </summary>
internal sealed unsafe class VhostTxQueue : TxQueue
{
    /// <summary>Most receive buffers one merged packet may use.</summary>
    private const int MaxBuffersPerPacket = 64;

    private readonly VhostVring _vring;
    private SegmentList _segs = SegmentList.Allocate();
    // Per buffer of the packet being placed: first segment, segment count, descriptors, id, capacity.
    private readonly int[] _bufSegStart = GC.AllocateArray<int>(MaxBuffersPerPacket + 1, pinned: true);
    private readonly uint[] _bufCapacity = GC.AllocateArray<uint>(MaxBuffersPerPacket, pinned: true);
    private readonly ushort[] _bufId = GC.AllocateArray<ushort>(MaxBuffersPerPacket, pinned: true);
    private readonly int[] _bufDescs = GC.AllocateArray<int>(MaxBuffersPerPacket, pinned: true);

    public VhostTxQueue(ushort portId, int queueId, VhostVring vring) : base(portId, queueId) => _vring = vring;

    public override int TxBurst(Span<Packet> packets)
    {
        VhostVring v = _vring;
        if (packets.IsEmpty || !v.Gate.TryEnter())
            return 0;
        int taken;
        ulong bytes = 0;
        int dropped = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            taken = v.IsPacked
                ? EnqueuePacked(v, mbufs, packets.Length, ref bytes, ref dropped)
                : EnqueueSplit(v, mbufs, packets.Length, ref bytes, ref dropped);
            v.Gate.Exit();
            MbufPool.FreeBulkRaw(mbufs, (uint)taken);
        }
        Counters.Packets += (ulong)(taken - dropped);
        Counters.Bytes += bytes;
        Counters.Errors += (ulong)dropped;
        return taken;
    }

    private int EnqueueSplit(VhostVring v, Mbuf** mbufs, int n, ref ulong bytes, ref int dropped)
    {
        ref DeviceSplitRing ring = ref v.Split;
        int avail = ring.AvailableCount();
        if (avail <= 0)
        {
            if (avail < 0)
                v.MalformedChains++;
            return 0;
        }
        GuestMemory mem = v.Memory!;
        int hdr = v.HeaderSize;
        int taken = 0;
        PrefetchDescriptors(ref ring, Math.Min(n, avail));
        for (; taken < n; taken++)
        {
            Mbuf* m = mbufs[taken];
            ulong need = (ulong)hdr + m->PktLen;
            int buffers = 0;
            _segs.Count = 0;
            ulong capacity = 0;
            bool malformed = false;
            // Gather buffers until the packet fits: one without MRG_RXBUF, as many as needed with it.
            while (capacity < need && (buffers == 0 || v.MergeRxBuffers) && buffers < MaxBuffersPerPacket && buffers < avail)
            {
                if (!ring.TryPeekHead(buffers, out ushort head))
                {
                    v.MalformedChains++;      // a head we cannot even name back: leave the ring as it is
                    goto done;
                }
                _bufSegStart[buffers] = _segs.Count;
                _bufId[buffers] = head;
                int descs = GuestChains.MapSplit(ring.Descriptors, ring.Size, mem, head, writable: true, ref _segs, out uint cap);
                buffers++;
                if (descs < 0)
                {
                    malformed = true;
                    break;
                }
                _bufCapacity[buffers - 1] = cap;
                capacity += cap;
            }
            if (malformed)
            {
                // Hand the buffers of this attempt back empty (the bad one included) and retry the packet.
                v.MalformedChains++;
                for (int b = 0; b < buffers; b++)
                    ring.PushUsed(_bufId[b], 0);
                ring.Skip(buffers);
                avail -= buffers;
                if (avail <= 0)
                    break;
                taken--;
                continue;
            }
            if (capacity < need)
            {
                if (!v.MergeRxBuffers && buffers == 1)
                {
                    dropped++;       // can never fit one buffer: drop rather than stall the ring
                    continue;
                }
                break;               // out of buffers: the rest stay the caller's
            }
            _bufSegStart[buffers] = _segs.Count;
            WritePacket(m, hdr, buffers, v.MergeRxBuffers);
            for (int b = 0; b < buffers; b++)
                ring.PushUsed(_bufId[b], _bufCapacity[b]);
            ring.Skip(buffers);
            avail -= buffers;
            bytes += m->PktLen;
            if (avail == 0)
            {
                taken++;
                break;
            }
        }
    done:
        ring.FlushUsed();
        if (ring.CallNeeded())
            EventFd.Signal(v.CallFd);
        return taken;
    }

    /// <summary>
    /// Reads the burst's first <paramref name="count"/> available heads and prefetches their descriptors before the
    /// first copy. The driver rewrites a descriptor each time it refills it, so on this core every descriptor line
    /// is a miss; met one packet at a time, behind the previous packet's copy, the misses came one after another
    /// (perf, DPDK's virtio-user receiving from this backend: 84 % of the samples in this method, half of them on
    /// the head and descriptor loads). Issued together here, they overlap. Heads that are out of range are left to
    /// the loop, which reports them. Prefetching the buffers as well (a second pass translating each descriptor's
    /// address) measured no better.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchDescriptors(ref DeviceSplitRing ring, int count)
    {
        VringDesc* descriptors = ring.Descriptors;
        for (int k = 0; k < count; k++)
        {
            if (ring.TryPeekHead(k, out ushort head))
                CpuPrefetch.Read(descriptors + head);
        }
    }

    private int EnqueuePacked(VhostVring v, Mbuf** mbufs, int n, ref ulong bytes, ref int dropped)
    {
        ref DevicePackedRing ring = ref v.PackedRing;
        GuestMemory mem = v.Memory!;
        int hdr = v.HeaderSize;
        int taken = 0;
        // The burst turns used at once: every used descriptor but the burst's first is written (flags too) as we
        // go, and the first one's flags last. The driver reads used descriptors in ring order, so it sees nothing
        // until then, and does not pull the cache lines we are still writing back and forth packet by packet.
        var burst = new UsedBurst();
        for (; taken < n; taken++)
        {
            Mbuf* m = mbufs[taken];
            ulong need = (ulong)hdr + m->PktLen;
            int buffers = 0;
            int offset = 0;
            _segs.Count = 0;
            ulong capacity = 0;
            bool malformed = false;
            while (capacity < need && (buffers == 0 || v.MergeRxBuffers) && buffers < MaxBuffersPerPacket)
            {
                if (!ring.IsAvailableAt(offset))
                    break;
                _bufSegStart[buffers] = _segs.Count;
                int descs = GuestChains.MapPacked(ref ring, mem, offset, writable: true, ref _segs, out uint cap, out ushort id);
                if (descs < 0)
                {
                    malformed = true;
                    break;
                }
                _bufId[buffers] = id;
                _bufDescs[buffers] = descs;
                _bufCapacity[buffers] = cap;
                capacity += cap;
                offset += descs;
                buffers++;
            }
            if (malformed)
            {
                // Complete the earlier buffers of this attempt untouched, then the bad head alone, and retry.
                v.MalformedChains++;
                for (int b = 0; b < buffers; b++)
                {
                    ring.ConsumeAvail(_bufDescs[b]);
                    burst.Add(ref ring, _bufId[b], 0, _bufDescs[b], written: false);
                }
                burst.Add(ref ring, ring.Descriptors[ring.LastAvail].Id, 0, 1, written: false);
                ring.ConsumeAvail(1);
                taken--;
                continue;
            }
            if (capacity < need)
            {
                if (!v.MergeRxBuffers && buffers == 1)
                {
                    dropped++;
                    continue;
                }
                break;
            }
            _bufSegStart[buffers] = _segs.Count;
            WritePacket(m, hdr, buffers, v.MergeRxBuffers);
            for (int b = 0; b < buffers; b++)
            {
                ring.ConsumeAvail(_bufDescs[b]);
                burst.Add(ref ring, _bufId[b], _bufCapacity[b], _bufDescs[b], written: true);
            }
            bytes += m->PktLen;
        }
        burst.Publish(ref ring);
        if (ring.CallNeeded())
            EventFd.Signal(v.CallFd);
        return taken;
    }

    /// <summary>
    /// Used descriptors of one packed-ring burst, made visible together: the first one's flags are held back and
    /// stored after all the others (DPDK's shadow used ring does the same). That also keeps 5.1.6.4's rule that the
    /// driver sees every buffer of a merged packet used together.
    /// </summary>
    private struct UsedBurst
    {
        private ushort _firstPos;
        private ushort _firstFlags;
        private bool _pending;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(ref DevicePackedRing ring, ushort id, uint len, int descs, bool written)
        {
            ushort pos = ring.WriteUsed(id, len, descs, written, out ushort flags);
            if (_pending)
            {
                ring.PublishUsed(pos, flags);
                return;
            }
            _firstPos = pos;
            _firstFlags = flags;
            _pending = true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Publish(ref DevicePackedRing ring)
        {
            if (_pending)
                ring.PublishUsed(_firstPos, _firstFlags);
            _pending = false;
        }
    }

    /// <summary>
    /// Writes the header and the packet across the gathered buffers, and replaces each buffer's capacity with the
    /// bytes written into it (the used length).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WritePacket(Mbuf* m, int hdr, int buffers, bool merged)
    {
        ushort numBuffers = (ushort)(merged ? buffers : 1);
        int seg = 0;
        uint segOff = 0;
        int buffer = 0;
        uint written = 0;
        if (_segs.Len[0] >= (uint)hdr)
        {
            // The usual case: the header fits the first segment, so it is two stores rather than a copy.
            WriteHeader(_segs.Ptr[0], hdr, numBuffers);
            segOff = written = (uint)hdr;
        }
        else
        {
            byte* header = stackalloc byte[VirtioNet.HeaderSizeModern];
            WriteHeader(header, hdr, numBuffers);
            CopyOut(header, (uint)hdr, ref seg, ref segOff, ref buffer, ref written);
        }
        for (Mbuf* s = m; s != null; s = s->Next)
            CopyOut(s->BufAddr + s->DataOff, s->DataLen, ref seg, ref segOff, ref buffer, ref written);
        _bufCapacity[buffer] = written;
        for (int b = buffer + 1; b < buffers; b++)
            _bufCapacity[b] = 0;
    }

    /// <summary>
    /// virtio_net_hdr (10 bytes) or virtio_net_hdr_v1 (12): no offloads, so all zero but num_buffers, which is 1
    /// unless MRG_RXBUF spreads the packet (5.1.6.4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteHeader(byte* p, int hdr, ushort numBuffers)
    {
        Unsafe.WriteUnaligned(p, 0UL);
        if (hdr == VirtioNet.HeaderSizeModern)
            Unsafe.WriteUnaligned(p + 8, (uint)numBuffers << (8 * (VirtioNet.NumBuffersOffset - 8)));
        else
            Unsafe.WriteUnaligned(p + 8, (ushort)0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyOut(byte* src, uint len, ref int seg, ref uint segOff, ref int buffer, ref uint written)
    {
        while (len > 0)
        {
            uint room = _segs.Len[seg] - segOff;
            if (room == 0)
            {
                seg++;
                segOff = 0;
                if (seg == _bufSegStart[buffer + 1])
                {
                    _bufCapacity[buffer] = written;   // this buffer is full: its used length is what it got
                    buffer++;
                    written = 0;
                }
                continue;
            }
            uint chunk = Math.Min(room, len);
            // 32-byte moves inline instead of a memmove call, whose dispatch cost more than a frame-sized copy.
            BulkCopy.Forward(_segs.Ptr[seg] + segOff, src, chunk);
            segOff += chunk;
            written += chunk;
            src += chunk;
            len -= chunk;
        }
    }

    protected internal override void Release() => _segs.Free();
}
