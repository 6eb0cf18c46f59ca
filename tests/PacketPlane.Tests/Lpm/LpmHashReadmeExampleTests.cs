using System;
using System.Net;
using System.Runtime.Intrinsics;
using PacketPlane.Hash;
using PacketPlane.Lpm;
using Xunit;

namespace PacketPlane.Tests.Lpm;

/// <summary>The README's LPM and hash snippets, kept compiling and correct.</summary>
public class LpmHashReadmeExampleTests
{
    [Fact]
    public void Lpm_snippet_routes_as_described()
    {
        const uint inPort = 7;
        using Lpm4 routes = Lpm4.Create("ipv4", new Lpm4Options { MaxRules = 1024, NumberTbl8s = 256 });
        routes.Add(IPAddress.Parse("198.18.0.0"), 24, nextHop: 0);
        LpmAddResult r = routes.Add(0xC6120080, 25, 1);
        Assert.True(r.Succeeded, r.Reason);

        uint[] dstIps = [0xC6120001, 0xC6120081, 0x0A000001, 0xC612007F, 0xC6120080, 0xC6120100, 0xC6120000, 0xC61200FF];
        uint[] ports = new uint[8];
        Assert.Equal(0u, routes.Lookup(dstIps[0], missValue: inPort));
        routes.LookupBulk(dstIps, ports, missValue: inPort);
        Assert.Equal([0u, 1, inPort, 0, 1, inPort, 0, 1], ports);
        Vector128<uint> four = routes.LookupX4(Vector128.Create(dstIps), inPort);
        Vector256<uint> eight = routes.LookupX8(Vector256.Create(dstIps), inPort);
        Assert.Equal(Vector128.Create(ports), four);
        Assert.Equal(Vector256.Create(ports), eight);
        Assert.True(routes.Delete(0xC6120080, 25));
        Assert.Equal(0u, routes.Lookup(0xC6120081, inPort));

        using Lpm6 routes6 = Lpm6.Create("ipv6", new Lpm6Options { MaxRules = 1024, NumberTbl8s = 65536 });
        routes6.Add(IPAddress.Parse("2001:200:0:1::"), 64, 1);
        byte[] ipv6Header = new byte[40];
        IPAddress.Parse("2001:200:0:1::99").GetAddressBytes().CopyTo(ipv6Header, 24);
        Assert.True(routes6.Lookup(ipv6Header.AsSpan(24, 16), out uint hop6));
        Assert.Equal(1u, hop6);
    }

    [Fact]
    public void Hash_snippet_finds_flows_as_described()
    {
        using var flows = CuckooHash<Ipv4FiveTuple, uint>.Create("em4",
            new CuckooHashOptions { Entries = 1 << 16, HashFunction = HashFunction.Crc32c });
        var key = new Ipv4FiveTuple(0xC6120000, 0xC6120001, sourcePort: 9, destinationPort: 9, protocol: 17);
        HashAddStatus s = flows.AddOrUpdate(key, 0u, out int position);
        Assert.Equal(HashAddStatus.Added, s);
        byte[] ipv4Header = Convert.FromHexString("4500001c0000000040110000c6120000c612000100090009");
        var fromPacket = Ipv4FiveTuple.FromIpv4Header(ipv4Header);
        Assert.Equal(position, flows.Lookup(fromPacket));
        Assert.True(flows.TryGetValue(fromPacket, out uint port));
        Assert.Equal(0u, port);
        Ipv4FiveTuple[] keys = [fromPacket, new Ipv4FiveTuple(1, 2, 3, 4, 6)];
        int[] positions = new int[2];
        uint[] values = new uint[2];
        Assert.Equal(1, flows.LookupBulk(keys, positions));
        Assert.Equal(1UL, flows.LookupBulkData(keys, values));
        int entries = 0;
        foreach (var e in flows)
            entries += e.Key == key && e.Position == position ? 1 : 0;
        Assert.Equal(1, entries);
        Assert.True(flows.Remove(key));
        flows.Reset();
    }
}
