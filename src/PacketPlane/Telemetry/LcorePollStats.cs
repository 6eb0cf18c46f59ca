using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace PacketPlane.Telemetry;

/// <summary>
/// How busy each lcore's poll loop is, as DPDK's lcore telemetry: polls that found packets against all polls.
/// A poll loop calls <see cref="Record(int, int)"/> once per iteration with the number of packets it received;
/// that is two plain additions to counters only the owning lcore writes (no atomics, no sharing of cache
/// lines between lcores). Readers on other threads see recent values. The ratio is exported as the metric
/// <c>packetplane.lcore.busy_ratio</c> and through telemetry (<c>/eal/lcore/info,N</c>).
/// </summary>
public static class LcorePollStats
{
    /// <summary>Highest lcore id + 1 that is tracked (DPDK's RTE_MAX_LCORE is 128 by default; ours allows 1024).</summary>
    public const int MaxLcores = 1024;

    private static readonly PollCounters[] s_counters = new PollCounters[MaxLcores];

    /// <summary>Records one poll of the calling lcore that received <paramref name="received"/> packets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Record(int received) => Record(Lcore.CurrentId, received);

    /// <summary>
    /// Records one poll of lcore <paramref name="lcoreId"/> (pass the id the loop read once at its start, to save the
    /// thread-static read). Ignored for ids outside 0..<see cref="MaxLcores"/>-1 (threads that are not lcores).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Record(int lcoreId, int received)
    {
        if ((uint)lcoreId >= MaxLcores)
            return;
        ref PollCounters c = ref s_counters[lcoreId];
        c.Polls++;
        c.BusyPolls += received > 0 ? 1UL : 0UL;
    }

    /// <summary>Polls and busy polls of <paramref name="lcoreId"/> since start (or the last <see cref="Reset"/>).</summary>
    public static (ulong Polls, ulong BusyPolls) Get(int lcoreId)
    {
        if ((uint)lcoreId >= MaxLcores)
            return (0, 0);
        ref PollCounters c = ref s_counters[lcoreId];
        // 64-bit loads are atomic on 64-bit targets; Volatile keeps the reads from being cached in a loop.
        // They pair with nothing: the owner's plain stores become visible on their own, slightly late at worst.
        ulong busy = Volatile.Read(ref c.BusyPolls);
        ulong polls = Volatile.Read(ref c.Polls);
        return (polls, busy > polls ? polls : busy);
    }

    /// <summary>Busy polls / polls of <paramref name="lcoreId"/> since start, or 0 before its first poll.</summary>
    public static double BusyRatio(int lcoreId)
    {
        (ulong polls, ulong busy) = Get(lcoreId);
        return polls == 0 ? 0 : (double)busy / polls;
    }

    /// <summary>Zeroes the counters of <paramref name="lcoreId"/>. Call it only while that lcore is not polling.</summary>
    public static void Reset(int lcoreId)
    {
        if ((uint)lcoreId >= MaxLcores)
            return;
        s_counters[lcoreId] = default;
    }

    /// <summary>Lcore ids that have recorded at least one poll.</summary>
    public static int[] ActiveLcores()
    {
        var ids = new System.Collections.Generic.List<int>();
        for (int i = 0; i < MaxLcores; i++)
        {
            if (Volatile.Read(ref s_counters[i].Polls) != 0)
                ids.Add(i);
        }
        return ids.ToArray();
    }

    // Two cache lines per lcore: the array's start is not 64-byte aligned, so 128 bytes guarantee that no two
    // lcores' counters share a line.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PollCounters
    {
        [FieldOffset(0)] public ulong Polls;
        [FieldOffset(8)] public ulong BusyPolls;
    }
}
