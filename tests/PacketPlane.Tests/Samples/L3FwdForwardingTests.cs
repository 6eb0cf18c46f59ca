using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Samples.L3Fwd;
using PacketPlane.Tests.Drivers.Pcap;
using Xunit;

namespace PacketPlane.Tests.Samples;

/// <summary>L3Fwd in process: pcap in on port 0, a tx_pcap per port out, every frame checked against the rules.</summary>
[Collection(LcoreIdentity.Collection)]
public sealed class L3FwdForwardingTests : IDisposable
{
    private const int Lcore = 3;
    private readonly List<string> _files = new();

    public void Dispose()
    {
        foreach (string f in _files)
            File.Delete(f);
    }

    [Theory]
    [InlineData(LookupMode.Lpm)]
    [InlineData(LookupMode.Em)]
    public void Each_frame_leaves_by_the_right_port_with_ttl_minus_one_a_valid_checksum_and_the_right_macs(LookupMode mode)
    {
        List<L3FwdCase> cases = L3FwdTraffic.Cases();
        string tag = mode.ToString().ToLowerInvariant();
        (string out0, string out1, string text, L3FwdCounters counters, long[] sent, MacAddress[] macs) =
            Forward(cases.Select(c => c.Frame), tag, ["-p", "0x3", $"--config=(0,0,{Lcore})", $"--lookup={tag}"]);

        Assert.Equal(cases.Count, counters.Received);
        Assert.Equal(cases.Count(c => c.MissesIn(mode)), counters.NoRoute);
        Assert.Equal(cases.Count(c => c.Drop == Verdict.BadHeader), counters.BadHeader);
        Assert.Equal(cases.Count(c => c.Drop == Verdict.BadChecksum), counters.BadChecksum);
        Assert.Equal(cases.Count(c => c.Drop == Verdict.Expired), counters.Expired);
        Assert.Equal(cases.Count(c => c.Drop == Verdict.NotIp), counters.NotIp);
        Assert.True(counters.Dropped >= 14, "every drop reason is exercised");
        Assert.True(counters.NoRoute > 0 && cases.Count(c => c.PortFor(mode) == 1) > 0);
        for (int port = 0; port < 2; port++)
        {
            byte[][] expected = cases.Where(c => c.PortFor(mode) == port)
                .Select(c => L3FwdTraffic.Expected(c.Frame, L3FwdTraffic.DefaultDestination(port), macs[port])).ToArray();
            List<PcapTestRecord> written = PcapFiles.Read(port == 0 ? out0 : out1).Records;
            Assert.Equal(expected.Length, sent[port]);
            Assert.Equal(expected.Length, written.Count);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], written[i].Data);
                AssertValidIpHeader(written[i].Data);
            }
        }
        if (mode == LookupMode.Lpm)
        {
            Assert.Contains("LPM: Adding route 198.18.0.0 / 24 (0)", text);
            Assert.Contains("LPM: Adding route 2001:200:0:1:: / 64 (1)", text);
            Assert.DoesNotContain("(2)", text); // routes to ports outside -p are skipped, as DPDK does
        }
        else
        {
            Assert.Contains("EM: Adding route 198.18.1.0, 198.18.1.1, 9, 9, 17 (1)", text);
            Assert.Contains("EM: Adding route 2001:200::, 2001:200::1, 9, 9, 17 (0)", text);
            Assert.DoesNotContain("198.18.5.0", text);
        }
        Assert.Contains($"{counters.BadChecksum,14}  dropped: bad IPv4 header checksum", text);
        Assert.Contains("Closing port 1... Done", text);
    }

    [Fact]
    public void Rule_files_and_eth_dest_decide_port_and_destination_mac()
    {
        string v4 = Temp("rules4", "# more specific routes win; a route to a port outside -p is skipped, not followed\n" +
            "R10.99.0.0/16 1\nR10.99.1.0/24 0\nR0.0.0.0/0 1\nR198.18.0.0/16 5\n");
        string v6 = Temp("rules6", "R2001:db8::/32 1\n");
        byte[][] frames =
        [
            L3FwdTraffic.Udp("10.99.9.1", "10.99.1.1", 1, 2, 64, 64),   // /24 -> 0
            L3FwdTraffic.Udp("10.99.9.1", "10.99.2.1", 1, 2, 64, 64),   // /16 -> 1
            L3FwdTraffic.Udp("10.99.9.1", "198.18.0.7", 1, 2, 64, 64),  // /16 to port 5 skipped: default route -> 1
            L3FwdTraffic.Udp("fd00::1", "2001:db8::1", 1, 2, 64, 64),   // -> 1
            L3FwdTraffic.Udp("fd00::1", "2001:200::1", 1, 2, 64, 64),   // no IPv6 default route: back out of 0
        ];
        MacAddress peer = MacAddress.Parse("02:aa:bb:cc:dd:ee");
        (string out0, string out1, string text, L3FwdCounters counters, long[] sent, MacAddress[] macs) = Forward(frames, "rules",
            ["-p", "0x3", $"--config=(0,0,{Lcore})", $"--rule_ipv4={v4}", $"--rule_ipv6={v6}", $"--eth-dest=1,{peer}"]);
        Assert.Equal([frames[0], frames[4]], PcapFiles.Read(out0).Records.Select(r => Unrewrite(r.Data, frames)).ToArray());
        Assert.Equal([frames[1], frames[2], frames[3]], PcapFiles.Read(out1).Records.Select(r => Unrewrite(r.Data, frames)).ToArray());
        Assert.All(PcapFiles.Read(out1).Records, r => Assert.Equal(peer, new EthernetHeader(r.Data).Destination));
        Assert.All(PcapFiles.Read(out0).Records, r => Assert.Equal(L3FwdTraffic.DefaultDestination(0), new EthernetHeader(r.Data).Destination));
        Assert.Equal(1, counters.NoRoute);
        Assert.Equal([2L, 3L], sent);
        Assert.DoesNotContain("198.18.0.0 / 16", text);
        Assert.Contains("LPM: Adding route 0.0.0.0 / 0 (1)", text);
        Assert.Contains("Destination:02:AA:BB:CC:DD:EE", text);
    }

    [Fact]
    public void Em_rule_files_match_the_whole_5_tuple()
    {
        string v4 = Temp("em4", "R10.99.1.1 10.99.0.1 80 1234 6 1\nR10.99.1.1 10.99.0.1 53 1234 0x11 1\n");
        string v6 = Temp("em6", "R2001:db8::1 fd00::1 443 5555 17 1\n");
        byte[] udp53 = L3FwdTraffic.Udp("10.99.0.1", "10.99.1.1", 1234, 53, 64, 64);
        byte[] udp54 = L3FwdTraffic.Udp("10.99.0.1", "10.99.1.1", 1234, 54, 64, 64);
        byte[] otherSource = L3FwdTraffic.Udp("10.99.0.2", "10.99.1.1", 1234, 53, 64, 64);
        byte[] v6Flow = L3FwdTraffic.Udp("fd00::1", "2001:db8::1", 5555, 443, 64, 64);
        byte[] v6Swapped = L3FwdTraffic.Udp("fd00::1", "2001:db8::1", 443, 5555, 64, 64);
        (string out0, string out1, _, L3FwdCounters counters, _, _) = Forward([udp53, udp54, otherSource, v6Flow, v6Swapped], "emrules",
            ["-p", "0x3", $"--config=(0,0,{Lcore})", "-E", $"--rule_ipv4={v4}", $"--rule_ipv6={v6}"]);
        byte[][] all = [udp53, udp54, otherSource, v6Flow, v6Swapped];
        Assert.Equal([udp53, v6Flow], PcapFiles.Read(out1).Records.Select(r => Unrewrite(r.Data, all)).ToArray());
        Assert.Equal([udp54, otherSource, v6Swapped], PcapFiles.Read(out0).Records.Select(r => Unrewrite(r.Data, all)).ToArray());
        Assert.Equal(3, counters.NoRoute);
    }

    [Fact]
    public void Two_lcores_get_a_tx_queue_each_on_every_port_and_per_port_pools_when_asked()
    {
        var ports = Enumerable.Range(0, 2).Select(i => EthDev.Create($"net_null_l3two{i}")).ToList();
        using var app = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x3", "--config=(0,0,1),(1,0,2)", "--per-port-pool"]), ports, [0, 1, 2], TextWriter.Null);
        Assert.Equal([1, 2], app.Forwarders.Keys.Order());
        Assert.All(ports, p => Assert.Equal(2, p.TxQueueCount));
        Assert.All(ports, p => Assert.Equal(1, p.RxQueueCount));
        Assert.Equal(2, app.Pools.Count);
        // NB_MBUF(1) per port: max(1*1*1024 + 1*2*32 + 1*2*1024 + 2*256, 8192).
        Assert.All(app.Pools, p => Assert.Equal(MbufPool.RequiredCount(1, 1, 1024, 2, 1024, 2, 32, 256), p.Count));
    }

    [Fact]
    public void Without_config_every_enabled_port_is_polled_by_the_first_lcore()
    {
        var ports = Enumerable.Range(0, 3).Select(i => EthDev.Create($"net_null_l3def{i}")).ToList();
        var output = new StringWriter();
        using var app = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x5"]), ports, [4, 5], output);
        Assert.Equal([4], app.Forwarders.Keys);
        Assert.Equal([0, 2], app.EnabledPorts);
        Assert.Equal(PortState.Started, ports[0].State);
        Assert.Equal(PortState.Created, ports[1].State); // not in -p: left alone
        Assert.Equal(PortState.Started, ports[2].State);
        Assert.Contains("L3FWD:  -- lcoreid=4 portid=2 rxqueueid=0", RunOnce(app, output));
        ports[1].Close();
    }

    [Fact]
    public void Setup_errors_name_the_problem_and_leave_no_port_open_or_pool_alive()
    {
        string badRules = Temp("bad", "R198.18.0.0/24 0\nR198.18.1.0/24 x\n");
        (string[] Args, int[] Lcores, string Words)[] cases =
        [
            (["-p", "0x7"], [0], "Invalid portmask 0x7: only 2 port(s) present"),
            (["-p", "0x3", "--config=(0,0,9)"], [0], "lcore 9 is not enabled in lcore mask"),
            (["-p", "0x1", "--config=(1,0,0)"], [0], "port 1 is not enabled in port mask"),
            (["-p", "0x3", "--config=(0,1,0)"], [0], "queue ids of the port 0 must be in sequence and must start with 0"),
            (["-p", "0x3", "--config=(0,0,0),(1,0,1)"], [0, 1], "has 1 TX queue(s), but 2 lcores forward"),
            (["-p", "0x3", "--config=(0,0,0)", $"--rule_ipv4={badRules}"], [0], $"{badRules}:2: output port 'x'"),
        ];
        foreach ((string[] args, int[] lcores, string words) in cases)
        {
            string input = Temp("in", null);
            PcapFiles.Write(input, []);
            var ports = new List<EthDev> { EthDev.Create($"net_pcap_l3err{Guid.NewGuid():N},rx_pcap={input}"), EthDev.Create($"net_null_l3err{Guid.NewGuid():N}") };
            var poolsBefore = MbufPool.All.ToHashSet();
            var e = Assert.ThrowsAny<L3FwdArgumentException>(() => new L3FwdApp(L3FwdOptions.Parse(args), ports, lcores, TextWriter.Null));
            Assert.Contains(words, e.Message);
            Assert.True(NoNewL3FwdPoolStaysAlive(poolsBefore), $"{words}: a pool L3Fwd created is still alive");
            foreach (EthDev p in ports)
            {
                Assert.True(p.State is PortState.Created or PortState.Closed, $"{words}: port left {p.State}");
                p.Close();
            }
        }
    }

    /// <summary>
    /// Whether every pool named as L3Fwd names its pools that appeared since <paramref name="before"/> goes away. Tests in
    /// other collections run in parallel and L2Fwd's tests name their pool "mbuf_pool" too, but those pools are freed
    /// within their test; a pool a failed L3Fwd setup leaked stays forever, so it is given two seconds to disappear.
    /// </summary>
    private static bool NoNewL3FwdPoolStaysAlive(HashSet<MbufPool> before)
    {
        for (int i = 0; i < 100; i++)
        {
            if (!MbufPool.All.Any(p => !before.Contains(p) && (p.Name == "mbuf_pool" || p.Name.StartsWith("mbuf_pool_", StringComparison.Ordinal))))
                return true;
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Runs L3Fwd over <paramref name="frames"/> (into port 0) until all were received, then tears it down.</summary>
    private (string Out0, string Out1, string Text, L3FwdCounters Counters, long[] Sent, MacAddress[] Macs) Forward(
        IEnumerable<byte[]> frames, string tag, string[] args)
    {
        string input = Temp($"l3in-{tag}", null), out0 = Temp($"l3out0-{tag}", null), out1 = Temp($"l3out1-{tag}", null);
        byte[][] all = frames.ToArray();
        PcapFiles.Write(input, all.Select((f, i) => new PcapTestRecord(f, (ulong)i * 1000)));
        var ports = new List<EthDev>
        {
            EthDev.Create($"net_pcap_l3a{tag}{Guid.NewGuid():N},rx_pcap={input},tx_pcap={out0}"),
            EthDev.Create($"net_pcap_l3b{tag}{Guid.NewGuid():N},tx_pcap={out1}"),
        };
        MacAddress[] macs = [ports[0].MacAddress, ports[1].MacAddress];
        var output = new StringWriter();
        L3FwdCounters counters;
        long[] sent;
        MbufPool pool;
        using (var app = new L3FwdApp(L3FwdOptions.Parse(args), ports, [Lcore], output))
        {
            pool = app.Pools[0];
            IPollWorker worker = app.Forwarders[Lcore];
            using (LcoreIdentity.As(Lcore))
            {
                DateTime deadline = DateTime.UtcNow.AddSeconds(30);
                while (app.Counters(0).Received < all.Length && DateTime.UtcNow < deadline)
                    worker.Poll();
                worker.Drain();
            }
            counters = app.Counters(0);
            sent = [app.Sent(0), app.Sent(1)];
            Assert.Equal(0, app.TxDropped(0) + app.TxDropped(1));
            app.PrintTotals();
        }
        Assert.Equal(0, pool.LeakedAtDispose);
        Assert.All(ports, p => Assert.Equal(PortState.Closed, p.State));
        return (out0, out1, output.ToString(), counters, sent, macs);
    }

    /// <summary>The input frame a forwarded frame came from (MACs, TTL/hop limit and checksum differ; the rest must not).</summary>
    private static byte[] Unrewrite(byte[] forwarded, byte[][] inputs) =>
        inputs.Single(f => Normalized(f).SequenceEqual(Normalized(forwarded)));

    private static byte[] Normalized(byte[] frame)
    {
        byte[] f = (byte[])frame.Clone();
        f.AsSpan(0, 12).Clear();
        if (new EthernetHeader(f).EtherType == EtherType.Ipv4)
            f[22] = f[24] = f[25] = 0; // TTL, header checksum
        else
            f[21] = 0; // hop limit
        return f;
    }

    /// <summary>Runs the lcore's loop until it has polled once, through <see cref="L3FwdApp.RunLcore"/>; returns what it printed.</summary>
    private static string RunOnce(L3FwdApp app, StringWriter output)
    {
        using var stop = new System.Threading.CancellationTokenSource();
        stop.Cancel();
        using (LcoreIdentity.As(4))
            app.RunLcore(4, stop.Token);
        app.RunLcore(5, stop.Token);
        string text = output.ToString();
        Assert.Contains("L3FWD: lcore 5 has nothing to do", text);
        Assert.Contains("L3FWD: entering main loop on lcore 4", text);
        return text;
    }

    private static void AssertValidIpHeader(byte[] frame)
    {
        var eth = new EthernetHeader(frame);
        if (eth.EtherType == EtherType.Ipv4)
        {
            var ip = new Ipv4Header(frame.AsSpan(14));
            Assert.True(ip.IsChecksumValid, "IPv4 header checksum");
            Assert.True(Checksum.Verify(frame.AsSpan(14, ip.HeaderLength)));
            Assert.True(ip.TimeToLive >= 1);
        }
        else
        {
            Assert.Equal(EtherType.Ipv6, eth.EtherType);
            Assert.True(new Ipv6Header(frame.AsSpan(14)).HopLimit >= 1);
        }
    }

    private string Temp(string name, string? content)
    {
        string path = PcapFiles.TempPath(name);
        _files.Add(path);
        if (content is not null)
            File.WriteAllText(path, content);
        return path;
    }
}
