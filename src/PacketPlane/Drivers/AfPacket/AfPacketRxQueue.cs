using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// Receives from a TPACKET_V2 RX ring: frames the kernel marked TP_STATUS_USER are copied into mbufs and handed
/// back (TP_STATUS_KERNEL) at once, so the ring is never held by the application. The copy is what PACKET_MMAP
/// costs: the ring is kernel memory, mbufs are ours (DPDK's af_packet copies too).
/// </summary>
internal sealed unsafe class AfPacketRxQueue(ushort portId, int queueId, MbufPool pool, bool vlanStrip)
    : RxQueue(portId, queueId)
{
    private readonly int _room = pool.DataRoomSize - pool.Headroom;
    private nint* _frames;
    private uint _frameCount;
    private uint _next;

    /// <summary>Frames the kernel cut short (larger than framesz allows), dropped and counted as errors.</summary>
    internal ulong Truncated;

    /// <summary>Frames larger than an mbuf's data room, dropped and counted as errors.</summary>
    internal ulong Oversize;

    /// <summary>Starts reading <paramref name="socket"/>'s RX ring from its first frame.</summary>
    internal void Attach(PacketSocket socket)
    {
        _next = 0;
        _frameCount = (uint)socket.RxFrameCount;
        _frames = socket.RxFrames;
    }

    /// <summary>Forgets the ring (before it is unmapped); bursts then return 0.</summary>
    internal void Detach()
    {
        _frameCount = 0;
        _frames = null;
    }

    public override int RxBurst(Span<Packet> packets)
    {
        nint* frames = _frames;
        if (frames == null || packets.IsEmpty)
            return 0;
        uint ready = CountReady(frames, (uint)packets.Length);
        if (ready == 0)
            return 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            // Frames stay in the ring when the pool is dry: the kernel counts what it then drops in tp_drops.
            if (!pool.GetBulkRaw(mbufs, ready, pool.CacheFor(Lcore.CurrentId)))
            {
                Counters.NoMbuf += ready;
                return 0;
            }
            return CopyOut(frames, mbufs, ready);
        }
    }

    /// <summary>Frames ready for us from <see cref="_next"/> on, up to <paramref name="max"/> and at most one lap of the ring.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint CountReady(nint* frames, uint max)
    {
        uint count = _frameCount;
        uint idx = _next;
        if (max > count)
            max = count;
        uint ready = 0;
        while (ready < max)
        {
            var hdr = (Libc.tpacket2_hdr*)frames[idx];
            // Acquire: pairs with the kernel's smp_wmb() before it stores TP_STATUS_USER (__packet_set_status),
            // so the frame's header and data are visible once the status is.
            if ((Volatile.Read(ref hdr->tp_status) & Libc.TP_STATUS_USER) == 0)
                break;
            ready++;
            if (++idx == count)
                idx = 0;
        }
        return ready;
    }

    private int CopyOut(nint* frames, Mbuf** mbufs, uint ready)
    {
        uint count = _frameCount;
        uint idx = _next;
        uint delivered = 0;
        ulong bytes = 0;
        for (uint i = 0; i < ready; i++)
        {
            var hdr = (Libc.tpacket2_hdr*)frames[idx];
            Mbuf* m = mbufs[delivered];
            if (CopyFrame(hdr, m))
            {
                bytes += m->PktLen;
                delivered++;
            }
            // Release: our reads of the frame are done before the kernel may refill it; pairs with the
            // kernel's read of tp_status in packet_current_rx_frame.
            Volatile.Write(ref hdr->tp_status, Libc.TP_STATUS_KERNEL);
            if (++idx == count)
                idx = 0;
        }
        _next = idx;
        if (delivered < ready)
            pool.PutBulkRaw(mbufs + delivered, ready - delivered, pool.CacheFor(Lcore.CurrentId));
        Counters.Packets += delivered;
        Counters.Bytes += bytes;
        return (int)delivered;
    }

    /// <summary>Copies one ring frame into <paramref name="m"/>; false (counted) when it cannot be delivered whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool CopyFrame(Libc.tpacket2_hdr* hdr, Mbuf* m)
    {
        uint status = hdr->tp_status;
        uint snap = hdr->tp_snaplen;
        if (snap < hdr->tp_len)
        {
            Truncated++;
            Counters.Errors++;
            return false;
        }
        // The kernel moves a VLAN tag into tp_vlan_tci; put it back into the frame unless the application asked
        // for stripping (DPDK's af_packet does the same), so the port delivers the frame as it was on the wire.
        bool vlan = (status & Libc.TP_STATUS_VLAN_VALID) != 0;
        bool reinsert = vlan && !vlanStrip;
        uint length = snap + (reinsert ? 4u : 0u);
        if (length > (uint)_room || snap < 12)
        {
            Oversize++;
            Counters.Errors++;
            return false;
        }
        pool.ResetForAlloc(m);
        byte* src = (byte*)hdr + hdr->tp_mac;
        byte* dst = m->BufAddr + m->DataOff;
        if (reinsert)
            CopyWithVlanTag(hdr, status, src, dst, snap);
        else
            Unsafe.CopyBlockUnaligned(dst, src, snap);
        m->DataLen = (ushort)length;
        m->PktLen = length;
        m->Port = PortId;
        if (vlan)
        {
            m->VlanTci = hdr->tp_vlan_tci;
            m->OlFlags = reinsert ? OffloadFlags.RxVlan : OffloadFlags.RxVlan | OffloadFlags.RxVlanStripped;
        }
        return true;
    }

    private static void CopyWithVlanTag(Libc.tpacket2_hdr* hdr, uint status, byte* src, byte* dst, uint snap)
    {
        ushort tpid = (status & Libc.TP_STATUS_VLAN_TPID_VALID) != 0 ? hdr->tp_vlan_tpid : (ushort)0x8100;
        Unsafe.CopyBlockUnaligned(dst, src, 12);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 12, 2), tpid);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 14, 2), hdr->tp_vlan_tci);
        Unsafe.CopyBlockUnaligned(dst + 16, src + 12, snap - 12);
    }
}
