using System;
using System.Buffers.Binary;
using System.Linq;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

/// <summary>
/// More than 100,000 random adds, deletes and lookups per address family, with prefixes of every length that
/// overlap heavily (all addresses are drawn near a few seeds), each result compared with a linear scan.
/// </summary>
public class LpmDifferentialTests
{
    private const int Operations = 120_000;

    [Fact]
    public void Ipv4_random_adds_deletes_and_lookups_agree_with_a_linear_scan()
    {
        var random = new Random(20261122);
        using Lpm4 lpm = Lpm4.Create("lpm4_diff", new Lpm4Options { MaxRules = 4000, NumberTbl8s = 4096 });
        var reference = new ReferenceLpm4();
        uint[] seeds = Enumerable.Range(0, 24).Select(_ => (uint)random.NextInt64(1L << 32)).ToArray();
        uint Near() => seeds[random.Next(seeds.Length)] ^ (uint)(random.NextInt64(1L << 32) & ((1L << random.Next(33)) - 1));
        var depthsAdded = new bool[33];
        int adds = 0, deletes = 0, lookups = 0;

        for (int op = 0; op < Operations; op++)
        {
            double addShare = reference.Count < 1500 ? 0.45 : 0.25;
            double r = random.NextDouble();
            if (r < addShare)
            {
                uint ip = Near();
                int depth = DepthSampler.Next(random, 32);
                uint hop = (uint)random.Next(1 << 24);
                LpmAddResult result = lpm.Add(ip, depth, hop);
                Assert.True(result.Succeeded, result.ToString());
                bool isNew = reference.Set(ip, depth, hop);
                Assert.Equal(isNew ? LpmAddStatus.Added : LpmAddStatus.Updated, result.Status);
                depthsAdded[depth] = true;
                adds++;
            }
            else if (r < 0.70)
            {
                (uint ip, int depth) = random.Next(5) > 0 && reference.Count > 0
                    ? PickRoute(reference, random)
                    : (Near(), DepthSampler.Next(random, 32));
                Assert.Equal(reference.Remove(ip, depth), lpm.Delete(ip, depth));
                deletes++;
            }
            else
            {
                uint ip = random.Next(3) switch
                {
                    0 => (uint)random.NextInt64(1L << 32),
                    1 when reference.Count > 0 => RouteEdge(reference, random),
                    _ => Near(),
                };
                bool expectedHit = reference.Lookup(ip, out uint expected);
                Assert.Equal(expectedHit, lpm.Lookup(ip, out uint actual));
                if (expectedHit)
                    Assert.Equal(expected, actual);
                lookups++;
            }
            if (op % 10_000 == 9_999)
            {
                Lpm4Tests.AssertSameAsReference(lpm, reference, random, randomProbes: 500);
                Assert.Equal(reference.Count, lpm.RuleCount);
            }
        }
        Assert.All(Enumerable.Range(0, 33), d => Assert.True(depthsAdded[d], $"no /{d} route was added"));
        Assert.True(adds + deletes + lookups >= 100_000);
        Assert.Equal(
            reference.Routes.Select(r => new Lpm4Route(r.Prefix, r.Depth, r.NextHop)).OrderBy(r => r.Prefix).ThenBy(r => r.Depth),
            lpm.Routes.OrderBy(r => r.Prefix).ThenBy(r => r.Depth));

        // Deleting everything one by one leaves no group behind.
        foreach ((uint prefix, int depth, uint _) in reference.Routes.ToArray())
            Assert.True(lpm.Delete(prefix, depth));
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
        Assert.Equal(0, lpm.RuleCount);
    }

    [Fact]
    public void Ipv6_random_adds_deletes_and_lookups_agree_with_a_linear_scan()
    {
        var random = new Random(6);
        using Lpm6 lpm = Lpm6.Create("lpm6_diff", new Lpm6Options { MaxRules = 4000, NumberTbl8s = 65536 });
        var reference = new ReferenceLpm6();
        UInt128[] seeds = Enumerable.Range(0, 24).Select(_ => RandomAddress(random)).ToArray();
        UInt128 Near() => seeds[random.Next(seeds.Length)] ^ (RandomAddress(random) & LowBits(random.Next(129)));
        var depthsAdded = new bool[129];
        int adds = 0, deletes = 0, lookups = 0;
        Span<byte> bytes = stackalloc byte[16];

        for (int op = 0; op < Operations; op++)
        {
            double addShare = reference.Count < 1500 ? 0.45 : 0.25;
            double r = random.NextDouble();
            if (r < addShare)
            {
                UInt128 ip = Near();
                int depth = DepthSampler.Next(random, 128);
                uint hop = (uint)random.Next(1 << 21);
                LpmAddResult result = lpm.Add(ip, depth, hop);
                Assert.True(result.Succeeded, result.ToString());
                bool isNew = reference.Set(ip, depth, hop);
                Assert.Equal(isNew ? LpmAddStatus.Added : LpmAddStatus.Updated, result.Status);
                depthsAdded[depth] = true;
                adds++;
            }
            else if (r < 0.70)
            {
                (UInt128 ip, int depth) = random.Next(5) > 0 && reference.Count > 0
                    ? PickRoute(reference, random)
                    : (Near(), DepthSampler.Next(random, 128));
                Assert.Equal(reference.Remove(ip, depth), lpm.Delete(ip, depth));
                deletes++;
            }
            else
            {
                UInt128 ip = random.Next(3) switch
                {
                    0 => RandomAddress(random),
                    1 when reference.Count > 0 => RouteEdge(reference, random),
                    _ => Near(),
                };
                bool expectedHit = reference.Lookup(ip, out uint expected);
                BinaryPrimitives.WriteUInt128BigEndian(bytes, ip);
                Assert.Equal(expectedHit, lpm.Lookup(bytes, out uint actual));
                if (expectedHit)
                    Assert.Equal(expected, actual);
                lookups++;
            }
            if (op % 10_000 == 9_999)
            {
                AssertSameAsReference(lpm, reference, random);
                Assert.Equal(reference.Count, lpm.RuleCount);
            }
        }
        Assert.All(Enumerable.Range(0, 129), d => Assert.True(depthsAdded[d], $"no /{d} route was added"));
        Assert.True(adds + deletes + lookups >= 100_000);

        foreach ((UInt128 prefix, int depth, uint _) in reference.Routes.ToArray())
            Assert.True(lpm.Delete(prefix, depth));
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
        Assert.Equal(0, lpm.RuleCount);
    }

    internal static UInt128 RandomAddress(Random random) => new((ulong)random.NextInt64() ^ (ulong)random.Next() << 40, (ulong)random.NextInt64() ^ (ulong)random.Next() << 40);

    private static UInt128 LowBits(int bits) => bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;

    private static (uint, int) PickRoute(ReferenceLpm4 reference, Random random)
    {
        var route = reference.Routes[random.Next(reference.Count)];
        return (route.Prefix, route.Depth);
    }

    private static (UInt128, int) PickRoute(ReferenceLpm6 reference, Random random)
    {
        var route = reference.Routes[random.Next(reference.Count)];
        return (route.Prefix, route.Depth);
    }

    /// <summary>The first or last address of a route, or the one just outside it.</summary>
    private static uint RouteEdge(ReferenceLpm4 reference, Random random)
    {
        var route = reference.Routes[random.Next(reference.Count)];
        uint last = route.Prefix | ~ReferenceLpm4.Mask(route.Depth);
        return random.Next(4) switch { 0 => route.Prefix, 1 => last, 2 => route.Prefix - 1, _ => last + 1 };
    }

    private static UInt128 RouteEdge(ReferenceLpm6 reference, Random random)
    {
        var route = reference.Routes[random.Next(reference.Count)];
        UInt128 last = route.Prefix | ~ReferenceLpm6.Mask(route.Depth);
        return random.Next(4) switch { 0 => route.Prefix, 1 => last, 2 => route.Prefix - 1, _ => last + 1 };
    }

    private static void AssertSameAsReference(Lpm6 lpm, ReferenceLpm6 reference, Random random)
    {
        var probes = Enumerable.Range(0, 500).Select(_ => RandomAddress(random)).ToList();
        foreach ((UInt128 prefix, int depth, uint _) in reference.Routes)
        {
            UInt128 last = prefix | ~ReferenceLpm6.Mask(depth);
            probes.AddRange([prefix, last, prefix - 1, last + 1]);
        }
        byte[] bulk = new byte[probes.Count * 16];
        for (int i = 0; i < probes.Count; i++)
            BinaryPrimitives.WriteUInt128BigEndian(bulk.AsSpan(i * 16), probes[i]);
        uint[] hops = new uint[probes.Count];
        lpm.LookupBulk(bulk, hops, uint.MaxValue);
        for (int i = 0; i < probes.Count; i++)
        {
            UInt128 ip = probes[i];
            uint expected = reference.Lookup(ip, out uint hop) ? hop : uint.MaxValue;
            Assert.True(expected == hops[i], $"bulk lookup of {ip:x32}: expected {expected}, got {hops[i]}");
            Assert.Equal(expected, lpm.Lookup(ip, out uint single) ? single : uint.MaxValue);
        }
    }
}
