using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>X710 transmit data descriptor: buffer address, then type/command/offsets/size in one quadword.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct I40eTxDesc
{
    [FieldOffset(0)] public ulong BufferAddr;
    [FieldOffset(8)] public ulong CmdTypeOffsetBsz; // DTYPE 3:0 (0xF when written back done), CMD 13:4, size 47:34
}

/// <summary>
/// An X710 transmit queue with RS batching: every rs_thresh-th descriptor asks for a write-back, and when the
/// device marks it done (DTYPE = 0xF) the whole batch's mbufs go back in one bulk free.
/// </summary>
internal sealed unsafe class I40eTxQueue : TxQueue
{
    public const uint DefaultThreshold = 32;

    private readonly DmaMemory _ringMemory;
    private readonly I40eTxDesc* _ring;
    private readonly nint[] _swStorage;
    private readonly Mbuf** _sw;
    private readonly uint _count;
    private readonly uint _mask;
    private readonly uint _rsThresh;
    private readonly uint _freeThresh;
    private readonly Mmio _regs;
    private readonly int _tailReg;
    private uint _tail;
    private uint _nbFree;
    private uint _nextDd;
    private uint _nextRs;
    private bool _released;

    private const ulong DataCommand = (I40eDesc.TXD_CMD_EOP | I40eDesc.TXD_CMD_ICRC) << I40eDesc.TXD_CMD_SHIFT; // DTYPE 0: data
    private const ulong RsCommand = I40eDesc.TXD_CMD_RS << I40eDesc.TXD_CMD_SHIFT;

    public I40eTxQueue(ushort portId, int queueId, int descriptors, TxQueueConf conf, DmaMemory ring, Mmio regs)
        : base(portId, queueId)
    {
        _ringMemory = ring;
        _ring = (I40eTxDesc*)ring.Pointer;
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
        _tailReg = I40eRegs.QTX_TAIL(queueId);
        _swStorage = GC.AllocateArray<nint>(descriptors, pinned: true);
        _sw = (Mbuf**)Unsafe.AsPointer(ref _swStorage[0]);
    }

    public uint Count => _count;

    public ulong RingIova => _ringMemory.Iova;

    public void Arm()
    {
        new Span<byte>(_ring, (int)(_count * 16)).Clear();
        _tail = 0;
        _nbFree = _count - 1;
        _nextDd = _rsThresh - 1;
        _nextRs = _rsThresh - 1;
    }

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
                if (m->NbSegs != 1 || len == 0 || len > I40eDesc.MaxTxBuffer)
                {
                    Drop(m);
                    continue;
                }
                ulong cmd = DataCommand | ((ulong)len << I40eDesc.TXD_BUF_SZ_SHIFT);
                if (tail == _nextRs)
                {
                    cmd |= RsCommand;
                    _nextRs = (_nextRs + _rsThresh) & _mask;
                }
                I40eTxDesc* d = _ring + tail;
                d->BufferAddr = m->BufIova + m->DataOff;
                d->CmdTypeOffsetBsz = cmd;
                _sw[tail] = m;
                tail = (tail + 1) & _mask;
                bytes += len;
                placed++;
            }
        }
        _nbFree -= (uint)placed;
        _tail = tail;
        // Release store: descriptors are visible to the device before the tail.
        _regs.Write32(_tailReg, tail);
        Counters.Packets += (ulong)placed;
        Counters.Bytes += bytes;
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Drop(Mbuf* m)
    {
        Counters.Errors++;
        MbufPool.FreeBulkRaw(&m, 1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeCompleted()
    {
        while (_nbFree < _count - 1)
        {
            // Acquire: the device finished the whole batch before writing the done type into its RS descriptor.
            ulong qw1 = Volatile.Read(ref _ring[_nextDd].CmdTypeOffsetBsz);
            if ((qw1 & I40eDesc.TXD_DTYPE_MASK) != I40eDesc.TXD_DTYPE_DESC_DONE)
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
