using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Tap;

/// <summary>
/// Sends on one TAP queue file: one write() per single-segment packet, one writev() over the segments of a
/// chained one; the kernel copies the bytes, so the mbufs are freed at once. EAGAIN stops the burst (the
/// caller keeps the rest); any other error drops the packet and counts it.
/// </summary>
internal sealed unsafe class TapTxQueue : TxQueue
{
    private readonly int _fd;
    private readonly Libc.iovec[] _iovArray = GC.AllocateArray<Libc.iovec>(TapRxQueue.MaxSegments, pinned: true);
    private readonly Libc.iovec* _iov;
    private bool _gone;

    public TapTxQueue(ushort portId, int queueId, int fd) : base(portId, queueId)
    {
        _fd = fd;
        _iov = (Libc.iovec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iovArray));
    }

    /// <summary>The queue's file.</summary>
    internal int Fd => _fd;

    public override int TxBurst(Span<Packet> packets)
    {
        if (packets.IsEmpty)
            return 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            uint n = (uint)packets.Length;
            uint taken = 0, sent = 0;
            ulong bytes = 0;
            for (; taken < n; taken++)
            {
                Mbuf* m = mbufs[taken];
                if (_gone || m->NbSegs > TapRxQueue.MaxSegments)
                {
                    Counters.Errors++;
                    continue;
                }
                nint r = m->Next == null
                    ? Libc.write(_fd, m->BufAddr + m->DataOff, m->DataLen)
                    : WriteChain(m);
                if (r < 0)
                {
                    int errno = Libc.LastErrno;
                    if (errno == Libc.EAGAIN || errno == Libc.EINTR || errno == Libc.ENOBUFS)
                        break;
                    WriteFailed(errno);
                    continue;
                }
                sent++;
                bytes += m->PktLen;
            }
            MbufPool.FreeBulkRaw(mbufs, taken);
            Counters.Packets += sent;
            Counters.Bytes += bytes;
            return (int)taken;
        }
    }

    private nint WriteChain(Mbuf* m)
    {
        int count = 0;
        for (Mbuf* seg = m; seg != null; seg = seg->Next)
        {
            _iov[count].iov_base = seg->BufAddr + seg->DataOff;
            _iov[count].iov_len = seg->DataLen;
            count++;
        }
        return Libc.writev(_fd, _iov, count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteFailed(int errno)
    {
        Counters.Errors++;
        // EBADFD: the interface was deleted; the file is detached for good, so stop making system calls.
        if (errno == Libc.EBADFD)
            _gone = true;
    }
}
