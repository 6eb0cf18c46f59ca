using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.IntegrationTests.Samples;

/// <summary>The L2Fwd sample as a process: pcap in, pcap out, checked by tshark and by our parser.</summary>
public sealed class L2FwdProcessTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pp-l2fwd-{Guid.NewGuid():N}");

    public L2FwdProcessTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>tshark fields compared between input and output (everything but the rewritten MACs).</summary>
    private const string Fields = "-e frame.len -e eth.type -e vlan.id -e ip.src -e ip.dst -e ip.ttl -e ip.checksum.status " +
        "-e ipv6.src -e ipv6.dst -e udp.srcport -e udp.dstport -e udp.length -e udp.checksum.status -e tcp.srcport -e tcp.checksum.status";

    [SkippableFact]
    [Trait("Requires", "Tshark")]
    public void Pcap_through_l2fwd_to_pcap_changes_only_the_macs_as_tshark_and_our_parser_see_it()
    {
        Prerequisites.Require(Requirement.Tshark);
        string input = Path.Combine(_dir, "in.pcap"), out0 = Path.Combine(_dir, "out0.pcap"), out1 = Path.Combine(_dir, "out1.pcap");
        byte[][] frames = Frames();
        WritePcap(input, frames);
        using var l2fwd = SampleProcess.Start("L2Fwd",
            $"-l 0 --no-huge --vdev net_pcap0,rx_pcap={input},tx_pcap={out0} --vdev net_pcap1,tx_pcap={out1} -- -p 0x3 -q 2 -T 1");
        string mac1 = l2fwd.WaitForOutput(@"Port 1, MAC address: ([0-9A-F:]{17})", TimeSpan.FromSeconds(60)).Groups[1].Value.ToLowerInvariant();
        l2fwd.WaitForOutput($@"Total packets sent:\s+{frames.Length}\b", TimeSpan.FromSeconds(60));
        l2fwd.Signal("TERM");
        Assert.Equal(0, l2fwd.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("Signal 15 received, preparing to exit...", l2fwd.Output);
        Assert.Contains("Bye...", l2fwd.Output);

        List<string[]> before = Tshark(input, "-e eth.dst -e eth.src " + Fields);
        List<string[]> after = Tshark(out1, "-e eth.dst -e eth.src " + Fields);
        Assert.Equal(frames.Length, before.Count);
        Assert.Equal(frames.Length, after.Count);
        Assert.Empty(Tshark(out0, Fields));
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal("02:00:00:00:00:01", after[i][0]);
            Assert.Equal(mac1, after[i][1]);
            Assert.Equal(before[i][2..], after[i][2..]);
            // tshark verifies the IPv4 and UDP checksums of every frame: good ("1"), as they were going in.
            if (after[i][5].Length > 0)
                Assert.Equal("1", after[i][8]);
            Assert.Equal("1", after[i][14]);
        }

        List<byte[]> forwarded = ReadPcap(out1);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal(frames[i].AsSpan(12).ToArray(), forwarded[i].AsSpan(12).ToArray());
            Assert.Equal(PacketParser.Parse(frames[i], out HeaderLengths a), PacketParser.Parse(forwarded[i], out HeaderLengths b));
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Bad_arguments_exit_with_code_2_and_the_usage()
    {
        using var l2fwd = SampleProcess.Start("L2Fwd", "-l 0 --no-huge --vdev net_null0 -- -p zz");
        Assert.Equal(2, l2fwd.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("invalid portmask 'zz'", l2fwd.Errors);
        Assert.Contains("--portmap", l2fwd.Errors);
    }

    private static List<string[]> Tshark(string file, string fields)
    {
        string output = Shell.Run($"tshark -r {file} -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE " +
            $"-T fields -E separator=/t {fields} 2>/dev/null");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
    }

    private static byte[][] Frames()
    {
        var frames = new List<byte[]>();
        for (int i = 0; i < 300; i++)
        {
            bool v6 = i % 3 == 0;
            frames.Add(new UdpFrame
            {
                FrameLength = 70 + (i * 53) % 1400,
                SourcePort = (ushort)(2000 + i),
                VlanTci = i % 4 == 0 ? (ushort)(10 + i) : null,
                TimeToLive = (byte)(1 + i % 200),
                SourceAddress = IPAddress.Parse(v6 ? "fd00::1" : "10.99.3.1"),
                DestinationAddress = IPAddress.Parse(v6 ? $"fd00::{i + 2:x}" : $"10.99.4.{i % 250 + 1}"),
            }.ToArray());
        }
        return frames.ToArray();
    }

    /// <summary>Writes frames with our own tx_pcap (tshark reads the input too, so the writer is checked as well).</summary>
    private static void WritePcap(string path, byte[][] frames)
    {
        using MbufPool pool = MbufPool.Create("l2fwd_in", 512, cacheSize: 0);
        using EthDev port = EthDev.Create($"net_pcap_l2fwdin,tx_pcap={path}");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        foreach (byte[] f in frames)
        {
            Packet p = pool.Alloc();
            p.TryAppend(f.Length);
            f.CopyTo(p.Data);
            Assert.Equal(1, port.TxBurst(0, [p]));
        }
    }

    private static List<byte[]> ReadPcap(string path)
    {
        var result = new List<byte[]>();
        using MbufPool pool = MbufPool.Create("l2fwd_out", 512, cacheSize: 0);
        using EthDev port = EthDev.Create($"net_pcap_l2fwdout,rx_pcap={path}");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        var burst = new Packet[32];
        int n;
        while ((n = port.RxBurst(0, burst)) > 0)
        {
            result.AddRange(burst.Take(n).Select(p => p.Data.ToArray()));
            Packet.FreeBulk(burst.AsSpan(0, n));
        }
        return result;
    }
}
