using System;
using System.Globalization;
using BenchmarkDotNet.Running;
using PacketPlane.Benchmarks.Perf;

namespace PacketPlane.Benchmarks;

/// <summary>
/// Entry point. BenchmarkDotNet by default (<c>-- --filter '*Ring*'</c>); or a console run that mirrors a DPDK perf
/// autotest (same workload, same metric, output that pairs with DPDK's line by line): <c>ring_perf</c>,
/// <c>mempool_perf [SECONDS [CACHE/GET/PUT/KEEP]]</c> (all 36 cases or one; on lcores 0-1 like <c>dpdk-test -l 0-1</c>), <c>lpm-perf</c>
/// (lpm_perf_autotest), <c>hash-perf</c> (hash_perf_autotest), <c>l2fwd-latency</c> (samples/L2Fwd's latency over
/// ring ports; its DPDK twin is benchmarks/compare/latency/l2fwd_latency.c).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "ring_perf":
            case "mempool_perf":
                return RunOnLcores(args);
            case "lpm-perf":
                return Lpm.LpmPerf.Run(args[1..]);
            case "hash-perf":
                return Hash.HashPerf.Run(args[1..]);
            case "l2fwd-latency":
                return Latency.L2FwdLatency.Run(args[1..]);
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }

    /// <summary>
    /// Runs on lcores 0-1 like <c>dpdk-test -l 0-1</c>. PP_MAIN_LCORE (say <c>1</c>, as <c>--main-lcore 1</c> for
    /// dpdk-test) moves the one-core cases to that CPU, so a long comparison can leave CPU 0 to other work.
    /// </summary>
    private static int RunOnLcores(string[] args)
    {
        string[] ealArgs = ["-l", Environment.ProcessorCount > 1 ? "0-1" : "0", "--log-level", "warning"];
        if (Environment.GetEnvironmentVariable("PP_MAIN_LCORE") is { Length: > 0 } mainLcore)
            ealArgs = [.. ealArgs, "--main-lcore", mainLcore];
        using Eal eal = Eal.Init(ealArgs, out _);
        Console.WriteLine($"TSC frequency used: {CycleClock.TscHz / 1e3:F0} KHz ({CycleClock.Source})");
        if (args[0] == "ring_perf")
        {
            RingPerf.Run(includeTwoCores: eal.WorkerLcores.Count > 0);
        }
        else
        {
            double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
            return MempoolPerf.Run(seconds, eal.Lcores.Count, only: args.Length > 2 ? args[2] : null);
        }
        return 0;
    }
}
