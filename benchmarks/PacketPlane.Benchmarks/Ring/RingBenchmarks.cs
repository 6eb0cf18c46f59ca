using System;
using BenchmarkDotNet.Attributes;
using PacketPlane.Ring;

namespace PacketPlane.Benchmarks.Ring;

/// <summary>Enqueue then dequeue of a bulk on one thread, per element (operations = bulk size).</summary>
[MemoryDiagnoser]
public class RingBenchmarks
{
    private Ring<nint> _ring = null!;
    private nint[] _items = null!;

    [Params(RingFlags.SingleProducer | RingFlags.SingleConsumer, RingFlags.None)]
    public RingFlags Mode { get; set; }

    [Params(8, 32)]
    public int BulkSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = Ring<nint>.Create(4096, Mode);
        _items = new nint[BulkSize];
    }

    [GlobalCleanup]
    public void Cleanup() => _ring.Dispose();

    [Benchmark(OperationsPerInvoke = 1024)]
    public int BulkEnqueueDequeue()
    {
        Span<nint> items = _items;
        int moved = 0;
        for (int i = 0; i < 1024 / BulkSize; i++)
        {
            moved += _ring.EnqueueBulk(items);
            moved += _ring.DequeueBulk(items);
        }
        return moved;
    }
}
