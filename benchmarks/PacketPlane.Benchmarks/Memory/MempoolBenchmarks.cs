using System;
using BenchmarkDotNet.Attributes;
using PacketPlane.Memory;

namespace PacketPlane.Benchmarks.Memory;

/// <summary>Bulk get/put of 32 through an lcore cache, per object.</summary>
[MemoryDiagnoser]
public class MempoolBenchmarks
{
    private MbufPool _pool = null!;
    private Packet[] _burst = null!;

    [Params(0, 256)]
    public int CacheSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // BenchmarkDotNet's thread is not an lcore; act as lcore 0 so the per-lcore cache is used.
        Lcore.SetCurrent(0);
        _pool = MbufPool.Create("bench", 8192, CacheSize);
        _burst = new Packet[32];
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(OperationsPerInvoke = 32 * 32)]
    public void RawBulkGetPut32()
    {
        Span<Packet> burst = _burst;
        for (int i = 0; i < 32; i++)
        {
            _pool.RawAllocBulk(burst);
            _pool.RawFreeBulk(burst);
        }
    }

    [Benchmark(OperationsPerInvoke = 32 * 32)]
    public void AllocBulkFreeBulk32()
    {
        Span<Packet> burst = _burst;
        for (int i = 0; i < 32; i++)
        {
            _pool.AllocBulk(burst);
            Packet.FreeBulk(burst);
        }
    }
}
