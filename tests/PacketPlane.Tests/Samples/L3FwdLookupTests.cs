using System;
using System.IO;
using System.Linq;
using PacketPlane.Lpm;
using PacketPlane.Samples.L3Fwd;
using Xunit;

namespace PacketPlane.Tests.Samples;

/// <summary>
/// L3Fwd's LPM lookup of a burst: the IPv4 destinations go through the x8 and x4 bulk paths however the burst's
/// packets interleave, and each next hop lands in its own packet's slot, the same as one lookup per address.
/// </summary>
public sealed class L3FwdLookupTests
{
    [Theory]
    [InlineData(32)] // 8 + 8 + 8 + 8
    [InlineData(31)] // 8 + 8 + 8 + 4 + 3
    [InlineData(13)] // 8 + 4 + 1
    [InlineData(3)]  // one at a time
    public void A_burst_of_ipv4_destinations_gets_the_same_hops_as_one_lookup_each_in_the_right_slots(int count)
    {
        var rules = new[]
        {
            new Ipv4LpmRule(0xC612_0000, 24, 0, "t:1"), // 198.18.0.0/24 -> 0
            new Ipv4LpmRule(0xC612_0100, 24, 1, "t:2"), // 198.18.1.0/24 -> 1
            new Ipv4LpmRule(0xC612_0180, 25, 2, "t:3"), // 198.18.1.128/25 -> 2 (longer prefix wins)
            new Ipv4LpmRule(0x0A63_0000, 16, 3, "t:4"), // 10.99.0.0/16 -> 3 (a group below /24)
            new Ipv4LpmRule(0x0A63_0105, 32, 1, "t:5"), // 10.99.1.5/32 -> 1 (tbl8)
            new Ipv4LpmRule(0xC612_0500, 24, 5, "t:6"), // 198.18.5.0/24 -> 5, outside -p: not added
        };
        LpmLookup lookup = LpmLookup.Build(rules, [], portMask: 0xF, _ => "test", TextWriter.Null, numaNode: -1);
        try
        {
            var random = new Random(count);
            uint[] candidates = [0xC612_0001, 0xC612_01FE, 0xC612_0101, 0x0A63_0105, 0x0A63_0106, 0x0A63_FFFF, 0xC612_0501, 0x0808_0808];
            // IPv4 packets sit at scattered slots of a 32-packet burst, as when IPv6 and dropped packets interleave.
            byte[] slots = Enumerable.Range(0, 32).OrderBy(_ => random.Next()).Take(count).Order().Select(i => (byte)i).ToArray();
            uint[] destinations = slots.Select(_ => candidates[random.Next(candidates.Length)]).ToArray();
            var hops = Enumerable.Repeat(0xDEAD_BEEFu, 32).ToArray();

            lookup.Lookup([], slots, destinations, [], hops);

            for (int k = 0; k < count; k++)
            {
                uint expected = lookup.Ipv4.Lookup(destinations[k], IRouteLookup.Miss);
                Assert.Equal(expected, hops[slots[k]]);
            }
            Assert.All(Enumerable.Range(0, 32).Except(slots.Select(s => (int)s)), i => Assert.Equal(0xDEAD_BEEFu, hops[i]));
            // The answers themselves, not only agreement: the longer prefix, the /32, the skipped port, a miss.
            Assert.Equal(2u, lookup.Ipv4.Lookup(0xC612_01FE, IRouteLookup.Miss));
            Assert.Equal(1u, lookup.Ipv4.Lookup(0x0A63_0105, IRouteLookup.Miss));
            Assert.Equal(3u, lookup.Ipv4.Lookup(0x0A63_0106, IRouteLookup.Miss));
            Assert.Equal(IRouteLookup.Miss, lookup.Ipv4.Lookup(0xC612_0501, IRouteLookup.Miss));
            Assert.Equal(IRouteLookup.Miss, lookup.Ipv4.Lookup(0x0808_0808, IRouteLookup.Miss));
        }
        finally
        {
            lookup.Dispose();
        }
    }
}
