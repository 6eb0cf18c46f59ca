using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using PacketPlane.Lpm;

namespace PacketPlane.Benchmarks.Lpm;

/// <summary>
/// Lpm4 lookups on the lpm_perf_autotest route table (~1.08M routes, BGP-like depths), random addresses, 4096
/// lookups per operation; reported per lookup. For the cycles-per-lookup comparison with DPDK use
/// benchmarks/compare/lpm_perf.sh; this class is for tracking our own changes.
/// </summary>
[MemoryDiagnoser]
public class LpmBenchmarks
{
    private const int Batch = 4096;
    private const int AddressCount = 1 << 22;   // 16 MiB of addresses: a window never stays in cache
    private Lpm4 _lpm = null!;
    private uint[] _addresses = null!;
    private readonly uint[] _hops = new uint[Batch];
    private int _offset;

    [GlobalSetup]
    public void Setup()
    {
        _lpm = Lpm4.Create("bdn_lpm", new Lpm4Options { MaxRules = 2_000_000, NumberTbl8s = 2048 });
        List<(uint Ip, byte Depth)> routes = LpmPerfRoutes.Generate();
        foreach ((uint ip, byte depth) in routes)
            _lpm.Add(ip, depth, 0xAA);
        var rng = new LpmPerf.XorShift(42);
        _addresses = new uint[AddressCount];
        for (int i = 0; i < AddressCount; i++)
            _addresses[i] = rng.Next();
    }

    [GlobalCleanup]
    public void Cleanup() => _lpm.Dispose();

    private ReadOnlySpan<uint> NextBatch()
    {
        _offset = (_offset + Batch) & (AddressCount - 1);
        return _addresses.AsSpan(_offset, Batch);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public uint Single()
    {
        ReadOnlySpan<uint> batch = NextBatch();
        uint sum = 0;
        foreach (uint ip in batch)
            sum += _lpm.Lookup(ip, uint.MaxValue);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Bulk32()
    {
        ReadOnlySpan<uint> batch = NextBatch();
        for (int i = 0; i < Batch; i += 32)
            _lpm.LookupBulk(batch.Slice(i, 32), _hops.AsSpan(i, 32), uint.MaxValue);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public Vector128<uint> X4()
    {
        ReadOnlySpan<uint> batch = NextBatch();
        Vector128<uint> acc = default;
        for (int i = 0; i < Batch; i += 4)
            acc ^= _lpm.LookupX4(Vector128.Create(batch.Slice(i, 4)), uint.MaxValue);
        return acc;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public Vector256<uint> X8()
    {
        ReadOnlySpan<uint> batch = NextBatch();
        Vector256<uint> acc = default;
        for (int i = 0; i < Batch; i += 8)
            acc ^= _lpm.LookupX8(Vector256.Create(batch.Slice(i, 8)), uint.MaxValue);
        return acc;
    }
}
