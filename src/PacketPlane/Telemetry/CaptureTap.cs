using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Memory;
using PacketPlane.Ring;

namespace PacketPlane.Telemetry;

/// <summary>Which way a captured packet went.</summary>
[Flags]
public enum CaptureDirection
{
    /// <summary>Packets received (after RxBurst returns them).</summary>
    Rx = 1,

    /// <summary>Packets offered to TxBurst (before the driver takes them, as DPDK's pdump TX callback).</summary>
    Tx = 2,

    /// <summary>Both directions.</summary>
    Both = Rx | Tx,
}

/// <summary>
/// The datapath half of a capture, one per captured port: <see cref="Ethdev.EthDev"/> calls it once per burst
/// while it is installed. It copies matching packets into buffers from the capture's own pool and enqueues
/// them on the capture ring; when the pool or ring is full the packets are counted as dropped, never waited
/// for. No allocation, no lock, no exception.
/// </summary>
internal sealed unsafe class CaptureTap
{
    private const int Chunk = 64;
    private const int MaxQueues = 1024;

    private readonly MbufPool _pool;
    private readonly Ring<nint> _ring;
    private readonly int _snaplen;
    private readonly ulong[] _rxQueues = new ulong[MaxQueues / 64];
    private readonly ulong[] _txQueues = new ulong[MaxQueues / 64];
    private CaptureFilter? _filter;
    private int _inFlight;
    private int _closed;

    // Written with Interlocked once per burst (bursts of several lcores may capture the same port).
    private long _seen;
    private long _filteredOut;
    private long _dropped;
    private long _captured;

    public CaptureTap(ushort portId, string portName, string description, MbufPool pool, Ring<nint> ring, int snaplen)
    {
        PortId = portId;
        PortName = portName;
        Description = description;
        _pool = pool;
        _ring = ring;
        _snaplen = snaplen;
    }

    public ushort PortId { get; }

    public string PortName { get; }

    public string Description { get; }

    public long Seen => Interlocked.Read(ref _seen);

    public long FilteredOut => Interlocked.Read(ref _filteredOut);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Captured => Interlocked.Read(ref _captured);

    public CaptureFilter? Filter => Volatile.Read(ref _filter);

    /// <summary>True while any queue in any direction is enabled.</summary>
    public bool AnyEnabled
    {
        get
        {
            for (int i = 0; i < _rxQueues.Length; i++)
            {
                if (Volatile.Read(ref _rxQueues[i]) != 0 || Volatile.Read(ref _txQueues[i]) != 0)
                    return true;
            }
            return false;
        }
    }

    /// <summary>Switches <paramref name="queue"/> (or every queue when negative) on or off for the directions given.</summary>
    public void SetEnabled(CaptureDirection direction, int queue, bool on)
    {
        if ((direction & CaptureDirection.Rx) != 0)
            SetBits(_rxQueues, queue, on);
        if ((direction & CaptureDirection.Tx) != 0)
            SetBits(_txQueues, queue, on);
    }

    /// <summary>Replaces the filter; pairs with the Volatile.Read at the start of each captured burst.</summary>
    public void SetFilter(CaptureFilter? filter) =>
        Volatile.Write(ref _filter, filter is null || filter.MatchesEverything ? null : filter);

    public void CaptureRx(int queue, ReadOnlySpan<Packet> packets)
    {
        if (IsEnabled(_rxQueues, queue))
            Capture(queue, CaptureDirection.Rx, packets);
    }

    public void CaptureTx(int queue, ReadOnlySpan<Packet> packets)
    {
        if (IsEnabled(_txQueues, queue) && !packets.IsEmpty)
            Capture(queue, CaptureDirection.Tx, packets);
    }

    /// <summary>
    /// Stops the tap for good and waits (bounded) until no burst is inside it, so the pool and ring can be freed.
    /// Returns false when a burst was still inside after <paramref name="timeout"/>.
    /// </summary>
    public bool Close(TimeSpan timeout)
    {
        // Full fence: a burst that incremented _inFlight before this store finishes before we free anything;
        // one that increments after sees _closed and leaves. Pairs with the Interlocked.Increment in Capture.
        Interlocked.Exchange(ref _closed, 1);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var spin = new SpinWait();
        while (Volatile.Read(ref _inFlight) != 0)
        {
            if (Environment.TickCount64 > deadline)
                return false;
            spin.SpinOnce();
        }
        return true;
    }

    private void Capture(int queue, CaptureDirection direction, ReadOnlySpan<Packet> packets)
    {
        Interlocked.Increment(ref _inFlight); // pairs with the Interlocked.Exchange in Close
        if (Volatile.Read(ref _closed) == 0)
            CopyBurst(queue, direction, packets);
        Interlocked.Decrement(ref _inFlight);
    }

    private void CopyBurst(int queue, CaptureDirection direction, ReadOnlySpan<Packet> packets)
    {
        ulong timestamp = (ulong)Stopwatch.GetTimestamp(); // one clock read per burst, as pdump
        ulong meta = (ulong)(uint)queue | ((ulong)direction << 32);
        CaptureFilter? filter = Volatile.Read(ref _filter); // pairs with the Volatile.Write in SetFilter
        Mbuf** copies = stackalloc Mbuf*[Chunk];
        int* selected = stackalloc int[Chunk];
        long filteredOut = 0, dropped = 0, captured = 0;
        for (int start = 0; start < packets.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, packets.Length - start);
            int matched = 0;
            for (int i = 0; i < count; i++)
            {
                if (filter is null || filter.Matches(packets[start + i].Data))
                    selected[matched++] = start + i;
            }
            filteredOut += count - matched;
            if (matched == 0)
                continue;
            if (!_pool.GetBulkRaw(copies, (uint)matched, null))
            {
                dropped += matched;
                continue;
            }
            for (int j = 0; j < matched; j++)
                CopyOne(packets[selected[j]], copies[j], timestamp, meta);
            uint enqueued = _ring.Enqueue((nint*)copies, (uint)matched, burst: true);
            if (enqueued < (uint)matched)
            {
                _pool.PutBulkRaw(copies + enqueued, (uint)matched - enqueued, null);
                dropped += matched - enqueued;
            }
            captured += enqueued;
        }
        Interlocked.Add(ref _seen, packets.Length);
        if (filteredOut != 0)
            Interlocked.Add(ref _filteredOut, filteredOut);
        if (dropped != 0)
            Interlocked.Add(ref _dropped, dropped);
        if (captured != 0)
            Interlocked.Add(ref _captured, captured);
    }

    private void CopyOne(Packet source, Mbuf* copy, ulong timestamp, ulong meta)
    {
        _pool.ResetForAlloc(copy);
        uint wireLength = source.M->PktLen;
        int capLength = (int)Math.Min(wireLength, (uint)_snaplen);
        capLength = source.CopyTo(new Span<byte>(copy->Data, capLength));
        // A capture buffer is ours alone: DataLen holds the captured bytes, PktLen the length on the wire.
        copy->DataLen = (ushort)capLength;
        copy->PktLen = wireLength;
        copy->Port = PortId;
        copy->Timestamp = timestamp;
        copy->UserData0 = meta;
    }

    private static bool IsEnabled(ulong[] mask, int queue) =>
        (uint)queue < MaxQueues && ((Volatile.Read(ref mask[queue >> 6]) >> (queue & 63)) & 1) != 0;

    private static void SetBits(ulong[] mask, int queue, bool on)
    {
        if (queue >= MaxQueues)
            throw new ArgumentOutOfRangeException(nameof(queue), $"queue {queue} is beyond the {MaxQueues} queues a capture can select");
        for (int word = 0; word < mask.Length; word++)
        {
            ulong bits = queue < 0 ? ulong.MaxValue : (queue >> 6) == word ? 1UL << (queue & 63) : 0;
            if (bits == 0)
                continue;
            // Seen by the next burst's Volatile.Read in IsEnabled.
            if (on)
                Interlocked.Or(ref mask[word], bits);
            else
                Interlocked.And(ref mask[word], ~bits);
        }
    }
}

/// <summary>One captured packet as the writer thread reads it back from a capture buffer.</summary>
internal readonly ref struct CapturedPacket
{
    public CapturedPacket(ReadOnlySpan<byte> data, int wireLength, ushort port, int queue, CaptureDirection direction, ulong timestamp)
    {
        Data = data;
        WireLength = wireLength;
        Port = port;
        Queue = queue;
        Direction = direction;
        Timestamp = timestamp;
    }

    public ReadOnlySpan<byte> Data { get; }
    public int WireLength { get; }
    public ushort Port { get; }
    public int Queue { get; }
    public CaptureDirection Direction { get; }
    public ulong Timestamp { get; }

    /// <summary>Reads the record a tap wrote into the capture buffer <paramref name="handle"/>.</summary>
    public static unsafe CapturedPacket Read(nint handle)
    {
        Mbuf* m = (Mbuf*)handle;
        return new CapturedPacket(new ReadOnlySpan<byte>(m->Data, m->DataLen), (int)m->PktLen, m->Port,
            (int)(uint)m->UserData0, (CaptureDirection)(m->UserData0 >> 32), m->Timestamp);
    }

    /// <summary>Returns capture buffers to their pool (from the writer thread: no lcore cache).</summary>
    public static unsafe void Release(MbufPool pool, ReadOnlySpan<nint> handles)
    {
        fixed (nint* p = handles)
            pool.PutBulkRaw((Mbuf**)p, (uint)handles.Length, null);
    }
}
