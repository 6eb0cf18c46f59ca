using System;
using System.Runtime.CompilerServices;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Pcap;

/// <summary>
/// Copies pcap records into fresh mbufs (eth_pcap_rx / eth_pcap_rx_infinite). Records longer than one buffer are
/// chained when scatter is enabled (eth_pcap_rx_jumbo), else dropped and counted in ierrors. A burst reads at most
/// as many records as it has slots, so a file of only oversized records cannot spin.
/// </summary>
internal sealed unsafe class PcapRxQueue(ushort portId, int queueId, PcapReader reader, MbufPool pool, bool scatter, bool infinite)
    : RxQueue(portId, queueId)
{
    private readonly uint _room = (uint)(pool.DataRoomSize - pool.Headroom);
    private bool _finished;

    public override int RxBurst(Span<Packet> packets)
    {
        if (_finished || packets.IsEmpty)
            return 0;
        uint n = (uint)packets.Length;
        MempoolCache? cache = pool.CacheFor(Lcore.CurrentId);
        uint got;
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            if (!pool.GetBulkRaw(mbufs, n, cache))
            {
                Counters.NoMbuf += n;
                return 0;
            }
            got = infinite ? Replay(mbufs, n, cache, ref bytes) : Read(mbufs, n, cache, ref bytes);
            if (got < n)
                pool.PutBulkRaw(mbufs + got, n - got, cache);
        }
        Counters.Packets += got;
        Counters.Bytes += bytes;
        return (int)got;
    }

    /// <summary>infinite_rx: the next <paramref name="n"/> records of the file in memory, round and round.</summary>
    private uint Replay(Mbuf** mbufs, uint n, MempoolCache? cache, ref ulong bytes)
    {
        if (reader.RecordCount == 0)
        {
            _finished = true;
            return 0;
        }
        uint got = 0;
        for (uint read = 0; read < n && got < n; read++)
        {
            long position = reader.Position;
            FillResult result = Fill(mbufs[got], reader.NextLoaded(), cache);
            if (result == FillResult.NoMbuf)
            {
                reader.Seek(position);
                break;
            }
            if (result == FillResult.Filled)
                bytes += mbufs[got++]->PktLen;
        }
        return got;
    }

    /// <summary>Reads up to <paramref name="n"/> records from the file, stopping for good at its end.</summary>
    private uint Read(Mbuf** mbufs, uint n, MempoolCache? cache, ref ulong bytes)
    {
        uint got = 0;
        for (uint read = 0; read < n && got < n; read++)
        {
            long position = reader.Position;
            PcapReadStatus status = reader.Next(out PcapRecord record);
            if (status != PcapReadStatus.Ok)
            {
                // End of file, or a record that went bad after the file was checked at open (it changed
                // underneath us): either way this queue has nothing more to give.
                if (status != PcapReadStatus.End)
                    Counters.Errors++;
                _finished = true;
                break;
            }
            FillResult result = Fill(mbufs[got], record, cache);
            if (result == FillResult.NoMbuf)
            {
                reader.Seek(position);
                break;
            }
            if (result == FillResult.Filled)
                bytes += mbufs[got++]->PktLen;
        }
        return got;
    }

    private enum FillResult
    {
        Filled,
        Skipped,
        NoMbuf,
    }

    /// <summary>
    /// Copies one record into <paramref name="m"/> (and more buffers when scatter is on). A record too big for one
    /// buffer without scatter is counted as an error and skipped; running out of buffers for a chain leaves the
    /// record to be read again by the next burst rather than lose it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private FillResult Fill(Mbuf* m, PcapRecord record, MempoolCache? cache)
    {
        pool.ResetForAlloc(m);
        uint length = record.CapturedLength;
        if (length <= _room)
        {
            // Inline 32-byte moves: frames are short, and Buffer.MemoryCopy's call and size dispatch showed in perf.
            BulkCopy.Forward(m->Data, record.Data, length);
            m->DataLen = (ushort)length;
        }
        else if (!scatter)
        {
            Counters.Errors++;
            return FillResult.Skipped;
        }
        else if (!CopyChained(m, record, cache))
        {
            Counters.NoMbuf++;
            return FillResult.NoMbuf;
        }
        m->PktLen = length;
        m->Port = PortId;
        m->Timestamp = record.TimestampNs;
        return FillResult.Filled;
    }

    /// <summary>Spreads a record over <paramref name="head"/> and as many more buffers as it needs.</summary>
    private bool CopyChained(Mbuf* head, PcapRecord record, MempoolCache? cache)
    {
        byte* src = record.Data;
        uint left = record.CapturedLength;
        Buffer.MemoryCopy(src, head->Data, _room, _room);
        head->DataLen = (ushort)_room;
        src += _room;
        left -= _room;
        Mbuf* last = head;
        while (left > 0)
        {
            Mbuf* seg;
            if (!pool.GetBulkRaw(&seg, 1, cache))
            {
                MbufPool.FreeBulkRaw(&head->Next, 1);
                head->Next = null;
                head->NbSegs = 1;
                return false;
            }
            pool.ResetForAlloc(seg);
            // Headroom only matters in front of the first segment (as eth_pcap_rx_jumbo).
            seg->DataOff = 0;
            uint n = Math.Min(left, seg->BufLen);
            Buffer.MemoryCopy(src, seg->BufAddr, n, n);
            seg->DataLen = (ushort)n;
            seg->PktLen = n;
            last->Next = seg;
            last = seg;
            head->NbSegs++;
            src += n;
            left -= n;
        }
        return true;
    }

    protected internal override void Release()
    {
        // Nothing is held between bursts: every buffer taken is either returned or given to the caller.
    }
}

/// <summary>The RX queue of a port without rx_pcap: receives nothing (DPDK's eth_null_rx).</summary>
internal sealed class PcapNoRxQueue(ushort portId, int queueId) : RxQueue(portId, queueId)
{
    public override int RxBurst(Span<Packet> packets) => 0;
}

/// <summary>Writes every packet to the tx_pcap file and frees it (eth_pcap_tx_dumper).</summary>
internal sealed unsafe class PcapTxQueue(ushort portId, int queueId, PcapWriter writer) : TxQueue(portId, queueId)
{
    public override int TxBurst(Span<Packet> packets)
    {
        // One timestamp per burst, as DPDK's dumper does; wall-clock time so readers see real dates.
        ulong now = (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            for (int i = 0; i < packets.Length; i++)
            {
                writer.Append(mbufs[i], now);
                bytes += mbufs[i]->PktLen;
            }
            MbufPool.FreeBulkRaw(mbufs, (uint)packets.Length);
        }
        Counters.Packets += (ulong)packets.Length;
        Counters.Bytes += bytes;
        return packets.Length;
    }

    protected internal override void Release() => writer.Flush();
}

/// <summary>The TX queue of a port without tx_pcap: counts and frees (DPDK's eth_tx_drop).</summary>
internal sealed unsafe class PcapDropTxQueue(ushort portId, int queueId) : TxQueue(portId, queueId)
{
    public override int TxBurst(Span<Packet> packets)
    {
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            for (int i = 0; i < packets.Length; i++)
                bytes += mbufs[i]->PktLen;
            MbufPool.FreeBulkRaw(mbufs, (uint)packets.Length);
        }
        Counters.Packets += (ulong)packets.Length;
        Counters.Bytes += bytes;
        return packets.Length;
    }
}
