using System;
using System.Diagnostics;
using PacketPlane.Memory;

namespace PacketPlane.Samples.TestPmd;

/// <summary>The stop flag the forwarding loops poll.</summary>
public sealed class StopFlag
{
    private volatile bool _stop;

    /// <summary>True once a stop was asked for.</summary>
    public bool IsSet => _stop;

    /// <summary>Asks every loop to return after its current iteration.</summary>
    public void Set() => _stop = true;
}

/// <summary>
/// One forwarding lcore (testpmd's run_pkt_fwd_on_lcore): runs the engine over its streams until stopped, and
/// measures what it cost: elapsed time (for cycles per packet) and managed bytes allocated by this thread.
/// </summary>
public sealed class ForwardingLcore
{
    private readonly ForwardStream[] _streams;
    private readonly ForwardEngine _engine;
    private readonly StopFlag _stop;
    private readonly MbufPool _pool;
    private readonly int _burst;

    internal ForwardingLcore(int lcoreId, ForwardStream[] streams, ForwardEngine engine, StopFlag stop, MbufPool pool, int burst)
    {
        LcoreId = lcoreId;
        _streams = streams;
        _engine = engine;
        _stop = stop;
        _pool = pool;
        _burst = burst;
    }

    /// <summary>The lcore id.</summary>
    public int LcoreId { get; }

    /// <summary>Streams this lcore runs.</summary>
    public ReadOnlySpan<ForwardStream> Streams => _streams;

    /// <summary>Time spent in the loop, in <see cref="Stopwatch"/> ticks.</summary>
    public long ElapsedTicks { get; private set; }

    /// <summary>Managed bytes this thread allocated while forwarding (should be 0).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Forwards until the stop flag is set.</summary>
    public int Run()
    {
        // The lcore's mempool cache is created on its first use: make that happen before measuring.
        Packet warm = _pool.Alloc();
        if (!warm.IsNull)
            warm.Free();
        Span<Packet> burst = stackalloc Packet[_burst];
        ForwardStream[] streams = _streams;
        ForwardEngine engine = _engine;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        while (!_stop.IsSet)
        {
            for (int i = 0; i < streams.Length; i++)
                engine.Forward(streams[i], burst);
        }
        ElapsedTicks = Stopwatch.GetTimestamp() - start;
        AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return 0;
    }
}
