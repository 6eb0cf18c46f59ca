using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace PacketPlane.Benchmarks.Perf;

/// <summary>
/// Converts elapsed time to TSC cycles so our figures are in the unit DPDK's perf autotests print. .NET has no
/// rdtsc intrinsic; Stopwatch (CLOCK_MONOTONIC) over millions of iterations is as precise, and the TSC frequency
/// comes from PP_TSC_HZ (the compare scripts pass DPDK's own "TSC frequency is ~N KHz") or /proc/cpuinfo (on these
/// VMs the TSC runs at "cpu MHz" and is invariant).
/// </summary>
public static class CycleClock
{
    private static readonly (double Hz, string Source) s_rate = ReadTscHz();

    /// <summary>TSC ticks per second.</summary>
    public static double TscHz => s_rate.Hz;

    /// <summary>Where <see cref="TscHz"/> came from, for the report.</summary>
    public static string Source => s_rate.Source;

    public static long Now() => Stopwatch.GetTimestamp();

    public static double CyclesSince(long start) => Cycles(Stopwatch.GetTimestamp() - start);

    public static double CyclesBetween(long start, long end) => Cycles(end - start);

    /// <summary>TSC cycles in <paramref name="stopwatchTicks"/>.</summary>
    public static double Cycles(long stopwatchTicks) => stopwatchTicks * TscHz / Stopwatch.Frequency;

    private static (double, string) ReadTscHz()
    {
        string? env = Environment.GetEnvironmentVariable("PP_TSC_HZ");
        if (env is not null && double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out double hz) && hz > 0)
            return (hz, "PP_TSC_HZ");
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                    return (double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) * 1e6, "/proc/cpuinfo cpu MHz");
            }
        }
        catch (IOException)
        {
        }
        return (1e9, "assumed 1 GHz (set PP_TSC_HZ)");
    }
}
