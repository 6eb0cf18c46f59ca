using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>82599 advanced transmit data descriptor (datasheet 7.2.3.2.4) and its write-back (7.2.3.5).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct IxgbeTxDesc
{
    [FieldOffset(0)] public ulong BufferAddr;
    [FieldOffset(8)] public uint CmdTypeLen;
    [FieldOffset(12)] public uint OlinfoStatus; // PAYLEN 31:14 on the way in; DD bit 0 in the write-back
}

/// <summary>
/// An 82599 transmit queue with RS-bit batching (DPDK's simple TX path): only every <c>rs_thresh</c>-th descriptor
/// asks for a status write-back (RS), so the device writes back once per batch, and the driver frees the batch's
/// mbufs in one bulk put when that descriptor shows DD. Reclaiming starts once fewer than <c>free_thresh</c>
/// descriptors are free. One descriptor per packet (no multi-segment, no offloads).
/// </summary>
internal sealed unsafe class IxgbeTxQueue : TxQueue
{
    public const uint DefaultThreshold = 32;

    private readonly DmaMemory _ringMemory;
    private readonly IxgbeTxDesc* _ring;
    private readonly nint[] _swStorage;
    private readonly Mbuf** _sw;
    private readonly uint _count;
    private readonly uint _mask;
    private readonly uint _rsThresh;
    private readonly uint _freeThresh;
    private readonly Mmio _regs;
    private readonly int _tdt;
    private uint _tail;     // next descriptor to fill (what TDT holds)
    private uint _nbFree;   // descriptors the driver may fill
    private uint _nextDd;   // the RS descriptor whose DD completes the oldest batch
    private uint _nextRs;   // the descriptor that gets the next RS bit
    private bool _released;

    public IxgbeTxQueue(ushort portId, int queueId, int descriptors, TxQueueConf conf, DmaMemory ring, Mmio regs)
        : base(portId, queueId)
    {
        _ringMemory = ring;
        _ring = (IxgbeTxDesc*)ring.Pointer;
        _count = (uint)descriptors;
        _mask = _count - 1;
        _rsThresh = conf.RsThreshold > 0 ? (uint)conf.RsThreshold : Math.Min(DefaultThreshold, _count / 4);
        _freeThresh = conf.FreeThreshold > 0 ? (uint)conf.FreeThreshold : Math.Min(DefaultThreshold, _count / 4);
        if (_count % _rsThresh != 0 || _rsThresh > _count - 2 || _freeThresh > _count - 3 || _rsThresh > _freeThresh)
        {
            throw new EthDevException($"port {portId} TX queue {queueId}: tx_rs_thresh {_rsThresh} and tx_free_thresh {_freeThresh} do not fit " +
                $"{_count} descriptors; rs_thresh must divide the ring size and not exceed free_thresh, free_thresh at most {_count - 3} (as in DPDK)");
        }
        _regs = regs;
        _tdt = IxgbeRegs.TDT(queueId);
        _swStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _sw = (Mbuf**)Unsafe.AsPointer(ref _swStorage[0]);
    }

    public uint Count => _count;

    public ulong RingIova => _ringMemory.Iova;

    public uint RingBytes => _count * 16;

    public uint RsThreshold => _rsThresh;

    /// <summary>Empties the ring before the queue is enabled (stale DD bits from an earlier run must not count).</summary>
    public void Arm()
    {
        new Span<byte>(_ring, (int)RingBytes).Clear();
        _tail = 0;
        _nbFree = _count - 1; // TDT == TDH means empty, so at most count-1 descriptors are in flight
        _nextDd = _rsThresh - 1;
        _nextRs = _rsThresh - 1;
    }

    /// <summary>After the device stopped the queue: whatever it had not sent is dropped and its mbufs freed.</summary>
    public void OnStopped() => FreeAll();

    public override int TxBurst(Span<Packet> packets)
    {
        if (_nbFree < _freeThresh)
            FreeCompleted();
        int n = (int)Math.Min((uint)packets.Length, _nbFree);
        if (n == 0)
            return 0;
        uint tail = _tail;
        ulong bytes = 0;
        int placed = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** tx = (Mbuf**)p;
            for (int i = 0; i < n; i++)
            {
                Mbuf* m = tx[i];
                uint len = m->DataLen;
                if (m->NbSegs != 1 || len == 0 || len > IxgbeDesc.MaxTxFrame)
                {
                    Drop(m);
                    continue;
                }
                IxgbeTxDesc* d = _ring + tail;
                uint cmd = IxgbeDesc.TXD_DTYP_DATA | IxgbeDesc.TXD_CMD_DEXT | IxgbeDesc.TXD_CMD_IFCS | IxgbeDesc.TXD_CMD_EOP | len;
                if (tail == _nextRs)
                {
                    cmd |= IxgbeDesc.TXD_CMD_RS;
                    _nextRs = (_nextRs + _rsThresh) & _mask;
                }
                d->BufferAddr = m->BufIova + m->DataOff;
                d->CmdTypeLen = cmd;
                d->OlinfoStatus = len << IxgbeDesc.TXD_PAYLEN_SHIFT;
                _sw[tail] = m;
                tail = (tail + 1) & _mask;
                bytes += len;
                placed++;
            }
        }
        _nbFree -= (uint)placed;
        _tail = tail;
        // Release store: the descriptors above are visible to the device before it sees the new tail.
        _regs.Write32(_tdt, tail);
        Counters.Packets += (ulong)placed;
        Counters.Bytes += bytes;
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Drop(Mbuf* m)
    {
        // Taken and freed, as DPDK drops what it cannot describe; counted so it is not silent.
        Counters.Errors++;
        MbufPool.FreeBulkRaw(&m, 1);
    }

    /// <summary>Frees the oldest batch when its RS descriptor shows DD (7.2.3.5: written back because RS was set).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeCompleted()
    {
        while (_nbFree < _count - 1)
        {
            IxgbeTxDesc* d = _ring + _nextDd;
            // Acquire: the device finished every descriptor of the batch before writing this DD.
            if ((Volatile.Read(ref d->OlinfoStatus) & IxgbeDesc.TXD_STAT_DD) == 0)
                return;
            uint first = _nextDd - (_rsThresh - 1);
            MbufPool.FreeBulkRaw(_sw + first, _rsThresh);
            new Span<nint>(_sw + first, (int)_rsThresh).Clear();
            _nbFree += _rsThresh;
            _nextDd = (_nextDd + _rsThresh) & _mask;
            if (_nbFree >= _freeThresh * 2)
                return;
        }
    }

    private void FreeAll()
    {
        for (uint i = 0; i < _count; i++)
        {
            if (_sw[i] != null)
            {
                Mbuf* m = _sw[i];
                _sw[i] = null;
                MbufPool.FreeBulkRaw(&m, 1);
            }
        }
    }

    protected internal override void Release()
    {
        if (_released)
            return;
        _released = true;
        FreeAll();
        _ringMemory.Dispose();
    }
}
