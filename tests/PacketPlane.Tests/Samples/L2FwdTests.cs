using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Net;
using PacketPlane.Samples.L2Fwd;
using PacketPlane.Tests.Drivers.Pcap;
using Xunit;

namespace PacketPlane.Tests.Samples;

public class L2FwdOptionsTests
{
    [Fact]
    public void Parses_dpdk_l2fwd_arguments()
    {
        L2FwdOptions o = L2FwdOptions.Parse(["-p", "0xf", "-q", "2", "-T", "5", "--no-mac-updating", "--portmap=(0,3),(1,2)", "-P"]);
        Assert.Equal(0xFUL, o.PortMask);
        Assert.Equal(2, o.PortsPerLcore);
        Assert.Equal(5, o.StatsPeriodSeconds);
        Assert.False(o.MacUpdating);
        Assert.True(o.Promiscuous);
        Assert.Equal([(0, 3), (1, 2)], o.PortMap!);
        L2FwdOptions g = L2FwdOptions.Parse(["-p3", "--portmap", "\"(0,1)\"", "--no-mac-updating", "--mac-updating"]);
        Assert.Equal(3UL, g.PortMask);
        Assert.True(g.MacUpdating);
        Assert.Equal(10, g.StatsPeriodSeconds);
    }

    [Theory]
    [InlineData(new string[0], "missing -p PORTMASK")]
    [InlineData(new[] { "-p", "xyz" }, "invalid portmask 'xyz'")]
    [InlineData(new[] { "-p", "0" }, "invalid portmask 0")]
    [InlineData(new[] { "-p", "3", "-q", "16" }, "from 1 to 15")]
    [InlineData(new[] { "-p", "3", "-T", "86400" }, "from 0 to 86399")]
    [InlineData(new[] { "-p", "3", "--portmap=(0,1),(1,2)" }, "port 1 is used in more than one pair")]
    [InlineData(new[] { "-p", "3", "--portmap=0,1" }, "expected pairs such as")]
    [InlineData(new[] { "-p", "3", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "-p" }, "needs a value")]
    public void Bad_arguments_are_named(string[] args, string expected)
    {
        var e = Assert.Throws<L2FwdArgumentException>(() => L2FwdOptions.Parse(args));
        Assert.Contains(expected, e.Message);
    }
}

public sealed class L2FwdForwardingTests : IDisposable
{
    private readonly List<string> _files = new();

    public void Dispose()
    {
        foreach (string f in _files)
            File.Delete(f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pcap_to_l2fwd_to_pcap_keeps_frames_and_rewrites_only_the_macs(bool macUpdating)
    {
        byte[][] input = Frames();
        string in0 = Temp("l2in0"), in1 = Temp("l2in1"), out0 = Temp("l2out0"), out1 = Temp("l2out1");
        PcapFiles.Write(in0, input.Select((f, i) => new PcapTestRecord(f, (ulong)i * 1000)));
        PcapFiles.Write(in1, []);
        string tag = macUpdating ? "m" : "n";
        var ports = new List<EthDev>
        {
            EthDev.Create($"net_pcap_l2a{tag},rx_pcap={in0},tx_pcap={out0}"),
            EthDev.Create($"net_pcap_l2b{tag},rx_pcap={in1},tx_pcap={out1}"),
        };
        var options = L2FwdOptions.Parse(macUpdating ? ["-p", "0x3", "-q", "2"] : ["-p", "0x3", "-q", "2", "--no-mac-updating"]);
        var output = new StringWriter();
        MacAddress port1Mac;
        PacketPlane.Memory.MbufPool pool;
        using (var app = new L2FwdApp(options, ports, [0], output))
        {
            pool = app.Pool;
            port1Mac = ports[1].MacAddress;
            RunUntil(app, () => app.Counters[1].Sent == input.Length);
            Assert.Equal(input.Length, app.Counters[0].Received);
            Assert.Equal(0, app.Dropped(1));
        }
        Assert.Contains("Bye...", output.ToString());
        Assert.Equal(0, pool.LeakedAtDispose);
        Assert.Contains($"Packets received: {input.Length,20}", output.ToString());
        List<PcapTestRecord> written = PcapFiles.Read(out1).Records;
        Assert.Equal(input.Length, written.Count);
        Assert.Empty(PcapFiles.Read(out0).Records);
        for (int i = 0; i < input.Length; i++)
        {
            byte[] got = written[i].Data;
            Assert.Equal(input[i].Length, got.Length);
            Assert.Equal(input[i].AsSpan(12).ToArray(), got.AsSpan(12).ToArray()); // everything after the MACs
            if (macUpdating)
            {
                var eth = new EthernetHeader(got);
                Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), eth.Destination);
                Assert.Equal(port1Mac, eth.Source);
            }
            else
            {
                Assert.Equal(input[i], got);
            }
            // Our parser still classifies the forwarded frame as the original.
            Assert.Equal(PacketParser.Parse(input[i]), PacketParser.Parse(got));
        }
    }

    [Fact]
    public void Ports_are_paired_in_order_an_odd_one_forwards_to_itself_and_portmap_overrides()
    {
        var ports = Enumerable.Range(0, 3).Select(i => EthDev.Create($"net_ring_l2pair{i},queues=1,size=64")).ToList();
        var output = new StringWriter();
        using (var app = new L2FwdApp(L2FwdOptions.Parse(["-p", "0x7"]), ports, [0, 1, 2], output))
        {
            string text = output.ToString();
            Assert.Contains("Lcore 0: RX port 0 TX port 1", text);
            Assert.Contains("Lcore 1: RX port 1 TX port 0", text);
            Assert.Contains("Lcore 2: RX port 2 TX port 2", text);
            Assert.Contains("Notice: odd number of ports in portmask.", text);
        }
        ports = Enumerable.Range(0, 4).Select(i => EthDev.Create($"net_ring_l2map{i},queues=1,size=64")).ToList();
        output = new StringWriter();
        using (var app = new L2FwdApp(L2FwdOptions.Parse(["-p", "0xf", "-q", "4", "--portmap=(0,3),(1,2)"]), ports, [5], output))
        {
            string text = output.ToString();
            Assert.Contains("Lcore 5: RX port 0 TX port 3", text);
            Assert.Contains("Lcore 5: RX port 1 TX port 2", text);
            Assert.Contains("Lcore 5: RX port 3 TX port 0", text);
            Assert.Single(app.Forwarders);
        }
    }

    [Fact]
    public void A_mask_beyond_the_ports_and_too_few_lcores_are_refused()
    {
        var ports = Enumerable.Range(0, 2).Select(i => EthDev.Create($"net_ring_l2bad{i},queues=1,size=64")).ToList();
        try
        {
            var e = Assert.Throws<L2FwdArgumentException>(() => new L2FwdApp(L2FwdOptions.Parse(["-p", "0x7"]), ports, [0, 1], TextWriter.Null));
            Assert.Contains("Invalid portmask; possible (0x3)", e.Message);
            e = Assert.Throws<L2FwdArgumentException>(() => new L2FwdApp(L2FwdOptions.Parse(["-p", "0x3"]), ports, [0], TextWriter.Null));
            Assert.Contains("Not enough cores", e.Message);
            e = Assert.Throws<L2FwdArgumentException>(() => new L2FwdApp(L2FwdOptions.Parse(["-p", "0x1", "--portmap=(0,1)"]), ports, [0], TextWriter.Null));
            Assert.Contains("port 1 is not enabled in port mask", e.Message);
        }
        finally
        {
            foreach (EthDev p in ports)
                p.Close();
        }
    }

    [Fact]
    public void Over_a_ring_pair_l2fwd_returns_every_packet_and_the_pool_is_whole_again()
    {
        // Two L2Fwd ports over a back-to-back ring pair with an external sender/receiver pair on the far side.
        (EthDev a, EthDev farA) = RingPort.CreatePair("l2ra", "l2rfa");
        (EthDev b, EthDev farB) = RingPort.CreatePair("l2rb", "l2rfb");
        using var output = new StringWriter();
        var app = new L2FwdApp(L2FwdOptions.Parse(["-p", "0x3", "-q", "2"]), [a, b], [0], output);
        using var farPool = PacketPlane.Memory.MbufPool.Create("l2far", 1024, cacheSize: 0);
        try
        {
            foreach (EthDev far in new[] { farA, farB })
            {
                far.Configure(1, 1);
                far.SetupRxQueue(0, 64, farPool);
                far.SetupTxQueue(0, 64);
                far.Start();
            }
            var frame = new UdpFrame { FrameLength = 100 };
            var burst = new PacketPlane.Memory.Packet[10];
            farPool.AllocBulk(burst);
            foreach (var p in burst)
                frame.TryWriteTo(p);
            Assert.Equal(10, farA.TxBurst(0, burst)); // into L2Fwd's port 0
            RunUntil(app, () => app.Counters[1].Sent == 10);
            var got = new PacketPlane.Memory.Packet[16];
            Assert.Equal(10, farB.RxBurst(0, got)); // out of L2Fwd's port 1
            Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), new EthernetHeader(got[0].Data).Destination);
            PacketPlane.Memory.Packet.FreeBulk(got.AsSpan(0, 10));
        }
        finally
        {
            app.Dispose();
            farA.Close();
            farB.Close();
        }
        Assert.Equal(0, farPool.InUse);
    }

    internal static void RunUntil(L2FwdApp app, Func<bool> done)
    {
        L2Forwarder forwarder = app.Forwarders.Values.Single();
        var thread = new Thread(forwarder.Run);
        thread.Start();
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (!done() && DateTime.UtcNow < deadline)
            Thread.Sleep(1);
        app.Control.RequestStop();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.True(done(), "forwarding did not finish in 30 s");
    }

    private string Temp(string name)
    {
        string p = PcapFiles.TempPath(name);
        _files.Add(p);
        return p;
    }

    internal static byte[][] Frames()
    {
        var frames = new List<byte[]>();
        for (int i = 0; i < 200; i++)
        {
            var udp = new UdpFrame
            {
                FrameLength = 70 + (i * 37) % 1445,
                SourcePort = (ushort)(1000 + i),
                VlanTci = i % 5 == 0 ? (ushort)(i + 1) : null,
                SourceAddress = i % 3 == 0 ? IPAddress.Parse("fd00::1") : IPAddress.Parse("10.99.0.1"),
                DestinationAddress = i % 3 == 0 ? IPAddress.Parse("fd00::2") : IPAddress.Parse("10.99.0.2"),
            };
            frames.Add(udp.ToArray());
        }
        frames.Add(Net.TestPackets.Arp());
        frames.Add(Net.TestPackets.Tcp4(8, 12, 100));
        return frames.ToArray();
    }
}
