using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Memory;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// An AF_XDP receive queue: reads descriptors from the RX ring, turns each into the mbuf whose chunk the kernel
/// filled (no copy), and gives the FILL ring as many fresh mbufs as it took. When the RX ring is empty it wakes the
/// kernel only if asked (XDP_RING_NEED_WAKEUP on FILL: poll with timeout 0) or, with busy polling, always kicks
/// with recvfrom(MSG_DONTWAIT) as DPDK's af_xdp_rx_zc does. No allocation, no exception, no lock.
/// </summary>
internal sealed unsafe class XskRxQueue : RxQueue
{
    /// <summary>Mbufs taken from the pool per refill step.</summary>
    private const uint RefillBatch = 64;

    private readonly XskSocket _socket;
    private readonly MbufPool _pool;
    private readonly byte* _base;
    private readonly uint _elementSize;
    private readonly uint _bufferOffset;
    private readonly byte* _held;
    private readonly int _fd;
    private readonly bool _busyPoll;
    private Mbuf** _refill;
    private readonly ulong _rearmTemplate;
    private byte* _unusable;
    private XskRing _fill;
    private XskRing _rx;
    private readonly UmemLayout _layout;
    // FILL slots owed because the pool was empty when they were due; refilled on later bursts.
    private uint _owed;

    /// <summary>Empty polls that woke the kernel (poll or recvfrom).</summary>
    internal ulong Wakeups;

    public XskRxQueue(ushort portId, int queueId, XskSocket socket) : base(portId, queueId)
    {
        _socket = socket;
        _layout = socket.Layout;
        _pool = _layout.Pool;
        _base = _layout.Base;
        _elementSize = _layout.ElementSize;
        _bufferOffset = _layout.BufferOffset;
        _held = socket.RxHeld;
        _fd = socket.Fd;
        _busyPoll = socket.BusyBudget > 0;
        _fill = socket.Fill;
        _rx = socket.Rx;
        _refill = (Mbuf**)NativeMemory.Alloc(RefillBatch, (nuint)sizeof(Mbuf*));
        // Mbuf.RearmData layout (rte_mbuf rearm_data): data_off u16, refcnt u16, nb_segs u16, port u16.
        _rearmTemplate = (1UL << 16) | (1UL << 32) | ((ulong)portId << 48);
    }

    /// <summary>The socket this queue reads.</summary>
    public XskSocket Socket => _socket;

    /// <summary>FILL ring entries the kernel has not taken yet.</summary>
    public uint FillOccupancy => _socket.IsDisposed ? 0 : _fill.Occupancy;

    /// <summary>RX ring entries not read yet.</summary>
    public uint RxOccupancy => _socket.IsDisposed ? 0 : _rx.Occupancy;

    /// <summary>
    /// Gives the kernel <paramref name="count"/> buffers (control path, right after bind: the zero-copy chunk rule
    /// is known only once the mode is).
    /// </summary>
    /// <exception cref="Ethdev.EthDevException">The pool cannot supply them.</exception>
    public void Prefill(uint count, string device)
    {
        _unusable = _socket.Unusable;
        uint given = Refill(count);
        if (given < count)
        {
            throw new Ethdev.EthDevException(
                $"{device}: RX queue {QueueId} needs {count} mbufs for its FILL ring but pool '{_pool.Name}' had only {given} free usable " +
                $"({_pool.Available} of {_pool.Count} available now). Make the pool bigger (MbufPool.RequiredCount) or use fewer RX descriptors");
        }
        _owed = 0;
    }

    public override int RxBurst(Span<Packet> packets)
    {
        uint n = _rx.Available((uint)packets.Length);
        if (n == 0)
        {
            WakeKernelIfAsked();
            if (_owed != 0)
                Refill(0);
            return 0;
        }
        n = Math.Min(n, (uint)packets.Length);
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            uint index = _rx.CachedConsumer;
            for (uint i = 0; i < n; i++)
            {
                Xsk.xdp_desc* d = _rx.Descriptor(index + i);
                mbufs[i] = TakeFrame(d->addr, d->len);
                bytes += d->len;
            }
            _rx.CachedConsumer = index + n;
            _rx.Release();
        }
        Refill(n);
        Counters.Packets += n;
        Counters.Bytes += bytes;
        return (int)n;
    }

    /// <summary>
    /// The mbuf of an RX descriptor. Unaligned mode: the low 48 bits are the chunk's UMEM offset (the mbuf we put
    /// in FILL), the top 16 bits the frame's offset within the chunk. Only the mbuf's first cache line is written:
    /// as in DPDK, a free mbuf already has next = null, nb_segs = 1 and refcnt = 1 (the pool's invariant, restored
    /// on every free), so the second line, which holds next and tx_offload, is never touched on RX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Mbuf* TakeFrame(ulong addr, uint len)
    {
        ulong chunk = addr & Xsk.XSK_UNALIGNED_BUF_ADDR_MASK;
        uint index = _layout.IndexOf(chunk);
        ulong start = (ulong)index * _elementSize;
        Mbuf* m = (Mbuf*)(_base + start);
        _held[index] = 0;
        ulong dataOff = chunk + (addr >> Xsk.XSK_UNALIGNED_BUF_OFFSET_SHIFT) - start - _bufferOffset;
        // rearm_data in one store: data_off, refcnt = 1, nb_segs = 1, port (DPDK's mbuf_initializer).
        m->RearmData = dataOff | _rearmTemplate;
        m->OlFlags = 0;
        m->PacketType = 0;
        m->PktLen = len;
        m->DataLen = (ushort)len;
        m->VlanTci = 0;
        return m;
    }

    /// <summary>Puts up to <paramref name="count"/> + owed fresh mbufs in the FILL ring; returns how many went in.</summary>
    private uint Refill(uint count)
    {
        uint wanted = count + _owed;
        uint free = _fill.FreeSlots(wanted);
        uint todo = Math.Min(wanted, free);
        uint done = 0;
        MempoolCache? cache = _pool.CacheFor(Lcore.CurrentId);
        while (done < todo)
        {
            uint k = Math.Min(RefillBatch, todo - done);
            if (!_pool.GetBulkRaw(_refill, k, cache))
            {
                Counters.NoMbuf += k;
                break;
            }
            uint prod = _fill.CachedProducer, written = 0;
            for (uint i = 0; i < k; i++)
            {
                Mbuf* m = _refill[i];
                ulong offset = (ulong)((byte*)m - _base);
                uint index = _layout.IndexOf(offset);
                if (_unusable != null && _unusable[index] != 0)
                {
                    SetAside(m);
                    continue;
                }
                *_fill.Address(prod + written++) = offset;
                _held[index] = 1;
            }
            _fill.CachedProducer = prod + written;
            done += written;
        }
        if (done != 0)
            _fill.Submit();
        _owed = wanted - done;
        return done;
    }

    /// <summary>Keeps an mbuf the zero-copy driver would refuse out of FILL for good (returned at close).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SetAside(Mbuf* m)
    {
        _socket.RxQuarantine[_socket.RxQuarantined++] = m;
        SetAsideCount++;
    }

    /// <summary>Mbufs set aside because their chunk crosses a page boundary (zero-copy only).</summary>
    internal ulong SetAsideCount;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeKernelIfAsked()
    {
        if (_busyPoll)
        {
            // Busy polling: the recvfrom runs the device's NAPI poll in our context (xsk_recvmsg -> sk_busy_loop).
            recvfrom(_fd, null, 0, MSG_DONTWAIT, null, null);
            Wakeups++;
        }
        else if (_fill.NeedsWakeup())
        {
            // Zero-copy drivers sleep when FILL ran dry; poll() calls ndo_xsk_wakeup. Timeout 0: never block the lcore.
            pollfd pfd = new() { fd = _fd, events = POLLIN };
            poll(&pfd, 1, 0);
            Wakeups++;
        }
    }

    /// <summary>Closes the socket (its RX and TX rings) and returns every mbuf the kernel held to the pool.</summary>
    protected internal override void Release()
    {
        _socket.Dispose();
        NativeMemory.Free(_refill);
        _refill = null;
    }
}
