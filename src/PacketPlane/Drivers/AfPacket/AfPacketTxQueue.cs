using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// Sends through a TPACKET_V2 TX ring: each packet is copied into the next free frame (TP_STATUS_AVAILABLE),
/// marked TP_STATUS_SEND_REQUEST, and one sendto(MSG_DONTWAIT) per burst makes the kernel transmit what is
/// queued. The mbufs are freed at once (their bytes are in the ring). When the next frame is still held by the
/// kernel the burst stops there and returns how many it took: it never waits (DPDK's af_packet polls with an
/// infinite timeout at that point).
/// </summary>
internal sealed unsafe class AfPacketTxQueue(ushort portId, int queueId, bool vlanInsert) : TxQueue(portId, queueId)
{
    private nint* _frames;
    private uint _frameCount;
    private uint _next;
    private int _fd = -1;
    private uint _maxFrame;
    private uint _mtuFrame;
    private bool _gone;

    /// <summary>Bursts that stopped because the next ring frame was not yet released by the kernel.</summary>
    internal ulong RingFull;

    /// <summary>Packets dropped for being larger than a ring frame or the interface MTU allows.</summary>
    internal ulong Oversize;

    /// <summary>Kicks (sendto) that failed with an error other than EAGAIN/ENOBUFS.</summary>
    internal ulong KickErrors;

    /// <summary>Starts writing <paramref name="socket"/>'s TX ring; frames above <paramref name="mtu"/> + L2 header are refused as the kernel would.</summary>
    internal void Attach(PacketSocket socket, AfPacketOptions options, int mtu)
    {
        _next = 0;
        _gone = false;
        _maxFrame = (uint)options.MaxTxFrameLength;
        SetMtu(mtu);
        _fd = socket.Fd;
        _frameCount = (uint)socket.TxFrameCount;
        _frames = socket.TxFrames;
    }

    /// <summary>Updates the MTU check (tpacket_snd refuses frames above MTU + hard header + one VLAN tag).</summary>
    internal void SetMtu(int mtu) => _mtuFrame = (uint)mtu + 14 + 4;

    /// <summary>Forgets the ring (before it is unmapped); bursts then take nothing.</summary>
    internal void Detach()
    {
        _frameCount = 0;
        _frames = null;
        _fd = -1;
    }

    /// <summary>Frames of the ring the kernel has not released yet (queued or being sent), for xstats.</summary>
    internal int PendingFrames
    {
        get
        {
            nint* frames = _frames;
            int pending = 0;
            for (uint i = 0; frames != null && i < _frameCount; i++)
            {
                // A snapshot for statistics; pairs with the kernel's status stores as in TxBurst.
                if (!IsAvailable(Volatile.Read(ref ((Libc.tpacket2_hdr*)frames[i])->tp_status)))
                    pending++;
            }
            return pending;
        }
    }

    public override int TxBurst(Span<Packet> packets)
    {
        nint* frames = _frames;
        if (frames == null || packets.IsEmpty)
            return 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            uint n = (uint)packets.Length;
            uint taken = 0, queued = 0;
            ulong bytes = 0;
            uint idx = _next;
            for (; taken < n; taken++)
            {
                Mbuf* m = mbufs[taken];
                uint length = m->PktLen + (NeedsVlanTag(m) ? 4u : 0u);
                if (length > _maxFrame || length > _mtuFrame || length < 14)
                {
                    Oversize++;
                    Counters.Errors++;
                    continue;
                }
                var hdr = (Libc.tpacket2_hdr*)frames[idx];
                // Acquire: pairs with the kernel's release of the frame (tpacket_destruct_skb sets AVAILABLE
                // after the skb that carried it is freed), so we never overwrite bytes still being sent.
                if (!IsAvailable(Volatile.Read(ref hdr->tp_status)))
                {
                    RingFull++;
                    break;
                }
                WriteFrame(hdr, m, length);
                // Release: publishes tp_len and the data before the status; pairs with the kernel's read of
                // the status in packet_current_frame (tpacket_snd).
                Volatile.Write(ref hdr->tp_status, Libc.TP_STATUS_SEND_REQUEST);
                if (++idx == _frameCount)
                    idx = 0;
                queued++;
                bytes += length;
            }
            _next = idx;
            // Their bytes are in the ring (or they were refused): the mbufs go back to their pools now.
            MbufPool.FreeBulkRaw(mbufs, taken);
            if (queued > 0 || taken < n)
                Kick(queued, bytes);
            return (int)taken;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NeedsVlanTag(Mbuf* m) => vlanInsert && (m->OlFlags & OffloadFlags.TxVlan) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAvailable(uint status) =>
        (status & ~(Libc.TP_STATUS_TS_SOFTWARE | Libc.TP_STATUS_TS_RAW_HARDWARE)) == Libc.TP_STATUS_AVAILABLE;

    private void WriteFrame(Libc.tpacket2_hdr* hdr, Mbuf* m, uint length)
    {
        byte* dst = (byte*)hdr + AfPacketOptions.TxDataOffset;
        Mbuf* seg = m;
        if (NeedsVlanTag(m))
        {
            // Insert the 802.1Q tag after the MAC addresses (TxOffloads.VlanInsert), as DPDK's rte_vlan_insert.
            Unsafe.CopyBlockUnaligned(dst, seg->BufAddr + seg->DataOff, 12);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 12, 2), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 14, 2), m->VlanTci);
            Unsafe.CopyBlockUnaligned(dst + 16, seg->BufAddr + seg->DataOff + 12, (uint)seg->DataLen - 12);
            dst += seg->DataLen + 4;
            seg = seg->Next;
        }
        for (; seg != null; seg = seg->Next)
        {
            Unsafe.CopyBlockUnaligned(dst, seg->BufAddr + seg->DataOff, seg->DataLen);
            dst += seg->DataLen;
        }
        hdr->tp_len = length;
        hdr->tp_snaplen = length;
    }

    /// <summary>
    /// Asks the kernel to send what is queued, without waiting. EAGAIN and ENOBUFS mean "busy, later": the frames
    /// stay queued and go out with the next kick. Any other error (interface down or removed) means they will
    /// not go: they are taken back, counted as errors, and the queue carries on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Kick(uint queued, ulong bytes)
    {
        if (_gone || Libc.sendto(_fd, null, 0, Libc.MSG_DONTWAIT, null, 0) >= 0)
        {
            Count(queued, bytes, _gone);
            return;
        }
        int errno = Libc.LastErrno;
        if (errno == Libc.EAGAIN || errno == Libc.ENOBUFS || errno == Libc.EINTR)
        {
            Count(queued, bytes, failed: false);
            return;
        }
        KickFailed(errno, queued);
    }

    private void Count(uint queued, ulong bytes, bool failed)
    {
        if (failed)
        {
            Counters.Errors += queued;
            ReclaimQueued();
            return;
        }
        Counters.Packets += queued;
        Counters.Bytes += bytes;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void KickFailed(int errno, uint queued)
    {
        KickErrors++;
        Counters.Errors += queued;
        // ENXIO/ENODEV: the interface was unregistered; the socket stays unbound for good, so stop asking.
        if (errno == Libc.ENXIO || errno == Libc.ENODEV)
            _gone = true;
        ReclaimQueued();
    }

    /// <summary>
    /// Takes back frames still marked SEND_REQUEST after a failed kick, so a dead or down interface does not keep
    /// the ring full. Only this thread's sendto() would consume them, and it just returned, so nothing races.
    /// </summary>
    private void ReclaimQueued()
    {
        for (uint i = 0; i < _frameCount; i++)
        {
            var hdr = (Libc.tpacket2_hdr*)_frames[i];
            // Same pairing as TxBurst: the kernel only moves SEND_REQUEST frames inside sendto(), which is not
            // running, so taking them back cannot race with it; SENDING frames are left for their destructor.
            if (Volatile.Read(ref hdr->tp_status) == Libc.TP_STATUS_SEND_REQUEST)
                Volatile.Write(ref hdr->tp_status, Libc.TP_STATUS_AVAILABLE);
        }
    }
}
