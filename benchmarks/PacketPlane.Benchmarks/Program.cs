using System;
using System.Globalization;
using BenchmarkDotNet.Running;
using PacketPlane.Benchmarks.Perf;

namespace PacketPlane.Benchmarks;

/// <summary>
/// Entry point. BenchmarkDotNet by default (<c>-- --filter '*Ring*'</c>); or one of the DPDK-autotest equivalents
/// whose output pairs line by line with DPDK's (<c>-- ring_perf</c>, <c>-- mempool_perf [SECONDS]</c>), run on
/// lcores 0-1 like <c>dpdk-test -l 0-1</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "ring_perf" or "mempool_perf")
            return RunPerf(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    private static int RunPerf(string[] args)
    {
        using Eal eal = Eal.Init(["-l", Environment.ProcessorCount > 1 ? "0-1" : "0", "--log-level", "warning"], out _);
        Console.WriteLine($"TSC frequency used: {CycleClock.TscHz / 1e3:F0} KHz");
        switch (args[0])
        {
            case "ring_perf":
                RingPerf.Run(includeTwoCores: eal.WorkerLcores.Count > 0);
                break;
            case "mempool_perf":
                double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
                MempoolPerf.Run(seconds, eal.Lcores.Count);
                break;
        }
        return 0;
    }
}
