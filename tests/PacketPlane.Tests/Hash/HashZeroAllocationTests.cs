using System;
using System.Linq;
using PacketPlane.Hash;
using Xunit;

namespace PacketPlane.Tests.Hash;

/// <summary>Hash lookups allocate nothing: GC.GetAllocatedBytesForCurrentThread across a million lookups of each kind.</summary>
public sealed class HashZeroAllocationTests : IDisposable
{
    private const int Lookups = 1_000_000;
    private readonly CuckooHash<Ipv4FiveTuple, ulong> _table;
    private readonly CuckooHash<Ipv6FiveTuple, ulong> _lockFree;
    private readonly Ipv4FiveTuple[] _keys;
    private readonly Ipv6FiveTuple[] _keys6;
    private readonly int[] _positions = new int[32];
    private readonly ulong[] _values = new ulong[32];

    public HashZeroAllocationTests()
    {
        _table = CuckooHash<Ipv4FiveTuple, ulong>.Create("h_zalloc", new CuckooHashOptions { Entries = 4096 });
        _lockFree = CuckooHash<Ipv6FiveTuple, ulong>.Create("h_zalloc6", new CuckooHashOptions { Entries = 4096, LockFreeReaders = true, HashFunction = HashFunction.Jhash });
        _keys = Enumerable.Range(0, 64).Select(i => new Ipv4FiveTuple((uint)i, 7, 1, 2, 17)).ToArray();
        _keys6 = Enumerable.Range(0, 64).Select(i => TestKeys.Make<Ipv6FiveTuple>((ulong)i)).ToArray();
        for (int i = 0; i < 48; i++)   // 48 of 64 present: lookups both hit and miss
        {
            _table.AddOrUpdate(_keys[i], (ulong)i);
            _lockFree.AddOrUpdate(_keys6[i], (ulong)i);
        }
    }

    public void Dispose()
    {
        _table.Dispose();
        _lockFree.Dispose();
    }

    [Fact]
    public void Single_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        long sum = 0;
        for (int i = 0; i < Lookups / 2; i++)
        {
            sum += _table.Lookup(_keys[i & 63]);
            sum += _lockFree.TryGetValue(_keys6[i & 63], out ulong v) ? (long)v : 0;
        }
        return sum;
    });

    [Fact]
    public void Bulk_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        long sum = 0;
        for (int i = 0; i < Lookups / 32 / 2; i++)
        {
            sum += _table.LookupBulk(_keys.AsSpan(i & 31, 32), _positions);
            sum += (long)_lockFree.LookupBulkData(_keys6.AsSpan(i & 31, 32), _values);
        }
        return sum;
    });

    private static void AssertNoAllocation(Func<long> run)
    {
        run();
        run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
