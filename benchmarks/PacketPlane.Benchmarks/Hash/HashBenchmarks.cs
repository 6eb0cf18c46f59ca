using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using PacketPlane.Hash;

namespace PacketPlane.Benchmarks.Hash;

/// <summary>
/// CuckooHash lookups of present keys in a 2^19-entry table filled to 75 % (the hash_perf_autotest size), for
/// l3fwd's key types: the 16-byte IPv4 and 48-byte IPv6 5-tuple; single, bulk (bursts of 16 and 32) and bulk
/// with values. 4096 lookups per operation, keys in shuffled order. For the comparison with DPDK use
/// benchmarks/compare/hash_perf.sh.
/// </summary>
[MemoryDiagnoser]
public class HashBenchmarks
{
    private const int Entries = 1 << 19;
    private const int Stored = Entries * 3 / 4;
    private const int Batch = 4096;

    private CuckooHash<Ipv4FiveTuple, ulong> _v4 = null!;
    private CuckooHash<Ipv6FiveTuple, ulong> _v6 = null!;
    private Ipv4FiveTuple[] _keys4 = null!;
    private Ipv6FiveTuple[] _keys6 = null!;
    private readonly int[] _positions = new int[32];
    private readonly ulong[] _values = new ulong[32];
    private int _offset;

    [Params(HashFunction.Crc32c, HashFunction.Jhash)]
    public HashFunction Function { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new CuckooHashOptions { Entries = Entries, HashFunction = Function };
        _v4 = CuckooHash<Ipv4FiveTuple, ulong>.Create("bdn_h4", options);
        _v6 = CuckooHash<Ipv6FiveTuple, ulong>.Create("bdn_h6", options);
        var random = new Random(7);
        _keys4 = Enumerable.Range(0, Stored).Select(i => new Ipv4FiveTuple((uint)random.Next(), (uint)i, (ushort)random.Next(), 443, 6)).ToArray();
        byte[] src = new byte[16], dst = new byte[16];
        _keys6 = Enumerable.Range(0, Stored).Select(i =>
        {
            random.NextBytes(src);
            BitConverter.TryWriteBytes(dst, i);
            return new Ipv6FiveTuple(src, dst, (ushort)i, 443, 17);
        }).ToArray();
        foreach (Ipv4FiveTuple k in _keys4)
            _v4.AddOrUpdate(k, 1UL);
        foreach (Ipv6FiveTuple k in _keys6)
            _v6.AddOrUpdate(k, 1UL);
        random.Shuffle(_keys4);
        random.Shuffle(_keys6);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _v4.Dispose();
        _v6.Dispose();
    }

    private int Next()
    {
        _offset += Batch;
        if (_offset + Batch > Stored)
            _offset = 0;
        return _offset;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Lookup_Ipv4()
    {
        int start = Next(), sum = 0;
        for (int i = start; i < start + Batch; i++)
            sum += _v4.Lookup(_keys4[i]);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int LookupBulk16_Ipv4()
    {
        int start = Next(), sum = 0;
        for (int i = start; i < start + Batch; i += 16)
            sum += _v4.LookupBulk(_keys4.AsSpan(i, 16), _positions);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int LookupBulk32_Ipv4()
    {
        int start = Next(), sum = 0;
        for (int i = start; i < start + Batch; i += 32)
            sum += _v4.LookupBulk(_keys4.AsSpan(i, 32), _positions);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong LookupBulkData32_Ipv4()
    {
        int start = Next();
        ulong mask = 0;
        for (int i = start; i < start + Batch; i += 32)
            mask ^= _v4.LookupBulkData(_keys4.AsSpan(i, 32), _values);
        return mask;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Lookup_Ipv6()
    {
        int start = Next(), sum = 0;
        for (int i = start; i < start + Batch; i++)
            sum += _v6.Lookup(_keys6[i]);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int LookupBulk32_Ipv6()
    {
        int start = Next(), sum = 0;
        for (int i = start; i < start + Batch; i += 32)
            sum += _v6.LookupBulk(_keys6.AsSpan(i, 32), _positions);
        return sum;
    }
}
