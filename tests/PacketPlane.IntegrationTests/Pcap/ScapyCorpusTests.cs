using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.IntegrationTests.Pcap;

/// <summary>
/// Packets built by scapy at test time (scapy_corpus.py), written by scapy in all four pcap variants, read through
/// net_pcap: our parser must find the layers and header lengths scapy built, and our checksums must equal scapy's.
/// </summary>
public sealed class ScapyCorpusTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pp-scapy-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [SkippableFact]
    [Trait("Requires", "Scapy")]
    public void Parser_and_checksums_agree_with_scapy_in_every_pcap_variant()
    {
        Prerequisites.Require(Requirement.Scapy);
        Directory.CreateDirectory(_dir);
        string script = Path.Combine(AppContext.BaseDirectory, "Pcap", "scapy_corpus.py");
        int count = int.Parse(Shell.Run($"/usr/bin/python3 {script} {_dir}").Trim());
        List<JsonElement> expected = File.ReadAllLines(Path.Combine(_dir, "expected.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(count, expected.Count);
        Assert.True(count > 90);
        byte[][]? first = null;
        using MbufPool pool = MbufPool.Create("scapy", 512, cacheSize: 0);
        int device = 0;
        foreach (string variant in new[] { "us_le", "us_be", "ns_le", "ns_be" })
        {
            string file = Path.Combine(_dir, $"corpus_{variant}.pcap");
            List<(byte[] Data, ulong Timestamp)> packets = ReadAll($"net_pcap_scapy{device++},rx_pcap={file}", pool);
            Assert.Equal(count, packets.Count);
            for (int i = 0; i < count; i++)
            {
                JsonElement e = expected[i];
                byte[] frame = packets[i].Data;
                Assert.Equal(e.GetProperty("length").GetInt32(), frame.Length);
                long microseconds = e.GetProperty("time_us").GetInt64();
                Assert.InRange((long)packets[i].Timestamp, microseconds * 1000 - 1000, microseconds * 1000 + 1000);
                CheckClassification(i, frame, e);
                CheckChecksums(i, frame, e);
            }
            first ??= packets.Select(p => p.Data).ToArray();
            Assert.Equal(first, packets.Select(p => p.Data).ToArray());
        }
        Assert.Equal(0, pool.InUse);
    }

    private static void CheckClassification(int i, byte[] frame, JsonElement e)
    {
        PacketType type = PacketParser.Parse(frame, out HeaderLengths lengths);
        PacketType l2 = e.GetProperty("l2kind").GetString() switch
        {
            "arp" => PacketType.L2EtherArp,
            "vlan" => PacketType.L2EtherVlan,
            "qinq" => PacketType.L2EtherQinq,
            _ => PacketType.L2Ether,
        };
        PacketType l3 = e.GetProperty("l3kind").GetString() switch
        {
            "ipv4" => PacketType.L3Ipv4,
            "ipv4ext" => PacketType.L3Ipv4Ext,
            "ipv6" => PacketType.L3Ipv6,
            "ipv6ext" => PacketType.L3Ipv6Ext,
            _ => PacketType.Unknown,
        };
        PacketType l4 = e.GetProperty("l4kind").GetString() switch
        {
            "udp" => PacketType.L4Udp,
            "tcp" => PacketType.L4Tcp,
            "sctp" => PacketType.L4Sctp,
            "icmp" or "icmpv6" => PacketType.L4Icmp,
            "frag" => PacketType.L4Frag,
            "nonfrag" => PacketType.L4NonFrag,
            _ => PacketType.Unknown,
        };
        Assert.True((l2 | l3 | l4) == type, $"packet {i}: scapy built {l2 | l3 | l4}, the parser says {type}");
        if (l2 == PacketType.L2EtherArp)
            return;
        Assert.Equal(e.GetProperty("l2").GetInt32(), lengths.L2);
        Assert.Equal(e.GetProperty("l3").GetInt32(), lengths.L3);
        Assert.True(e.GetProperty("l4").GetInt32() == lengths.L4, $"packet {i}: L4 length {lengths.L4}, scapy {e.GetProperty("l4").GetInt32()}");
    }

    private static void CheckChecksums(int i, byte[] frame, JsonElement e)
    {
        int l3 = e.GetProperty("l2").GetInt32();
        if (e.GetProperty("ip_checksum").ValueKind == JsonValueKind.Number)
        {
            var ip = new Ipv4Header(frame.AsSpan(l3));
            Assert.True(ip.IsChecksumValid, $"packet {i}: scapy's IPv4 checksum does not verify here");
            Assert.Equal(e.GetProperty("ip_checksum").GetInt32(), ip.ComputeChecksum());
            ip.HeaderChecksum = 0;
            ip.UpdateChecksum();
            Assert.Equal(e.GetProperty("ip_checksum").GetInt32(), ip.HeaderChecksum);
        }
        if (e.GetProperty("l4_checksum").ValueKind != JsonValueKind.Number)
            return;
        int expected = e.GetProperty("l4_checksum").GetInt32();
        int l4 = e.GetProperty("l4_offset").GetInt32();
        int l4Length = e.GetProperty("l4_length").GetInt32();
        bool v4 = e.GetProperty("l3kind").GetString()!.StartsWith("ipv4", StringComparison.Ordinal);
        Span<byte> segment = frame.AsSpan(l4, l4Length);
        string kind = e.GetProperty("l4kind").GetString()!;
        ushort computed = kind switch
        {
            "udp" when v4 => new UdpHeader(segment).ComputeChecksum(new Ipv4Header(frame.AsSpan(l3))),
            "udp" => new UdpHeader(segment).ComputeChecksum(new Ipv6Header(frame.AsSpan(l3))),
            "tcp" when v4 => new TcpHeader(segment).ComputeChecksum(new Ipv4Header(frame.AsSpan(l3))),
            "tcp" => new TcpHeader(segment).ComputeChecksum(new Ipv6Header(frame.AsSpan(l3))),
            "icmp" => WithZeroField(segment, 2, s => Checksum.Compute(s)),
            _ => WithZeroField(segment, 2, s => Checksum.ComputeL4(new Ipv6Header(frame.AsSpan(l3)).PseudoHeaderSum(IpProtocol.Icmpv6, s.Length), s)),
        };
        Assert.True(expected == computed, $"packet {i} ({kind}): scapy's checksum 0x{expected:x4}, ours 0x{computed:x4}");
    }

    private static ushort WithZeroField(Span<byte> segment, int offset, Func<byte[], ushort> compute)
    {
        byte[] copy = segment.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(offset), 0);
        return compute(copy);
    }

    private static List<(byte[], ulong)> ReadAll(string device, MbufPool pool)
    {
        var result = new List<(byte[], ulong)>();
        using EthDev port = EthDev.Create(device);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
        var burst = new Packet[32];
        int n;
        while ((n = port.RxBurst(0, burst)) > 0)
        {
            for (int i = 0; i < n; i++)
                result.Add((burst[i].Data.ToArray(), burst[i].Timestamp));
            Packet.FreeBulk(burst.AsSpan(0, n));
        }
        return result;
    }
}
