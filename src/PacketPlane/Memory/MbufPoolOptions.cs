namespace PacketPlane.Memory;

/// <summary>Less common settings of an <see cref="MbufPool"/>.</summary>
public sealed record MbufPoolOptions
{
    /// <summary>Bytes reserved in front of packet data in each buffer (DPDK RTE_PKTMBUF_HEADROOM).</summary>
    public int Headroom { get; init; } = Mbuf.DefaultHeadroom;

    /// <summary>
    /// Each object (header + private area + buffer) starts at a multiple of this many bytes, and objects are this
    /// size apart when it is at least the natural size. Default 64 (a cache line). AF_XDP aligned-chunk UMEMs want
    /// 2048 or 4096.
    /// </summary>
    public int ObjectAlignment { get; init; } = 64;

    /// <summary>
    /// Debug mode: a double free is caught (counted, logged with where it happened, and not performed) and
    /// objects still allocated at dispose are reported. Costs a check per free.
    /// </summary>
    public bool Debug { get; init; }

    /// <summary>With <see cref="Debug"/>: remember the stack of every allocation so leaks say where they came from. Slow.</summary>
    public bool TrackAllocations { get; init; }

    /// <summary>NUMA node for the pool's memory, or -1 for no preference.</summary>
    public int NumaNode { get; init; } = -1;
}
