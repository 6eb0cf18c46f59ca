using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using PacketPlane.Net;
using PacketPlane.Samples.L3Fwd;

namespace PacketPlane.Tests.Samples;

/// <summary>
/// One test frame for L3Fwd and what must happen to it with -p 0x3 and DPDK's default rules, received on port 0:
/// the output port under each lookup, or the reason it is dropped.
/// </summary>
/// <param name="Name">What the frame is.</param>
/// <param name="Frame">Its bytes.</param>
/// <param name="LpmPort">Output port with --lookup=lpm, <see cref="Miss"/> when no rule matches, null when dropped.</param>
/// <param name="EmPort">Output port with --lookup=em, <see cref="Miss"/> when no rule matches, null when dropped.</param>
/// <param name="Drop">Why it is dropped, or null.</param>
internal sealed record L3FwdCase(string Name, byte[] Frame, int? LpmPort, int? EmPort, Verdict? Drop)
{
    /// <summary>No rule (or a rule to a port outside -p): the frame goes back out of its input port, 0.</summary>
    public const int Miss = -1;

    /// <summary>The port the frame leaves by under <paramref name="mode"/>, or null when dropped.</summary>
    public int? PortFor(LookupMode mode) => (mode == LookupMode.Lpm ? LpmPort : EmPort) is int p ? Math.Max(p, 0) : null;

    /// <summary>True when the lookup finds no usable rule.</summary>
    public bool MissesIn(LookupMode mode) => (mode == LookupMode.Lpm ? LpmPort : EmPort) == Miss;

    public override string ToString() => Name;
}

/// <summary>
/// Deterministic L3Fwd test traffic (shared by the in-process unit tests and the process tests, which link this
/// file) and the expected rewrite of a forwarded frame, computed independently of L3Fwd's code: MACs set, TTL or
/// hop limit minus one, IPv4 header checksum recomputed in full.
/// </summary>
internal static class L3FwdTraffic
{
    /// <summary>Every case once, in a fixed order; <paramref name="repeat"/> copies of the forwarded kinds interleaved.</summary>
    public static List<L3FwdCase> Cases(int repeat = 3)
    {
        const int M = L3FwdCase.Miss;
        var forwarded = new List<L3FwdCase>();
        for (int r = 0; r < repeat; r++)
        {
            byte ttl = (byte)(2 + r * 40); // TTL 2 leaves with 1: still forwarded
            forwarded.Add(new("v4 em flow 0", Udp("198.18.0.1", "198.18.0.0", 9, 9, ttl, 60 + r), 0, 0, null));
            forwarded.Add(new("v4 em flow 1", Udp("198.18.1.1", "198.18.1.0", 9, 9, ttl, 64 + r * 100), 1, 1, null));
            forwarded.Add(new("v4 lpm 1, em miss (ports)", Udp("10.99.0.1", "198.18.1.77", (ushort)(1000 + r), 53, 64, 80), 1, M, null));
            forwarded.Add(new("v4 lpm 1, em miss (tcp)", Tcp4(Udp("198.18.1.1", "198.18.1.0", 9, 9, 17, 64)), 1, M, null));
            forwarded.Add(new("v4 route to port 5 outside -p", Udp("198.18.5.1", "198.18.5.0", 9, 9, 64, 64), M, M, null));
            forwarded.Add(new("v4 no route", Udp("10.99.0.1", "10.99.1.1", 9, 9, 64, 64), M, M, null));
            forwarded.Add(new("v4 lpm 1 with options, em miss", WithOptions(Udp("198.18.1.1", "198.18.1.9", 9, 9, 64, 68)), 1, M, null));
            forwarded.Add(new("v6 em flow 0", Udp("2001:200::1", "2001:200::", 9, 9, (byte)(2 + r), 64), 0, 0, null));
            forwarded.Add(new("v6 em flow 1", Udp("2001:200:0:1::1", "2001:200:0:1::", 9, 9, 64, 90 + r), 1, 1, null));
            forwarded.Add(new("v6 lpm 1, em miss", Udp("fd00::1", "2001:200:0:1::77", 5000, 53, 64, 64), 1, M, null));
            forwarded.Add(new("v6 route to port 7 outside -p", Udp("2001:200:0:7::1", "2001:200:0:7::", 9, 9, 64, 64), M, M, null));
            forwarded.Add(new("v6 no route", Udp("fd00::1", "2001:db8::1", 9, 9, 64, 64), M, M, null));
        }
        var dropped = new List<L3FwdCase>
        {
            new("v4 bad checksum", Corrupt(Udp("198.18.1.1", "198.18.1.0", 9, 9, 64, 64), 24, 0x5A), null, null, Verdict.BadChecksum),
            new("v4 ttl 1", Udp("198.18.1.1", "198.18.1.0", 9, 9, 1, 64), null, null, Verdict.Expired),
            new("v4 ttl 0", Udp("198.18.1.1", "198.18.1.0", 9, 9, 0, 64), null, null, Verdict.Expired),
            new("v6 hop limit 1", Udp("2001:200:0:1::1", "2001:200:0:1::", 9, 9, 1, 64), null, null, Verdict.Expired),
            new("v6 hop limit 0", Udp("2001:200:0:1::1", "2001:200:0:1::", 9, 9, 0, 64), null, null, Verdict.Expired),
            new("v4 ihl 4", Ihl4(), null, null, Verdict.BadHeader),
            new("v4 version 5", Corrupt(Udp("198.18.0.1", "198.18.0.0", 9, 9, 64, 64), 14, 0x55), null, null, Verdict.BadHeader),
            new("v4 total length beyond the frame", TotalLength(Udp("198.18.1.1", "198.18.1.0", 9, 9, 64, 64), 200), null, null, Verdict.BadHeader),
            new("v4 total length below the header", TotalLength(Udp("198.18.1.1", "198.18.1.0", 9, 9, 64, 64), 19), null, null, Verdict.BadHeader),
            new("v4 frame ends in the header", Udp("198.18.1.1", "198.18.1.0", 9, 9, 64, 64)[..26], null, null, Verdict.BadHeader),
            new("v6 payload length beyond the frame", PayloadLength(Udp("2001:200::1", "2001:200::", 9, 9, 64, 64), 400), null, null, Verdict.BadHeader),
            new("v6 frame ends in the header", Udp("2001:200::1", "2001:200::", 9, 9, 64, 64)[..40], null, null, Verdict.BadHeader),
            new("arp", Arp(), null, null, Verdict.NotIp),
            new("vlan-tagged ipv4", new UdpFrame { VlanTci = 10, DestinationAddress = IPAddress.Parse("198.18.1.0") }.ToArray(), null, null, Verdict.NotIp),
            new("runt", new byte[10], null, null, Verdict.NotIp),
        };
        // Interleave so bursts mix IPv4, IPv6 and drops.
        var all = new List<L3FwdCase>();
        int d = 0;
        for (int i = 0; i < forwarded.Count; i++)
        {
            all.Add(forwarded[i]);
            if (i % 3 == 2 && d < dropped.Count)
                all.Add(dropped[d++]);
        }
        all.AddRange(dropped.Skip(d));
        return all;
    }

    /// <summary>
    /// The frame L3Fwd must send for <paramref name="input"/> out of <paramref name="port"/>: destination MAC
    /// <paramref name="destination"/> (02:00:00:00:00:port unless --eth-dest), source the port's MAC, TTL or hop limit
    /// minus one, and for IPv4 the header checksum recomputed from scratch.
    /// </summary>
    public static byte[] Expected(byte[] input, MacAddress destination, MacAddress source)
    {
        byte[] f = (byte[])input.Clone();
        var eth = new EthernetHeader(f);
        eth.Destination = destination;
        eth.Source = source;
        if (eth.EtherType == EtherType.Ipv4)
        {
            var ip = new Ipv4Header(f.AsSpan(14));
            ip.TimeToLive--;
            ip.UpdateChecksum();
        }
        else
        {
            f[14 + 7]--;
        }
        return f;
    }

    public static MacAddress DefaultDestination(int port) => new(0x0200_0000_0000UL | (uint)port);

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, byte ttl, int length) => new UdpFrame
    {
        SourceAddress = IPAddress.Parse(src),
        DestinationAddress = IPAddress.Parse(dst),
        SourcePort = sport,
        DestinationPort = dport,
        TimeToLive = ttl,
        FrameLength = length,
    }.ToArray();

    /// <summary>The same datagram as TCP (protocol 6; the header checksum fixed, the L4 bytes left as they are).</summary>
    private static byte[] Tcp4(byte[] frame)
    {
        frame[14 + 9] = IpProtocol.Tcp;
        new Ipv4Header(frame.AsSpan(14)).UpdateChecksum();
        return frame;
    }

    /// <summary>IHL 6: four option bytes (NOP, NOP, NOP, EOL) inserted after the fixed header, lengths and checksum fixed.</summary>
    private static byte[] WithOptions(byte[] frame)
    {
        byte[] f = [.. frame[..34], 1, 1, 1, 0, .. frame[34..]];
        var ip = new Ipv4Header(f.AsSpan(14));
        ip.VersionIhl = 0x46;
        ip.TotalLength += 4;
        ip.UpdateChecksum();
        return f;
    }

    private static byte[] Ihl4()
    {
        byte[] f = Udp("198.18.1.1", "198.18.1.0", 9, 9, 64, 64);
        f[14] = 0x44;
        // A checksum right for the 16 bytes IHL 4 claims: the header is rejected for its length, not its sum.
        f[24] = f[25] = 0;
        ushort sum = Checksum.Compute(f.AsSpan(14, 16));
        f[24] = (byte)(sum >> 8);
        f[25] = (byte)sum;
        return f;
    }

    private static byte[] Corrupt(byte[] frame, int offset, byte xor)
    {
        frame[offset] ^= xor;
        return frame;
    }

    private static byte[] TotalLength(byte[] frame, ushort total)
    {
        var ip = new Ipv4Header(frame.AsSpan(14));
        ip.TotalLength = total;
        ip.UpdateChecksum();
        return frame;
    }

    private static byte[] PayloadLength(byte[] frame, ushort length)
    {
        new Ipv6Header(frame.AsSpan(14)).PayloadLength = length;
        return frame;
    }

    private static byte[] Arp()
    {
        byte[] f = new byte[60];
        EthernetHeader.Write(f, MacAddress.Broadcast, UdpFrame.DefaultSourceMac, EtherType.Arp);
        ArpHeader.Write(f.AsSpan(14), ArpHeader.OperationRequest, UdpFrame.DefaultSourceMac, Ipv4Header.ParseAddress("198.18.0.1"),
            MacAddress.Zero, Ipv4Header.ParseAddress("198.18.0.2"));
        return f;
    }
}
