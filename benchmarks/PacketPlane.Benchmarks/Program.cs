using BenchmarkDotNet.Running;

namespace PacketPlane.Benchmarks;

/// <summary>Entry point: dotnet run -c Release --project benchmarks/PacketPlane.Benchmarks -- --filter '*Ring*'</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
