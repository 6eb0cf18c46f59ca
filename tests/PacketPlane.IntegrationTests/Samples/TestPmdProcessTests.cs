using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Samples;

/// <summary>The TestPmd sample as a process: txonly frames checked by tshark and scapy, io totals, signals, bad arguments.</summary>
public sealed class TestPmdProcessTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pp-testpmd-{Guid.NewGuid():N}");

    public TestPmdProcessTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    [Trait("Requires", "Tshark")]
    [Trait("Requires", "Scapy")]
    public void Txonly_frames_are_valid_udp_for_tshark_and_scapy()
    {
        Prerequisites.Require(Requirement.Tshark, Requirement.Scapy);
        string a = Path.Combine(_dir, "a.pcap"), b = Path.Combine(_dir, "b.pcap");
        using var testpmd = SampleProcess.Start("TestPmd",
            $"-l 0-1 --no-huge --vdev net_pcap0,tx_pcap={a} --vdev net_pcap1,tx_pcap={b} -- --forward-mode=txonly --txpkts=200 --burst=8 --duration=0.2 --eth-peer=0,02:00:00:00:00:42");
        Assert.Equal(0, testpmd.WaitForExit(TimeSpan.FromSeconds(60)));
        string mac0 = Regex.Match(testpmd.Output, @"Port 0: ([0-9A-F:]{17})").Groups[1].Value.ToLowerInvariant();
        Assert.Contains("txonly packet forwarding - ports=2 - cores=1 - streams=2", testpmd.Output);
        Assert.Contains("Forward statistics for port 0", testpmd.Output);

        string fields = Shell.Run($"tshark -r {a} -c 2000 -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields -E separator=/t " +
            "-e frame.len -e eth.src -e eth.dst -e ip.src -e ip.dst -e ip.checksum.status -e udp.dstport -e udp.checksum.status 2>/dev/null");
        string[][] rows = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        Assert.True(rows.Length > 100, $"only {rows.Length} frames were written");
        foreach (string[] r in rows)
        {
            Assert.Equal(["200", mac0, "02:00:00:00:00:42", "198.18.0.1", "198.18.0.2", "1", "9", "1"], r);
        }
        Assert.StartsWith("ok 1000 200", Shell.Run($"/usr/bin/python3 {Path.Combine(AppContext.BaseDirectory, "Samples", "txonly_check.py")} {b} 1000"));
    }

    [Fact]
    public void Io_between_two_null_ports_runs_until_sigint_and_reports_zero_allocation_and_no_gc()
    {
        using var testpmd = SampleProcess.Start("TestPmd",
            "-l 0-1 --no-huge --vdev net_null0 --vdev net_null1 -- --forward-mode=io --stats-period 1");
        testpmd.WaitForOutput(@"Rx-pps:\s+[1-9]\d*", TimeSpan.FromSeconds(60));
        testpmd.Signal("INT");
        Assert.Equal(0, testpmd.WaitForExit(TimeSpan.FromSeconds(60)));
        string output = testpmd.Output;
        Assert.Contains("Signal 2 received", output);
        Assert.Contains("---------------------- Forward statistics for port 0  ----------------------", output);
        Assert.Contains("---------------------- Forward statistics for port 1  ----------------------", output);
        Assert.Contains("+++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++", output);
        Match rx = Regex.Match(output, @"Accumulated.*\n  RX-packets: (\d+)\s+RX-dropped: (\d+)\s+RX-total: (\d+)\n  TX-packets: (\d+)\s+TX-dropped: (\d+)\s+TX-total: (\d+)");
        Assert.True(rx.Success, output);
        ulong received = ulong.Parse(rx.Groups[1].Value), sent = ulong.Parse(rx.Groups[4].Value), dropped = ulong.Parse(rx.Groups[5].Value);
        Assert.True(received > 1_000_000);
        Assert.Equal(received, sent + dropped);
        Assert.Matches(@"CPU cycles/packet=\d+\.\d\d \(total cycles=\d+ / total io packets=\d+\) at \d+ MHz Clock", output);
        Assert.Matches(@"Throughput: \d+\.\d+ Mpps", output);
        Assert.Contains("Managed allocation on forwarding lcores: 0 bytes (0.000000 bytes/packet); GC collections during the run: gen0=0 gen1=0 gen2=0", output);
        Assert.Contains("Bye...", output);
    }

    [Theory]
    [InlineData("--forward-mode=csum", "available modes: io, mac, macswap, rxonly, txonly")]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("--rxq=2 --txq=1", "--txq=1 is less than --rxq=2")]
    [InlineData("--nb-cores=4", "--nb-cores=4 is more than the 1 forwarding lcore(s)")]
    public void Bad_arguments_exit_with_code_2_naming_the_problem_and_listing_the_options(string args, string expected)
    {
        using var testpmd = SampleProcess.Start("TestPmd", $"-l 0-1 --no-huge --vdev net_null0 -- {args}");
        Assert.Equal(2, testpmd.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains(expected, testpmd.Errors);
        if (!args.StartsWith("--nb-cores", StringComparison.Ordinal))
            Assert.Contains("--forward-mode=MODE", testpmd.Errors);
    }
}
