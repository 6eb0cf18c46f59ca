using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using PacketPlane.Hash;
using PacketPlane.Lpm;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Samples.L3Fwd;

/// <summary>
/// Finds the output port of every packet of a burst. The forwarding loop is generic over the implementing struct
/// (<see cref="L3Forwarder{TLookup}"/>), so the JIT compiles one loop per lookup with the call inlined: no
/// per-packet (or even per-burst) virtual call. Implementations allocate nothing and never throw.
/// </summary>
public interface IRouteLookup
{
    /// <summary>Written to <c>hops</c> for a packet no rule matches (the loop then sends it back out its ingress port).</summary>
    public const uint Miss = uint.MaxValue;

    /// <summary>
    /// For each IPv4 packet <c>packets[ipv4Slots[k]]</c> (destination <c>ipv4Destinations[k]</c>, host order) and each
    /// IPv6 packet <c>packets[ipv6Slots[k]]</c>, writes its output port, or <see cref="Miss"/>, to <c>hops[slot]</c>.
    /// The packets passed the forwarding loop's header checks: the whole IP header is in the first segment.
    /// </summary>
    void Lookup(ReadOnlySpan<Packet> packets, ReadOnlySpan<byte> ipv4Slots, ReadOnlySpan<uint> ipv4Destinations,
        ReadOnlySpan<byte> ipv6Slots, Span<uint> hops);
}

/// <summary>
/// Longest-prefix match on the destination address (DPDK l3fwd's <c>--lookup=lpm</c>): an <see cref="Lpm4"/> and an
/// <see cref="Lpm6"/> sized as l3fwd's (1024 rules each; 256 and 65536 groups). The burst's IPv4 destinations go
/// through <see cref="Lpm4.LookupBulk"/>, eight at a time with <see cref="Lpm4.LookupX8(System.Runtime.Intrinsics.Vector256{uint}, uint)"/>
/// however IPv4 and IPv6 packets interleave (DPDK's loop takes its x4 path only for four IPv4 packets in a row).
/// </summary>
public readonly struct LpmLookup : IRouteLookup
{
    private readonly Lpm4 _ipv4;
    private readonly Lpm6 _ipv6;
    private readonly uint[] _ipv4Hops;

    private LpmLookup(Lpm4 ipv4, Lpm6 ipv6, int burst)
    {
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        _ipv4Hops = new uint[burst];
    }

    /// <summary>The IPv4 table.</summary>
    public Lpm4 Ipv4 => _ipv4;

    /// <summary>The IPv6 table.</summary>
    public Lpm6 Ipv6 => _ipv6;

    /// <summary>
    /// Builds both tables from <paramref name="ipv4Rules"/> and <paramref name="ipv6Rules"/>. As DPDK's setup_lpm,
    /// rules to ports outside <paramref name="portMask"/> are skipped, so their addresses fall back to shorter routes
    /// or miss; each rule added is printed ("LPM: Adding route ...").
    /// </summary>
    /// <exception cref="L3FwdRuleFileException">A rule does not fit (the table holds 1024 routes; the message names the rule's file and line).</exception>
    public static LpmLookup Build(IReadOnlyList<Ipv4LpmRule> ipv4Rules, IReadOnlyList<Ipv6LpmRule> ipv6Rules, ulong portMask,
        Func<int, string> portName, TextWriter output, int numaNode)
    {
        var v4 = Lpm4.Create("l3fwd_ipv4", new Lpm4Options { NumaNode = numaNode });
        Lpm6? v6 = null;
        try
        {
            foreach (Ipv4LpmRule r in ipv4Rules)
            {
                if (!Enabled(portMask, r.Port))
                    continue;
                Check(v4.Add(r.Prefix, r.Depth, (uint)r.Port), r.Origin);
                output.WriteLine($"LPM: Adding route {Ipv4Header.FormatAddress(r.Prefix)} / {r.Depth} ({r.Port}) [{portName(r.Port)}]");
            }
            v6 = Lpm6.Create("l3fwd_ipv6", new Lpm6Options { NumaNode = numaNode });
            foreach (Ipv6LpmRule r in ipv6Rules)
            {
                if (!Enabled(portMask, r.Port))
                    continue;
                Check(v6.Add(r.Prefix, r.Depth, (uint)r.Port), r.Origin);
                output.WriteLine($"LPM: Adding route {RuleFile.FormatIpv6(r.Prefix)} / {r.Depth} ({r.Port}) [{portName(r.Port)}]");
            }
            return new LpmLookup(v4, v6, L3Forwarder.MaxBurst);
        }
        catch
        {
            v4.Dispose();
            v6?.Dispose();
            throw;
        }
    }

    /// <summary>A lookup over existing tables (another lcore's: lookups only read them), with its own scratch space.</summary>
    public LpmLookup ForAnotherLcore() => new(_ipv4, _ipv6, _ipv4Hops.Length);

    /// <inheritdoc/>
    public void Lookup(ReadOnlySpan<Packet> packets, ReadOnlySpan<byte> ipv4Slots, ReadOnlySpan<uint> ipv4Destinations,
        ReadOnlySpan<byte> ipv6Slots, Span<uint> hops)
    {
        if (!ipv4Slots.IsEmpty)
        {
            Span<uint> found = _ipv4Hops.AsSpan(0, ipv4Slots.Length);
            _ipv4.LookupBulk(ipv4Destinations, found, IRouteLookup.Miss);
            for (int k = 0; k < found.Length; k++)
                hops[ipv4Slots[k]] = found[k];
        }
        foreach (byte slot in ipv6Slots)
        {
            ReadOnlySpan<byte> destination = packets[slot].Data.Slice(EthernetHeader.Length + Ipv6DestinationOffset, Lpm6.AddressSize);
            hops[slot] = _ipv6.Lookup(destination, out uint hop) ? hop : IRouteLookup.Miss;
        }
    }

    /// <summary>Frees both tables (after every lcore stopped).</summary>
    public void Dispose()
    {
        _ipv4.Dispose();
        _ipv6.Dispose();
    }

    /// <summary>Offset of the destination address in an IPv6 header (RFC 8200 section 3).</summary>
    internal const int Ipv6DestinationOffset = 24;

    internal static bool Enabled(ulong portMask, int port) => port < 64 && (portMask & (1UL << port)) != 0;

    private static void Check(LpmAddResult result, string origin)
    {
        if (!result.Succeeded)
            throw L3FwdRuleFileException.At(origin, $"the route does not fit in the table ({result})");
    }
}

/// <summary>
/// Exact match on the 5-tuple (DPDK l3fwd's <c>--lookup=em</c>): <see cref="CuckooHash{TKey, TValue}"/> tables of
/// <see cref="Ipv4FiveTuple"/> and <see cref="Ipv6FiveTuple"/> keys, looked up a burst at a time with
/// <see cref="CuckooHash{TKey, TValue}.LookupBulkData(ReadOnlySpan{TKey}, Span{TValue})"/>. As in DPDK, only TCP and
/// UDP packets without IPv4 options or IPv6 extension headers have a 5-tuple; the others miss.
/// </summary>
public readonly struct EmLookup : IRouteLookup
{
    private readonly CuckooHash<Ipv4FiveTuple, ushort> _ipv4;
    private readonly CuckooHash<Ipv6FiveTuple, ushort> _ipv6;
    private readonly Ipv4FiveTuple[] _keys4;
    private readonly Ipv6FiveTuple[] _keys6;
    private readonly ushort[] _ports;
    private readonly byte[] _slots;

    private EmLookup(CuckooHash<Ipv4FiveTuple, ushort> ipv4, CuckooHash<Ipv6FiveTuple, ushort> ipv6, int burst)
    {
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        _keys4 = new Ipv4FiveTuple[burst];
        _keys6 = new Ipv6FiveTuple[burst];
        _ports = new ushort[burst];
        _slots = new byte[burst];
    }

    /// <summary>The IPv4 table.</summary>
    public CuckooHash<Ipv4FiveTuple, ushort> Ipv4 => _ipv4;

    /// <summary>The IPv6 table.</summary>
    public CuckooHash<Ipv6FiveTuple, ushort> Ipv6 => _ipv6;

    /// <summary>
    /// Builds both tables. As DPDK's populate_ipv4_flow_into_table, flows to ports outside <paramref name="portMask"/>
    /// are skipped and each flow added is printed. The tables hold twice the rules (at least 1024 keys): DPDK
    /// reserves 4 Mi entries whatever the rules, which changes nothing for a lookup (its buckets are the same few).
    /// </summary>
    /// <exception cref="L3FwdRuleFileException">A flow does not fit (the message names its file and line).</exception>
    public static EmLookup Build(IReadOnlyList<Ipv4EmRule> ipv4Rules, IReadOnlyList<Ipv6EmRule> ipv6Rules, ulong portMask,
        Func<int, string> portName, TextWriter output, int numaNode)
    {
        var v4 = CuckooHash<Ipv4FiveTuple, ushort>.Create("l3fwd_em_ipv4", Sized(ipv4Rules.Count, numaNode));
        CuckooHash<Ipv6FiveTuple, ushort>? v6 = null;
        try
        {
            foreach (Ipv4EmRule r in ipv4Rules)
            {
                if (!LpmLookup.Enabled(portMask, r.Port))
                    continue;
                var key = new Ipv4FiveTuple(r.Source, r.Destination, r.SourcePort, r.DestinationPort, r.Protocol);
                Check(v4.AddOrUpdate(key, (ushort)r.Port), r.Origin);
                output.WriteLine($"EM: Adding route {Ipv4Header.FormatAddress(r.Destination)}, {Ipv4Header.FormatAddress(r.Source)}, " +
                    $"{r.DestinationPort}, {r.SourcePort}, {r.Protocol} ({r.Port}) [{portName(r.Port)}]");
            }
            output.WriteLine($"Hash: Adding 0x{v4.Count:x} keys");
            v6 = CuckooHash<Ipv6FiveTuple, ushort>.Create("l3fwd_em_ipv6", Sized(ipv6Rules.Count, numaNode));
            Span<byte> dst = stackalloc byte[16];
            Span<byte> src = stackalloc byte[16];
            foreach (Ipv6EmRule r in ipv6Rules)
            {
                if (!LpmLookup.Enabled(portMask, r.Port))
                    continue;
                BinaryPrimitives.WriteUInt128BigEndian(dst, r.Destination);
                BinaryPrimitives.WriteUInt128BigEndian(src, r.Source);
                Check(v6.AddOrUpdate(new Ipv6FiveTuple(src, dst, r.SourcePort, r.DestinationPort, r.Protocol), (ushort)r.Port), r.Origin);
                output.WriteLine($"EM: Adding route {RuleFile.FormatIpv6(r.Destination)}, {RuleFile.FormatIpv6(r.Source)}, " +
                    $"{r.DestinationPort}, {r.SourcePort}, {r.Protocol} ({r.Port}) [{portName(r.Port)}]");
            }
            output.WriteLine($"Hash: Adding 0x{v6.Count:x} keys");
            return new EmLookup(v4, v6, L3Forwarder.MaxBurst);
        }
        catch
        {
            v4.Dispose();
            v6?.Dispose();
            throw;
        }
    }

    /// <summary>A lookup over existing tables (another lcore's), with its own scratch space.</summary>
    public EmLookup ForAnotherLcore() => new(_ipv4, _ipv6, _slots.Length);

    /// <inheritdoc/>
    public void Lookup(ReadOnlySpan<Packet> packets, ReadOnlySpan<byte> ipv4Slots, ReadOnlySpan<uint> ipv4Destinations,
        ReadOnlySpan<byte> ipv6Slots, Span<uint> hops)
    {
        if (!ipv4Slots.IsEmpty)
            LookupIpv4(packets, ipv4Slots, hops);
        if (!ipv6Slots.IsEmpty)
            LookupIpv6(packets, ipv6Slots, hops);
    }

    /// <summary>Frees both tables (after every lcore stopped).</summary>
    public void Dispose()
    {
        _ipv4.Dispose();
        _ipv6.Dispose();
    }

    private void LookupIpv4(ReadOnlySpan<Packet> packets, ReadOnlySpan<byte> slots, Span<uint> hops)
    {
        int keys = 0;
        foreach (byte slot in slots)
        {
            ReadOnlySpan<byte> ip = packets[slot].Data[EthernetHeader.Length..];
            // l3fwd's condition for the hash path: a 20-byte header (ptype L3_IPV4, no options) carrying TCP or UDP,
            // here also with the four port bytes inside the datagram.
            if (ip[0] == 0x45 && IsTcpOrUdp(ip[9]) && ip.Length >= Ipv4Header.MinLength + 4
                && BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) >= Ipv4Header.MinLength + 4)
            {
                _keys4[keys] = Ipv4FiveTuple.FromIpv4Header(ip);
                _slots[keys++] = slot;
            }
            else
            {
                hops[slot] = IRouteLookup.Miss;
            }
        }
        ulong found = _ipv4.LookupBulkData(_keys4.AsSpan(0, keys), _ports.AsSpan(0, keys));
        Scatter(found, keys, hops);
    }

    private void LookupIpv6(ReadOnlySpan<Packet> packets, ReadOnlySpan<byte> slots, Span<uint> hops)
    {
        int keys = 0;
        foreach (byte slot in slots)
        {
            ReadOnlySpan<byte> ip = packets[slot].Data[EthernetHeader.Length..];
            // ptype L3_IPV6 with TCP or UDP: no extension headers; the ports inside the payload.
            if (IsTcpOrUdp(ip[6]) && ip.Length >= Ipv6Header.Length + 4 && BinaryPrimitives.ReadUInt16BigEndian(ip[4..]) >= 4)
            {
                _keys6[keys] = Ipv6FiveTuple.FromIpv6Header(ip);
                _slots[keys++] = slot;
            }
            else
            {
                hops[slot] = IRouteLookup.Miss;
            }
        }
        ulong found = _ipv6.LookupBulkData(_keys6.AsSpan(0, keys), _ports.AsSpan(0, keys));
        Scatter(found, keys, hops);
    }

    private void Scatter(ulong found, int keys, Span<uint> hops)
    {
        for (int k = 0; k < keys; k++)
            hops[_slots[k]] = (found & (1UL << k)) != 0 ? _ports[k] : IRouteLookup.Miss;
    }

    private static bool IsTcpOrUdp(byte protocol) => protocol is IpProtocol.Tcp or IpProtocol.Udp;

    private static CuckooHashOptions Sized(int rules, int numaNode) => new() { Entries = Math.Max(1024, rules * 2), NumaNode = numaNode };

    private static void Check(HashAddStatus status, string origin)
    {
        if (status == HashAddStatus.NoSpace)
            throw L3FwdRuleFileException.At(origin, "the flow does not fit in the hash table");
    }
}
