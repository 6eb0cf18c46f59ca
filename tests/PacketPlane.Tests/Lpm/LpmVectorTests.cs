using System;
using System.Linq;
using System.Runtime.Intrinsics;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

/// <summary>Every vector path against the scalar one on random tables and random addresses (hits, misses, groups).</summary>
public sealed class LpmVectorTests : IDisposable
{
    private const uint Miss = 0xDEAD_BEEF;
    private readonly Lpm4 _lpm;
    private readonly uint[] _addresses;

    public LpmVectorTests()
    {
        var random = new Random(404);
        _lpm = Lpm4.Create("lpm4_vec", new Lpm4Options { MaxRules = 40_000, NumberTbl8s = 16_384 });
        var prefixes = new uint[30_000];
        for (int i = 0; i < prefixes.Length; i++)
        {
            // A mix like a routing table: mostly /16-/24, a fair share beyond /24 so groups are exercised.
            int depth = random.Next(10) < 7 ? random.Next(8, 25) : random.Next(25, 33);
            prefixes[i] = (uint)random.NextInt64(1L << 32) & 0xDFFF_FFFF; // leave part of the space uncovered
            Assert.True(_lpm.Add(prefixes[i], depth, (uint)random.Next(1 << 24)).Succeeded);
        }
        // Half the probes land inside a route (often inside a group), half anywhere.
        _addresses = Enumerable.Range(0, 200_000)
            .Select(i => i % 2 == 0 ? prefixes[random.Next(prefixes.Length)] + (uint)random.Next(256) : (uint)random.NextInt64(1L << 32))
            .ToArray();
        Assert.True(_lpm.Tbl8GroupsInUse > 1000);
    }

    public void Dispose() => _lpm.Dispose();

    [Fact]
    public void X4_matches_scalar_lookups()
    {
        int missesSeen = 0;
        for (int i = 0; i + 4 <= _addresses.Length; i += 4)
        {
            Vector128<uint> ips = Vector128.Create(_addresses.AsSpan(i, 4));
            Vector128<uint> expected = _lpm.LookupX4Scalar(ips, Miss);
            Assert.Equal(expected, _lpm.LookupX4(ips, Miss));
            for (int lane = 0; lane < 4; lane++)
            {
                Assert.Equal(_lpm.Lookup(_addresses[i + lane], Miss), expected.GetElement(lane));
                missesSeen += expected.GetElement(lane) == Miss ? 1 : 0;
            }
        }
        Assert.True(missesSeen > 1000, "the probes must include misses");
    }

    [Fact]
    public void X8_gather_and_two_x4_match_scalar_lookups()
    {
        for (int i = 0; i + 8 <= _addresses.Length; i += 8)
        {
            Vector256<uint> ips = Vector256.Create(_addresses.AsSpan(i, 8));
            Vector256<uint> expected = Vector256.Create(
                _lpm.LookupX4Scalar(ips.GetLower(), Miss), _lpm.LookupX4Scalar(ips.GetUpper(), Miss));
            Assert.Equal(expected, _lpm.LookupX8(ips, Miss));
            Assert.Equal(expected, _lpm.LookupX8TwoX4(ips, Miss));
        }
    }

    [Fact]
    public void Bulk_matches_scalar_for_every_length_and_offset()
    {
        uint[] hops = new uint[80];
        for (int length = 0; length <= 70; length++)
        {
            for (int offset = 0; offset < 5000; offset += 97)
            {
                ReadOnlySpan<uint> ips = _addresses.AsSpan(offset, length);
                hops.AsSpan().Fill(1);
                _lpm.LookupBulk(ips, hops, Miss);
                for (int i = 0; i < length; i++)
                    Assert.Equal(_lpm.Lookup(ips[i], Miss), hops[i]);
                Assert.Equal(1u, hops[length]); // nothing written past the burst
            }
        }
    }

    [Fact]
    public void Span_forms_of_x4_and_x8_agree_with_the_vector_forms()
    {
        uint[] hops = new uint[8];
        _lpm.LookupX4(_addresses.AsSpan(0, 4), hops, Miss);
        Assert.Equal(_lpm.LookupX4(Vector128.Create(_addresses.AsSpan(0, 4)), Miss), Vector128.Create(hops.AsSpan(0, 4)));
        _lpm.LookupX8(_addresses.AsSpan(8, 8), hops, Miss);
        Assert.Equal(_lpm.LookupX8(Vector256.Create(_addresses.AsSpan(8, 8)), Miss), Vector256.Create(hops));
        Assert.Throws<ArgumentException>(() => _lpm.LookupX8(_addresses.AsSpan(0, 7), hops, Miss));
    }
}
