using System;
using System.Net;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

public class Lpm6Tests
{
    private static uint? Find(Lpm6 lpm, string address) =>
        lpm.Lookup(IPAddress.Parse(address).GetAddressBytes(), out uint hop) ? hop : null;

    [Fact]
    public void Longest_prefix_wins_across_levels_and_delete_restores_the_covering_route()
    {
        using Lpm6 lpm = Lpm6.Create("lpm6_basic", new Lpm6Options { NumberTbl8s = 1024 });
        Assert.Equal(LpmAddStatus.Added, lpm.Add(IPAddress.Parse("2001:200::"), 32, 1).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(IPAddress.Parse("2001:200:0:5::"), 64, 2).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(IPAddress.Parse("2001:200:0:5::8000"), 113, 3).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(IPAddress.Parse("2001:200:0:5::8001"), 128, 4).Status);
        Assert.Equal(LpmAddStatus.Added, lpm.Add(IPAddress.Parse("2000::"), 3, 5).Status);

        Assert.Equal(1u, Find(lpm, "2001:200:1::1"));
        Assert.Equal(2u, Find(lpm, "2001:200:0:5::1"));
        Assert.Equal(3u, Find(lpm, "2001:200:0:5::8002"));
        Assert.Equal(4u, Find(lpm, "2001:200:0:5::8001"));
        Assert.Equal(5u, Find(lpm, "2abc::1"));
        Assert.Null(Find(lpm, "fe80::1"));
        int groups = lpm.Tbl8GroupsInUse;
        Assert.Equal(13, groups); // /32 ends in level 1; /64 needs levels 1-5; /113 and /128 reach level 13

        Assert.True(lpm.Delete(IPAddress.Parse("2001:200:0:5::8001"), 128));
        Assert.Equal(3u, Find(lpm, "2001:200:0:5::8001"));
        Assert.True(lpm.Delete(IPAddress.Parse("2001:200:0:5::8000"), 113));
        Assert.Equal(2u, Find(lpm, "2001:200:0:5::8001"));
        Assert.Equal(5, lpm.Tbl8GroupsInUse);  // levels 6-13 were only there for the deleted routes
        Assert.True(lpm.Delete(IPAddress.Parse("2001:200:0:5::"), 64));
        Assert.Equal(1u, Find(lpm, "2001:200:0:5::8001"));
        Assert.Equal(1, lpm.Tbl8GroupsInUse);
        Assert.True(lpm.Delete(IPAddress.Parse("2001:200::"), 32));
        Assert.Equal(5u, Find(lpm, "2001:200:0:5::8001"));
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
        Assert.False(lpm.Delete(IPAddress.Parse("2001:200::"), 32));
    }

    [Fact]
    public void Shorter_route_added_later_does_not_override_longer_ones_and_updates_apply()
    {
        using Lpm6 lpm = Lpm6.Create("lpm6_order", new Lpm6Options { NumberTbl8s = 256 });
        lpm.Add(IPAddress.Parse("2001:db8:1::"), 48, 10);
        lpm.Add(IPAddress.Parse("2001:db8::"), 32, 11);
        lpm.Add(IPAddress.Parse("::"), 0, 12);
        Assert.Equal(10u, Find(lpm, "2001:db8:1::99"));
        Assert.Equal(11u, Find(lpm, "2001:db8:2::99"));
        Assert.Equal(12u, Find(lpm, "::1"));
        Assert.Equal(LpmAddStatus.Updated, lpm.Add(IPAddress.Parse("2001:db8:ffff::"), 32, 13).Status);
        Assert.Equal(13u, Find(lpm, "2001:db8:2::99"));
        Assert.Equal(10u, Find(lpm, "2001:db8:1::99"));
        Assert.True(lpm.IsRulePresent(IPAddress.Parse("2001:db8::").GetAddressBytes(), 32, out uint hop));
        Assert.Equal(13u, hop);
        Assert.Equal(3, lpm.RuleCount);
        lpm.DeleteAll();
        Assert.Null(Find(lpm, "2001:db8:1::99"));
        Assert.Equal(0, lpm.Tbl8GroupsInUse);
    }

    [Fact]
    public void Full_tables_are_reported_and_leave_every_route_in_place()
    {
        using Lpm6 lpm = Lpm6.Create("lpm6_full", new Lpm6Options { MaxRules = 4, NumberTbl8s = 6 });
        Assert.True(lpm.Add(IPAddress.Parse("2001:db8::"), 32, 1).Succeeded);   // 1 group
        Assert.True(lpm.Add(IPAddress.Parse("2001:db8::"), 64, 2).Succeeded);   // 4 more
        LpmAddResult groups = lpm.Add(IPAddress.Parse("2001:db9::"), 48, 3);    // would need 3, 1 free
        Assert.Equal(LpmAddStatus.GroupsExhausted, groups.Status);
        Assert.Contains("NumberTbl8s", groups.Reason);
        Assert.Equal(5, lpm.Tbl8GroupsInUse);
        Assert.True(lpm.Add(IPAddress.Parse("2001:db8::"), 40, 4).Succeeded);   // reuses existing groups
        Assert.True(lpm.Add(IPAddress.Parse("3000::"), 16, 5).Succeeded);
        LpmAddResult rules = lpm.Add(IPAddress.Parse("4000::"), 16, 6);
        Assert.Equal(LpmAddStatus.RuleTableFull, rules.Status);
        Assert.Contains("MaxRules", rules.Reason);
        Assert.Equal(1u, Find(lpm, "2001:db8:100::1"));
        Assert.Equal(4u, Find(lpm, "2001:db8:0:100::1"));
        Assert.Equal(2u, Find(lpm, "2001:db8::1"));
        Assert.Equal(5u, Find(lpm, "3000::1"));
        Assert.Null(Find(lpm, "2001:db9::1"));
        Assert.Null(Find(lpm, "4000::1"));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using Lpm6 lpm = Lpm6.Create("lpm6_args", new Lpm6Options { NumberTbl8s = 16 });
        Assert.Throws<ArgumentOutOfRangeException>(() => lpm.Add(new byte[16], 129, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => lpm.Add(new byte[16], 64, 1u << 21));
        Assert.Throws<ArgumentException>(() => lpm.Add(new byte[4], 16, 1));
        Assert.Throws<ArgumentException>(() => lpm.Lookup(new byte[15], out _));
        Assert.Throws<ArgumentException>(() => lpm.LookupBulk(new byte[17], new uint[2], 0));
        Assert.Throws<ArgumentException>(() => lpm.Add(IPAddress.Parse("10.0.0.1"), 16, 1));
    }
}
