using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Net;
using PacketPlane.Samples.L3Fwd;
using PacketPlane.Tests.Drivers.Pcap;
using PacketPlane.Tests.Samples;
using Xunit;

namespace PacketPlane.IntegrationTests.Samples;

/// <summary>
/// The L3Fwd sample as a process (dotnet L3Fwd.dll): the no-argument demo, pcap in and a tx_pcap per port out checked
/// by tshark, argument and rule-file errors, and SIGTERM.
/// </summary>
public sealed class L3FwdProcessTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pp-l3fwd-{Guid.NewGuid():N}");

    public L3FwdProcessTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Without_arguments_the_demo_forwards_for_10_seconds_reports_a_rate_and_prints_nothing_else_to_stderr()
    {
        using var l3fwd = SampleProcess.Start("L3Fwd", "");
        Assert.Equal(0, l3fwd.WaitForExit(TimeSpan.FromSeconds(90)));
        string output = l3fwd.Output;
        Assert.Equal("", l3fwd.Errors);
        Assert.Contains("No arguments: running the L3Fwd demo for 10 seconds", output);
        MatchCollection rates = Regex.Matches(output, @"\[\s*\d+\.\d s\] rx\s+(\d+\.\d+) Mpps");
        Assert.Equal(10, rates.Count);
        double average = double.Parse(Regex.Match(output, @"Average: (\d+\.\d+) Mpps received").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(average > 0.1, $"average {average} Mpps");
        // The capture's malformed frames were counted under each reason, and both ports sent.
        foreach (string reason in new[] { "bad IP header", "bad IPv4 header checksum", "TTL or hop limit 1 or 0", "not IPv4 or IPv6", "sent back out of their input port" })
            Assert.Matches(@"\s[1-9]\d*  (dropped: )?" + Regex.Escape(reason), output);
        Assert.Matches(@"Port 1 \(net_null0\): received 0 \(0\.00 Mpps\), sent [1-9]\d*", output);
        Assert.Contains("Closing port 1... Done", output);
        Assert.EndsWith("Bye..." + Environment.NewLine, output);
    }

    [Fact]
    public void With_only_duration_the_demo_runs_that_long_forwards_at_a_nonzero_rate_and_allocates_nothing_while_forwarding()
    {
        using var l3fwd = SampleProcess.Start("L3Fwd", "--duration 2");
        Assert.Equal(0, l3fwd.WaitForExit(TimeSpan.FromSeconds(60)));
        string output = l3fwd.Output;
        Assert.Equal("", l3fwd.Errors);
        Assert.Contains("Only --duration: running the L3Fwd demo for 2 seconds", output);
        MatchCollection rates = Regex.Matches(output, @"\[\s*\d+\.\d s\] rx\s+(\d+\.\d+) Mpps");
        Assert.Equal(2, rates.Count);
        Assert.All(rates, m => Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) > 0, m.Value));
        double average = double.Parse(Regex.Match(output, @"Average: (\d+\.\d+) Mpps received").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(average > 0, $"average {average} Mpps");
        Assert.Matches(@"Port 0 \(net_pcap0\): received [1-9]\d* \(\d+\.\d\d Mpps\), sent [1-9]\d*", output);
        Assert.Contains("Managed allocation on forwarding lcores: 0 bytes (0.000000 bytes/packet)", output);
        // Without hugepages the pool says where it went, in one line (no warning from the EAL at this log level).
        Assert.Matches("Allocated mbuf pool 'mbuf_pool': 8192 mbufs in (hugepages|4 KiB pages)", output);
        Assert.EndsWith("Bye..." + Environment.NewLine, output);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void The_demo_runs_as_an_unprivileged_user()
    {
        Prerequisites.Require(Requirement.Root); // for setpriv
        // A copy of the binaries under a home that uid 65534 (nobody) owns, so nothing depends on root's files.
        string home = Path.Combine(_dir, "home"), bin = Path.Combine(home, "bin");
        Directory.CreateDirectory(home);
        Shell.Run($"cp -r {AppContext.BaseDirectory} {bin} && chown -R 65534:65534 {home}");
        Shell.Result r = Shell.TryRun($"setpriv --reuid=65534 --regid=65534 --clear-groups env HOME={home} DOTNET_CLI_TELEMETRY_OPTOUT=1 " +
            $"dotnet {Path.Combine(bin, "L3Fwd.dll")} --duration 2", TimeSpan.FromSeconds(90));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Equal("", r.Stderr);
        Assert.Matches(@"Average: \d+\.\d+ Mpps received", r.Stdout);
        Assert.Matches("Allocated mbuf pool 'mbuf_pool': 8192 mbufs in (hugepages|4 KiB pages)", r.Stdout);
    }

    [SkippableTheory]
    [Trait("Requires", "Tshark")]
    [InlineData(LookupMode.Lpm)]
    [InlineData(LookupMode.Em)]
    public void Pcap_through_l3fwd_to_a_pcap_per_port_has_the_right_ports_ttls_macs_and_no_bad_checksum_for_tshark(LookupMode mode)
    {
        Prerequisites.Require(Requirement.Tshark);
        List<L3FwdCase> cases = L3FwdTraffic.Cases();
        string input = Path.Combine(_dir, "in.pcap"), out0 = Path.Combine(_dir, "out0.pcap"), out1 = Path.Combine(_dir, "out1.pcap");
        PcapFiles.Write(input, cases.Select((c, i) => new PcapTestRecord(c.Frame, (ulong)i * 1000)));
        string lookup = mode.ToString().ToLowerInvariant();
        using var l3fwd = SampleProcess.Start("L3Fwd", $"-l 0 --no-huge --vdev net_pcap0,rx_pcap={input},tx_pcap={out0} --vdev net_pcap1,tx_pcap={out1} " +
            $"-- -p 0x3 --config=\"(0,0,0)\" --lookup={lookup} --stats-period 0");
        string mac0 = l3fwd.WaitForOutput(@"Initializing port 0 .*Address:([0-9A-F:]{17})", TimeSpan.FromSeconds(60)).Groups[1].Value.ToLowerInvariant();
        string mac1 = l3fwd.WaitForOutput(@"Initializing port 1 .*Address:([0-9A-F:]{17})", TimeSpan.FromSeconds(60)).Groups[1].Value.ToLowerInvariant();
        l3fwd.WaitForOutput("entering main loop", TimeSpan.FromSeconds(60));
        // The file is read once; the 100 us drain sends what is buffered; then stop.
        System.Threading.Thread.Sleep(1000);
        l3fwd.Signal("TERM");
        Assert.Equal(0, l3fwd.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains($"Of {cases.Count} packets received:", l3fwd.Output);

        string[] macs = [mac0, mac1];
        string[] outputs = [out0, out1];
        List<string[]> before = Tshark(input, "-e ip.ttl -e ipv6.hlim -e ip.dst -e ipv6.dst");
        for (int port = 0; port < 2; port++)
        {
            List<L3FwdCase> expected = cases.Where(c => c.PortFor(mode) == port).ToList();
            List<string[]> after = Tshark(outputs[port], "-e eth.dst -e eth.src -e ip.ttl -e ipv6.hlim -e ip.checksum.status -e ip.dst -e ipv6.dst");
            Assert.Equal(expected.Count, after.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                string[] original = before[cases.IndexOf(expected[i])];
                string[] got = after[i];
                Assert.Equal($"02:00:00:00:00:0{port}", got[0]);
                Assert.Equal(macs[port], got[1]);
                if (original[0].Length > 0)
                {
                    Assert.Equal(int.Parse(original[0], CultureInfo.InvariantCulture) - 1, int.Parse(got[2], CultureInfo.InvariantCulture));
                    Assert.Equal("1", got[4]); // tshark: header checksum good
                    Assert.Equal(original[2], got[5]);
                }
                else
                {
                    Assert.Equal(int.Parse(original[1], CultureInfo.InvariantCulture) - 1, int.Parse(got[3], CultureInfo.InvariantCulture));
                    Assert.Equal(original[3], got[6]);
                }
            }
            // And tshark's own filter finds no bad IPv4 checksum at all.
            Assert.Equal("", Shell.Run($"tshark -r {outputs[port]} -o ip.check_checksum:TRUE -Y ip.checksum.status==0 -T fields -e frame.number 2>/dev/null").Trim());
        }
    }

    [Fact]
    public void Sigterm_stops_forwarding_prints_the_totals_and_closes_the_ports_in_order()
    {
        using var l3fwd = SampleProcess.Start("L3Fwd", "-l 0 --no-huge --vdev net_null0 --vdev net_null1 -- -p 0x3 '--config=(0,0,0),(1,0,0)' -E");
        l3fwd.WaitForOutput(@"\[\s*1\.0 s\] rx", TimeSpan.FromSeconds(60));
        l3fwd.Signal("TERM");
        Assert.Equal(0, l3fwd.WaitForExit(TimeSpan.FromSeconds(30)));
        string output = l3fwd.Output;
        int signal = output.IndexOf("Signal 15 received, preparing to exit...", StringComparison.Ordinal);
        int totals = output.IndexOf("L3FWD totals (em lookup", StringComparison.Ordinal);
        int close0 = output.IndexOf("Closing port 0... Done", StringComparison.Ordinal);
        int close1 = output.IndexOf("Closing port 1... Done", StringComparison.Ordinal);
        int bye = output.IndexOf("Bye...", StringComparison.Ordinal);
        Assert.True(signal >= 0 && signal < totals && totals < close0 && close0 < close1 && close1 < bye, output);
        // net_null hands out zero-filled frames: not IP, all dropped and counted.
        Assert.Matches(@"[1-9]\d*  dropped: not IPv4 or IPv6", output);
    }

    [Theory]
    [InlineData("-- -p zz", "invalid portmask 'zz'")]
    [InlineData("-- -p 0x1 --lookup=acl", "no acl lookup")]
    [InlineData("-- -p 0x1 '--config=(0,0,5)'", "lcore 5 is not enabled in lcore mask")]
    public void Bad_arguments_exit_with_code_2_and_say_why(string appArgs, string words)
    {
        using var l3fwd = SampleProcess.Start("L3Fwd", $"-l 0 --no-huge --vdev net_null0 {appArgs}");
        Assert.Equal(2, l3fwd.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains(words, l3fwd.Errors);
    }

    [Fact]
    public void A_bad_rule_file_exits_with_code_2_naming_file_and_line()
    {
        string rules = Path.Combine(_dir, "rules_v4.cfg");
        File.WriteAllText(rules, "# two good routes, then a typo\nR198.18.0.0/24 0\nR198.18.1.0/24 1\nR198.18.2.0/24 O\n");
        using var l3fwd = SampleProcess.Start("L3Fwd", $"-l 0 --no-huge --vdev net_null0 --vdev net_null1 -- -p 0x3 '--config=(0,0,0)' --rule_ipv4={rules}");
        Assert.Equal(2, l3fwd.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains($"L3FWD: {rules}:4: output port 'O' is not a number from 0 to 255", l3fwd.Errors);
    }

    private static List<string[]> Tshark(string file, string fields)
    {
        string output = Shell.Run($"tshark -r {file} -o ip.check_checksum:TRUE -T fields -E separator=/t {fields} 2>/dev/null");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
    }
}
