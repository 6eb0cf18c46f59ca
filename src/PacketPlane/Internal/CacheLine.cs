namespace PacketPlane.Internal;

/// <summary>Cache geometry used for padding hot shared fields apart.</summary>
internal static class CacheLine
{
    /// <summary>Bytes per cache line on x86-64 and most Arm64 server parts we target.</summary>
    public const int Size = 64;

    /// <summary>
    /// Distance kept between fields written by different cores. Two lines, because the adjacent-line
    /// prefetcher on x86 pulls pairs of lines (DPDK's RTE_CACHE_GUARD exists for the same reason).
    /// </summary>
    public const int GuardedSize = 128;
}
