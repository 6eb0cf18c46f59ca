using System;
using BenchmarkDotNet.Running;

namespace PacketPlane.Benchmarks;

/// <summary>
/// Entry point: dotnet run -c Release --project benchmarks/PacketPlane.Benchmarks -- --filter '*Ring*'.
/// The first argument can also name a console run that mirrors a DPDK perf autotest (same workload and metric):
/// lpm-perf (lpm_perf_autotest), hash-perf (hash_perf_autotest).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "lpm-perf":
                return Lpm.LpmPerf.Run(args[1..]);
            case "hash-perf":
                return Hash.HashPerf.Run(args[1..]);
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }
}
