using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Samples.TestPmd;
using PacketPlane.Tests.Drivers.Pcap;
using Xunit;

namespace PacketPlane.Tests.Samples;

public class TestPmdOptionsTests
{
    [Fact]
    public void Parses_testpmd_arguments()
    {
        TestPmdOptions o = TestPmdOptions.Parse(["--forward-mode=macswap", "--nb-cores=1", "--burst=64", "--stats-period", "2",
            "--rxq=2", "--txq=4", "--rxd=512", "--txd=256", "--total-num-mbufs=4096", "--txpkts=128",
            "--eth-peer=1,02:00:00:00:00:aa", "--no-flush-rx", "--duration=1.5", "--record-core-cycles"]);
        Assert.Equal(ForwardMode.MacSwap, o.Mode);
        Assert.Equal(1, o.ForwardingCores);
        Assert.Equal(64, o.Burst);
        Assert.Equal(2, o.StatsPeriodSeconds);
        Assert.Equal((2, 4, 512, 256), (o.RxQueues, o.TxQueues, o.RxDescriptors, o.TxDescriptors));
        Assert.Equal(4096, o.TotalMbufs);
        Assert.Equal(128, o.TxPacketLength);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:aa"), o.PeerOf(1));
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:00"), o.PeerOf(0));
        Assert.True(o.NoFlushRx);
        Assert.Equal(1.5, o.DurationSeconds);
    }

    [Theory]
    [InlineData("--forward-mode=csum", "available modes: io, mac, macswap, rxonly, txonly")]
    [InlineData("--burst=0", "from 1 to 512")]
    [InlineData("--txpkts=20", "from 60 to 9000")]
    [InlineData("--eth-peer=0", "expected PORT,MAC")]
    [InlineData("--duration=-1", "greater than 0")]
    [InlineData("--frobnicate", "unknown option '--frobnicate'")]
    [InlineData("-i", "interactive mode is not supported")]
    public void Bad_arguments_are_named(string arg, string expected)
    {
        var e = Assert.Throws<TestPmdArgumentException>(() => TestPmdOptions.Parse([arg]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Fewer_tx_than_rx_queues_is_refused_and_the_usage_lists_every_option()
    {
        var e = Assert.Throws<TestPmdArgumentException>(() => TestPmdOptions.Parse(["--rxq=2", "--txq=1"]));
        Assert.Contains("--txq=1 is less than --rxq=2", e.Message);
        foreach (string option in new[] { "--forward-mode", "--nb-cores", "--burst", "--stats-period", "--rxq", "--txd", "--total-num-mbufs", "--txpkts", "--eth-peer", "--no-flush-rx", "--duration" })
            Assert.Contains(option, TestPmdOptions.Usage);
    }
}

public sealed class TestPmdForwardingTests : IDisposable
{
    private readonly List<string> _files = new();

    public void Dispose()
    {
        foreach (string f in _files)
            File.Delete(f);
    }

    [Fact]
    public void Io_between_two_null_ports_counts_match_and_allocates_nothing_over_a_million_packets()
    {
        var ports = new List<EthDev> { EthDev.Create("net_null_tpio0"), EthDev.Create("net_null_tpio1") };
        var output = new StringWriter();
        RunResult r;
        MbufPool pool;
        using (var app = new TestPmdApp(TestPmdOptions.Parse(["--forward-mode=io"]), ports, [1], output))
        {
            pool = app.Pool;
            r = Run(app, () => app.Streams.Sum(s => s.RxPackets) >= 1_200_000);
        }
        Assert.Equal(0, pool.LeakedAtDispose);
        Assert.True(r.Packets >= 1_200_000);
        Assert.Equal(r.Ports[0].RxPackets, r.Ports[1].TxPackets + r.Ports[1].TxDropped);
        Assert.Equal(r.Ports[1].RxPackets, r.Ports[0].TxPackets + r.Ports[0].TxDropped);
        Assert.Equal(0ul, r.Ports[0].TxDropped + r.Ports[1].TxDropped);
        Assert.Equal(0, r.AllocatedBytes);
        string text = output.ToString();
        // Port ids are process-wide and other tests create ports too, so the heading carries whatever id port 0 got.
        Assert.Contains($"---------------------- Forward statistics for port {ports[0].PortId,-2} ----------------------", text);
        Assert.Contains("+++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++", text);
        Assert.Contains("CPU cycles/packet=", text);
        Assert.Contains("Mpps", text);
        Assert.Contains("Managed allocation on forwarding lcores: 0 bytes", text);
    }

    [Fact]
    public void Io_over_a_ring_pair_conserves_packets_and_frees_them_at_shutdown()
    {
        (EthDev a, EthDev b) = RingPort.CreatePair("tpra", "tprb");
        var app = new TestPmdApp(TestPmdOptions.Parse(["--forward-mode=io", "--no-flush-rx"]), [a, b], [1], TextWriter.Null);
        MbufPool pool = app.Pool;
        // Seed 100 packets into A's RX ring (B's TX feeds it); io then circulates them both ways forever.
        var seed = new Packet[100];
        pool.AllocBulk(seed);
        Assert.Equal(100, b.TxBurst(0, seed));
        RunResult r = Run(app, () => app.Streams.Sum(s => s.RxPackets) >= 100_000);
        Assert.Equal(100, pool.InUse);
        Assert.Equal(r.Ports[0].RxPackets, r.Ports[1].TxPackets + r.Ports[1].TxDropped);
        Assert.Equal(r.Ports[1].RxPackets, r.Ports[0].TxPackets + r.Ports[0].TxDropped);
        app.Shutdown();
        Assert.Equal(0, pool.LeakedAtDispose);
    }

    [Fact]
    public void Macswap_swaps_and_mac_sets_the_peer_and_the_port_address()
    {
        byte[][] frames = Enumerable.Range(0, 50).Select(i => new UdpFrame { FrameLength = 64 + i, SourcePort = (ushort)i }.ToArray()).ToArray();
        foreach (string mode in new[] { "macswap", "mac" })
        {
            string input = Temp("tp_in"), output0 = Temp("tp_out0"), output1 = Temp("tp_out1");
            PcapFiles.Write(input, frames.Select((f, i) => new PcapTestRecord(f, (ulong)i)));
            var ports = new List<EthDev>
            {
                EthDev.Create($"net_pcap_tp{mode}0,rx_pcap={input},tx_pcap={output0}"),
                EthDev.Create($"net_pcap_tp{mode}1,tx_pcap={output1}"),
            };
            MacAddress port1Mac = ports[1].MacAddress;
            MbufPool pool;
            using (var app = new TestPmdApp(TestPmdOptions.Parse([$"--forward-mode={mode}", "--no-flush-rx", $"--eth-peer={ports[1].PortId},02:00:00:00:00:77"]), ports, [1], TextWriter.Null))
            {
                pool = app.Pool;
                RunResult r = Run(app, () => app.Streams.Sum(s => s.TxPackets) >= frames.Length);
                Assert.Equal((ulong)frames.Length, r.Ports[0].RxPackets);
                Assert.Equal((ulong)frames.Length, r.Ports[1].TxPackets);
            }
            Assert.Equal(0, pool.LeakedAtDispose);
            List<PcapTestRecord> written = PcapFiles.Read(output1).Records;
            Assert.Equal(frames.Length, written.Count);
            for (int i = 0; i < frames.Length; i++)
            {
                var before = new EthernetHeader(frames[i]);
                var after = new EthernetHeader(written[i].Data);
                if (mode == "macswap")
                {
                    Assert.Equal(before.Source, after.Destination);
                    Assert.Equal(before.Destination, after.Source);
                }
                else
                {
                    Assert.Equal(MacAddress.Parse("02:00:00:00:00:77"), after.Destination);
                    Assert.Equal(port1Mac, after.Source);
                }
                Assert.Equal(frames[i].AsSpan(12).ToArray(), written[i].Data.AsSpan(12).ToArray());
            }
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1000)]
    public void Txonly_frames_are_valid_udp_with_correct_checksums(int size)
    {
        string out0 = Temp("tx_out0"), out1 = Temp("tx_out1");
        var ports = new List<EthDev>
        {
            EthDev.Create($"net_pcap_txo{size}a,tx_pcap={out0}"),
            EthDev.Create($"net_pcap_txo{size}b,tx_pcap={out1}"),
        };
        MacAddress mac0 = ports[0].MacAddress;
        MbufPool pool;
        using (var app = new TestPmdApp(TestPmdOptions.Parse(["--forward-mode=txonly", $"--txpkts={size}", "--burst=16"]), ports, [1], TextWriter.Null))
        {
            pool = app.Pool;
            RunResult r = Run(app, () => app.Streams.Sum(s => s.TxPackets) >= 1000);
            Assert.True(r.Ports[0].TxPackets > 0 && r.Ports[1].TxPackets > 0);
            Assert.Equal(r.Ports[0].TxPackets + r.Ports[1].TxPackets, r.Packets);
            Assert.Equal(0ul, r.Ports[0].RxPackets);
        }
        Assert.Equal(0, pool.LeakedAtDispose);
        List<PcapTestRecord> written = PcapFiles.Read(out0).Records;
        Assert.NotEmpty(written);
        foreach (PcapTestRecord rec in written)
        {
            Assert.Equal(size, rec.Data.Length);
            Assert.Equal(PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Udp, PacketParser.Parse(rec.Data));
            var eth = new EthernetHeader(rec.Data);
            Assert.Equal(mac0, eth.Source);
            // testpmd's default peer of port N is 02:00:00:00:00:N (N is whatever id this process gave the port).
            Assert.Equal(MacAddress.Parse($"02:00:00:00:00:{ports[0].PortId & 0xFF:x2}"), eth.Destination);
            var ip = new Ipv4Header(eth.Payload);
            Assert.True(ip.IsValid);
            Assert.True(ip.IsChecksumValid);
            Assert.Equal(Ipv4Header.ParseAddress("198.18.0.1"), ip.SourceAddress);
            var udp = new UdpHeader(ip.Payload);
            Assert.NotEqual(0, udp.Checksum);
            Assert.True(udp.IsChecksumValid(ip));
            Assert.Equal(9, udp.DestinationPort);
        }
    }

    [Fact]
    public void Rxonly_counts_and_frees_and_sends_nothing()
    {
        var ports = new List<EthDev> { EthDev.Create("net_null_tprx0"), EthDev.Create("net_null_tprx1") };
        using var app = new TestPmdApp(TestPmdOptions.Parse(["--forward-mode=rxonly", "--no-flush-rx"]), ports, [1, 2], TextWriter.Null);
        Assert.Equal(2, app.Lcores.Count);
        RunResult r = Run(app, () => app.Streams.Sum(s => s.RxPackets) >= 100_000);
        Assert.True(r.Ports[0].RxPackets > 0);
        Assert.Equal(0ul, r.Ports[0].TxPackets + r.Ports[1].TxPackets);
        Assert.Equal(0, app.Pool.InUse);
    }

    [Fact]
    public void Too_many_cores_or_queues_and_no_ports_are_refused()
    {
        var e = Assert.Throws<TestPmdArgumentException>(() => new TestPmdApp(TestPmdOptions.Parse([]), [], [1], TextWriter.Null));
        Assert.Contains("No probed ethernet devices", e.Message);
        var ports = new List<EthDev> { EthDev.Create("net_null_tpbad0") };
        try
        {
            e = Assert.Throws<TestPmdArgumentException>(() => new TestPmdApp(TestPmdOptions.Parse(["--nb-cores=3"]), ports, [1], TextWriter.Null));
            Assert.Contains("--nb-cores=3 is more than the 1 forwarding lcore(s)", e.Message);
            e = Assert.Throws<TestPmdArgumentException>(() => new TestPmdApp(TestPmdOptions.Parse([]), ports, [], TextWriter.Null));
            Assert.Contains("-l 0-1", e.Message);
        }
        finally
        {
            ports[0].Close();
        }
    }

    /// <summary>Runs every forwarding lcore of <paramref name="app"/> on its own thread until <paramref name="done"/>.</summary>
    internal static RunResult Run(TestPmdApp app, Func<bool> done)
    {
        app.BeginForwarding();
        var threads = app.Lcores.Select(l => new Thread(() => l.Run())).ToList();
        threads.ForEach(t => t.Start());
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (!done() && DateTime.UtcNow < deadline)
            Thread.Sleep(1);
        app.Stop.Set();
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));
        app.EndForwarding();
        Assert.True(done(), "forwarding did not reach its goal in 60 s");
        return app.PrintForwardStats();
    }

    private string Temp(string name)
    {
        string p = PcapFiles.TempPath(name);
        _files.Add(p);
        return p;
    }
}
