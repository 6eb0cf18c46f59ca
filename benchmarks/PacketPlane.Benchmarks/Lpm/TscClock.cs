using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace PacketPlane.Benchmarks;

/// <summary>
/// Converts Stopwatch time to TSC cycles, the unit DPDK's perf autotests print (they read rdtsc). The TSC rate is
/// taken from TSC_HZ when set, else from "cpu MHz" in /proc/cpuinfo (on these VMs the TSC runs at that rate and
/// is invariant), else calibrated as 1 GHz with a warning.
/// </summary>
internal static class TscClock
{
    private static readonly (double Hz, string Source) Rate = ReadHz();

    public static double Hz => Rate.Hz;

    public static string Source => Rate.Source;

    public static double Cycles(long stopwatchTicks) => stopwatchTicks * Hz / Stopwatch.Frequency;

    private static (double, string) ReadHz()
    {
        string? env = Environment.GetEnvironmentVariable("TSC_HZ");
        if (env is not null && double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out double hz))
        {
            return (hz, "TSC_HZ");
        }
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
            if (line is not null)
            {
                return (double.Parse(line[(line.IndexOf(':') + 1)..], CultureInfo.InvariantCulture) * 1e6, "/proc/cpuinfo cpu MHz");
            }
        }
        catch (IOException)
        {
        }
        return (1e9, "assumed 1 GHz (set TSC_HZ)");
    }
}
