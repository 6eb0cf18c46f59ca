using System;
using System.Buffers.Binary;
using System.Linq;
using System.Net;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

public class Lpm4Tests
{
    internal static uint Ip(string dotted) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(dotted).GetAddressBytes());

    private static uint? Find(Lpm4 lpm, string dotted) => lpm.Lookup(Ip(dotted), out uint hop) ? hop : null;

    [Fact]
    public void Longest_prefix_wins_and_delete_restores_the_covering_route()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_basic");
        Assert.Equal(LpmAddStatus.Added, lpm.Add(Ip("10.0.0.0"), 8, 1).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(Ip("10.1.0.0"), 16, 2).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(Ip("10.1.2.0"), 24, 3).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(Ip("10.1.2.128"), 25, 4).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(Ip("10.1.2.200"), 32, 5).Status);

        Assert.Equal(1u, Find(lpm, "10.9.9.9"));
        Assert.Equal(2u, Find(lpm, "10.1.9.9"));
        Assert.Equal(3u, Find(lpm, "10.1.2.1"));
        Assert.Equal(4u, Find(lpm, "10.1.2.129"));
        Assert.Equal(5u, Find(lpm, "10.1.2.200"));
        Assert.Null(Find(lpm, "11.0.0.1"));
        Assert.Equal(1, lpm.Tbl8GroupsInUse);

        Assert.True(lpm.Delete(Ip("10.1.2.0"), 24));   // under a group: entries owned by the /24 fall back to the /16
        Assert.Equal(2u, Find(lpm, "10.1.2.1"));
        Assert.Equal(4u, Find(lpm, "10.1.2.129"));
        Assert.True(lpm.Delete(Ip("10.1.2.128"), 25));
        Assert.Equal(2u, Find(lpm, "10.1.2.129"));
        Assert.Equal(5u, Find(lpm, "10.1.2.200"));
        Assert.True(lpm.Delete(Ip("10.1.2.200"), 32)); // the group now says "/16" everywhere and folds back into tbl24
        Assert.Equal(2u, Find(lpm, "10.1.2.200"));
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
        Assert.True(lpm.Delete(Ip("10.1.0.0"), 16));
        Assert.Equal(1u, Find(lpm, "10.1.2.200"));
        Assert.True(lpm.Delete(Ip("10.0.0.0"), 8));
        Assert.Null(Find(lpm, "10.1.2.200"));
        Assert.False(lpm.Delete(Ip("10.0.0.0"), 8));
        Assert.Equal(0, lpm.RuleCount);
    }

    [Fact]
    public void Adding_an_existing_route_updates_its_next_hop_everywhere_it_applies()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_update");
        lpm.Add(Ip("192.168.0.0"), 16, 7);
        lpm.Add(Ip("192.168.1.64"), 26, 8);
        LpmAddResult result = lpm.Add(Ip("192.168.77.77"), 16, 9); // host bits ignored
        Assert.Equal(LpmAddStatus.Updated, result.Status);
        Assert.True(result.Succeeded);
        Assert.Equal(9u, Find(lpm, "192.168.200.1"));
        Assert.Equal(9u, Find(lpm, "192.168.1.1"));   // inside the group, owned by the /16
        Assert.Equal(8u, Find(lpm, "192.168.1.65"));
        Assert.True(lpm.IsRulePresent(Ip("192.168.0.0"), 16, out uint hop));
        Assert.Equal(9u, hop);
        Assert.False(lpm.IsRulePresent(Ip("192.168.0.0"), 17, out _));
        Assert.Equal(2, lpm.RuleCount);
        Assert.Contains(new Lpm4Route(Ip("192.168.1.64"), 26, 8), lpm.Routes);
    }

    [Fact]
    public void Default_route_covers_everything_and_can_be_removed()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_default");
        lpm.Add(0, 0, 42);
        lpm.Add(Ip("1.2.3.4"), 32, 43);
        Assert.Equal(42u, Find(lpm, "255.255.255.255"));
        Assert.Equal(42u, Find(lpm, "1.2.3.5"));
        Assert.Equal(43u, Find(lpm, "1.2.3.4"));
        Assert.True(lpm.Delete(0, 0));
        Assert.Null(Find(lpm, "1.2.3.5"));
        Assert.Equal(43u, Find(lpm, "1.2.3.4"));
    }

    [Fact]
    public void Full_rule_table_is_reported_and_every_earlier_route_still_resolves()
    {
        const int maxRules = 300;
        using Lpm4 lpm = Lpm4.Create("lpm4_fullrules", new Lpm4Options { MaxRules = maxRules, NumberTbl8s = 512 });
        var reference = new ReferenceLpm4();
        var random = new Random(11);
        while (reference.Count < maxRules)
        {
            uint ip = (uint)random.Next() << 1 ^ (uint)random.Next(2);
            int depth = random.Next(8, 33);
            uint hop = (uint)random.Next(1 << 24);
            Assert.True(lpm.Add(ip, depth, hop).Succeeded);
            reference.Set(ip, depth, hop);
        }

        LpmAddResult full = lpm.Add(Ip("203.0.113.0"), 24, 1);
        Assert.Equal(LpmAddStatus.RuleTableFull, full.Status);
        Assert.False(full.Succeeded);
        Assert.Contains("MaxRules", full.Reason);
        Assert.Equal(maxRules, lpm.RuleCount);
        Assert.False(lpm.IsRulePresent(Ip("203.0.113.0"), 24, out _));
        // An existing route can still be updated when the table is full.
        (uint p, int d, uint _) = reference.Routes[0];
        Assert.Equal(LpmAddStatus.Updated, lpm.Add(p, d, 77).Status);
        reference.Set(p, d, 77);

        AssertSameAsReference(lpm, reference, random);
    }

    [Fact]
    public void Exhausted_groups_are_reported_without_touching_the_table()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_fullgroups", new Lpm4Options { MaxRules = 100, NumberTbl8s = 3 });
        var reference = new ReferenceLpm4();
        void Add(string ip, int depth, uint hop)
        {
            Assert.True(lpm.Add(Ip(ip), depth, hop).Succeeded);
            reference.Set(Ip(ip), depth, hop);
        }
        Add("10.0.0.0", 8, 1);
        Add("10.0.1.0", 25, 2);
        Add("10.0.2.0", 26, 3);
        Add("10.0.3.4", 32, 4);
        Assert.Equal(3, lpm.Tbl8GroupsInUse);

        LpmAddResult result = lpm.Add(Ip("10.0.4.0"), 28, 5);   // a fourth /24 would need a fourth group
        Assert.Equal(LpmAddStatus.GroupsExhausted, result.Status);
        Assert.Contains("NumberTbl8s", result.Reason);
        Assert.Equal(4, lpm.RuleCount);
        Assert.Equal(1u, Find(lpm, "10.0.4.1"));                 // still answered by the /8

        Add("10.0.1.200", 30, 6);                                 // an existing group has room
        Add("10.0.4.0", 24, 7);                                   // routes up to /24 need no group
        Assert.True(lpm.Delete(Ip("10.0.3.4"), 32));              // frees a group ...
        reference.Remove(Ip("10.0.3.4"), 32);
        Assert.Equal(2, lpm.Tbl8GroupsInUse);
        Add("10.0.4.0", 28, 5);                                   // ... which the refused route can now use
        AssertSameAsReference(lpm, reference, new Random(5));
    }

    [Fact]
    public void Delete_all_empties_the_table()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_clear");
        lpm.Add(Ip("1.0.0.0"), 8, 1);
        lpm.Add(Ip("1.1.1.1"), 32, 2);
        lpm.DeleteAll();
        Assert.Equal(0, lpm.RuleCount);
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
        Assert.Null(Find(lpm, "1.1.1.1"));
        Assert.Null(Find(lpm, "1.2.3.4"));
        Assert.True(lpm.Add(Ip("1.1.1.1"), 32, 3).Succeeded);
        Assert.Equal(3u, Find(lpm, "1.1.1.1"));
    }

    [Fact]
    public void IPAddress_overloads_match_the_numeric_ones()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_ipaddr");
        Assert.True(lpm.Add(IPAddress.Parse("198.18.3.0"), 24, 3).Succeeded);
        Assert.Equal(3u, lpm.Lookup(0xC6120309, 99));
        Assert.Equal(99u, lpm.Lookup(0xC6120409, 99));
        Assert.True(lpm.Delete(IPAddress.Parse("198.18.3.0"), 24));
        Assert.Throws<ArgumentException>(() => lpm.Add(IPAddress.Parse("::1"), 24, 3));
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_limit_named()
    {
        using Lpm4 lpm = Lpm4.Create("lpm4_args");
        var depth = Assert.Throws<ArgumentOutOfRangeException>(() => lpm.Add(0, 33, 1));
        Assert.Contains("0 to 32", depth.Message);
        var hop = Assert.Throws<ArgumentOutOfRangeException>(() => lpm.Add(0, 8, 1u << 24));
        Assert.Contains("24 bits", hop.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lpm4.Create("x", new Lpm4Options { MaxRules = 0 }));
        Assert.Throws<ArgumentException>(() => lpm.LookupBulk(new uint[4], new uint[3], 0));
        lpm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lpm.Add(0, 8, 1));
    }

    /// <summary>Random addresses plus the first, last and neighbouring address of every route.</summary>
    internal static void AssertSameAsReference(Lpm4 lpm, ReferenceLpm4 reference, Random random, int randomProbes = 2000)
    {
        var probes = Enumerable.Range(0, randomProbes).Select(_ => (uint)random.NextInt64(1L << 32)).ToList();
        foreach ((uint prefix, int depth, uint _) in reference.Routes)
        {
            uint last = prefix | ~ReferenceLpm4.Mask(depth);
            probes.AddRange([prefix, last, prefix - 1, last + 1]);
        }
        foreach (uint ip in probes)
        {
            bool expectedHit = reference.Lookup(ip, out uint expected);
            bool hit = lpm.Lookup(ip, out uint actual);
            Assert.True(expectedHit == hit, $"lookup of 0x{ip:x8}: expected {(expectedHit ? "hit" : "miss")}");
            if (hit)
                Assert.True(expected == actual, $"lookup of 0x{ip:x8}: expected next hop {expected}, got {actual}");
        }
    }
}
