using System;
using System.Runtime.Intrinsics;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

/// <summary>Lookups allocate nothing: GC.GetAllocatedBytesForCurrentThread across a million lookups of each kind.</summary>
public sealed class LpmZeroAllocationTests : IDisposable
{
    private const int Lookups = 1_000_000;
    private readonly Lpm4 _lpm4;
    private readonly Lpm6 _lpm6;
    private readonly uint[] _ips = new uint[64];
    private readonly uint[] _hops = new uint[64];
    private readonly byte[] _ips6 = new byte[32 * 16];

    public LpmZeroAllocationTests()
    {
        var random = new Random(1);
        _lpm4 = Lpm4.Create("lpm4_zalloc", new Lpm4Options { MaxRules = 2048, NumberTbl8s = 512 });
        _lpm6 = Lpm6.Create("lpm6_zalloc", new Lpm6Options { MaxRules = 2048, NumberTbl8s = 4096 });
        for (int i = 0; i < 1000; i++)
        {
            _lpm4.Add((uint)random.NextInt64(1L << 32), random.Next(8, 33), (uint)i);
            _lpm6.Add(LpmDifferentialTests.RandomAddress(random), random.Next(16, 129), (uint)i);
        }
        for (int i = 0; i < _ips.Length; i++)
            _ips[i] = (uint)random.NextInt64(1L << 32);
        random.NextBytes(_ips6);
    }

    public void Dispose()
    {
        _lpm4.Dispose();
        _lpm6.Dispose();
    }

    [Fact]
    public void Single_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        uint sum = 0;
        for (int i = 0; i < Lookups; i++)
            sum += _lpm4.Lookup(_ips[i & 63] + (uint)i, 0);
        return sum;
    });

    [Fact]
    public void Bulk_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        for (int i = 0; i < Lookups / 32; i++)
            _lpm4.LookupBulk(_ips.AsSpan(i & 31, 32), _hops, 0);
        return _hops[0];
    });

    [Fact]
    public void X4_and_x8_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        Vector128<uint> acc4 = default;
        Vector256<uint> acc8 = default;
        for (int i = 0; i < Lookups / 8; i++)
        {
            acc4 ^= _lpm4.LookupX4(Vector128.Create(_ips.AsSpan(i & 31, 4)), 0);
            acc8 ^= _lpm4.LookupX8(Vector256.Create(_ips.AsSpan(i & 31, 8)), 0);
        }
        return acc4.GetElement(0) ^ acc8.GetElement(0);
    });

    [Fact]
    public void Ipv6_single_and_bulk_lookups_allocate_nothing() => AssertNoAllocation(() =>
    {
        uint sum = 0;
        for (int i = 0; i < Lookups / 2; i++)
            sum += _lpm6.Lookup(_ips6.AsSpan((i & 31) * 16, 16), out uint hop) ? hop : 0;
        for (int i = 0; i < Lookups / 2 / 32; i++)
            _lpm6.LookupBulk(_ips6, _hops, 0);
        return sum + _hops[0];
    });

    private static void AssertNoAllocation(Func<uint> run)
    {
        run(); // warm up: JIT, tiering
        run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
