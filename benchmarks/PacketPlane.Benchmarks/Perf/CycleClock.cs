using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace PacketPlane.Benchmarks.Perf;

/// <summary>
/// Converts elapsed time to TSC cycles so our figures are in the unit DPDK's perf autotests print. .NET has no
/// rdtsc intrinsic; Stopwatch (CLOCK_MONOTONIC) over millions of iterations is as precise, and the TSC frequency
/// comes from PP_TSC_HZ (the compare scripts pass DPDK's own "TSC frequency is ~N KHz") or /proc/cpuinfo.
/// </summary>
public static class CycleClock
{
    public static double TscHz { get; } = ReadTscHz();

    public static long Now() => Stopwatch.GetTimestamp();

    public static double CyclesSince(long start) => (Stopwatch.GetTimestamp() - start) * TscHz / Stopwatch.Frequency;

    public static double CyclesBetween(long start, long end) => (end - start) * TscHz / Stopwatch.Frequency;

    private static double ReadTscHz()
    {
        string? env = Environment.GetEnvironmentVariable("PP_TSC_HZ");
        if (env is not null && double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out double hz) && hz > 0)
            return hz;
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) * 1e6;
        }
        return 1e9;
    }
}
