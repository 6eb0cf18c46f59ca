using System.Linq;
using PacketPlane.Net;
using PacketPlane.Samples.L3Fwd;
using Xunit;

namespace PacketPlane.Tests.Samples;

public class L3FwdOptionsTests
{
    [Fact]
    public void Parses_dpdk_l3fwd_arguments_in_both_getopt_forms()
    {
        L3FwdOptions o = L3FwdOptions.Parse([
            "-p", "0x3", "-P", "--config=(0,0,1),(1,0,2),(0,1,2)", "--lookup=em", "--rule_ipv4=v4.cfg", "--rule_ipv6", "v6.cfg",
            "--eth-dest=1,02:aa:bb:cc:dd:ee", "--eth-dest", "0,02:00:00:00:00:09", "--max-pkt-len=9000", "--rx-queue-size", "512",
            "--tx-queue-size=256", "--no-numa", "--per-port-pool", "--duration=2.5", "--stats-period", "0",
        ]);
        Assert.Equal(3UL, o.PortMask);
        Assert.True(o.Promiscuous);
        Assert.Equal(LookupMode.Em, o.Lookup);
        Assert.Equal([new RxQueueAssignment(0, 0, 1), new(1, 0, 2), new(0, 1, 2)], o.Config!);
        Assert.Equal("v4.cfg", o.RuleIpv4);
        Assert.Equal("v6.cfg", o.RuleIpv6);
        Assert.Equal(MacAddress.Parse("02:aa:bb:cc:dd:ee"), o.EthDest[1]);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:09"), o.EthDest[0]);
        Assert.Equal(9000, o.MaxPacketLengthBytes);
        Assert.Equal(512, o.RxQueueSize);
        Assert.Equal(256, o.TxQueueSize);
        Assert.True(o.NoNuma);
        Assert.True(o.PerPortPool);
        Assert.Equal(2.5, o.DurationSeconds);
        Assert.Equal(0, o.StatsPeriodSeconds);
    }

    [Fact]
    public void Defaults_are_dpdks_and_flags_without_effect_are_accepted_with_a_notice()
    {
        L3FwdOptions o = L3FwdOptions.Parse(["-p3", "--parse-ptype", "--ipv6", "--hash-entry-num", "16", "--mode=poll", "-L"]);
        Assert.Equal(3UL, o.PortMask);
        Assert.Equal(LookupMode.Lpm, o.Lookup);
        Assert.Null(o.Config);
        Assert.Null(o.RuleIpv4);
        Assert.Equal(L3FwdOptions.DefaultDescriptors, o.RxQueueSize);
        Assert.Equal(L3FwdOptions.DefaultDescriptors, o.TxQueueSize);
        Assert.Null(o.MaxPacketLengthBytes);
        Assert.Null(o.DurationSeconds);
        Assert.Equal(1, o.StatsPeriodSeconds);
        Assert.True(o.ParsePtype);
        Assert.True(o.Ipv6);
        Assert.Contains(o.Notices, n => n.Contains("Hash entry number will be ignored"));
        Assert.Contains(o.Notices, n => n.Contains("soft parse-ptype is enabled"));
        Assert.Equal(LookupMode.Em, L3FwdOptions.Parse(["-p", "1", "-E"]).Lookup);
        Assert.Equal(LookupMode.Lpm, L3FwdOptions.Parse(["-p", "1", "--lookup", "lpm"]).Lookup);
    }

    [Theory]
    [InlineData("(0,0,1)", new[] { 0, 0, 1 })]
    [InlineData("\"( 0 , 1 , 2 )\"", new[] { 0, 1, 2 })]
    [InlineData("'(0x1,0,010)'", new[] { 1, 0, 8 })]
    [InlineData("(3,127,1023)", new[] { 3, 127, 1023 })]
    public void Config_fields_are_read_as_strtoul_base_0(string text, int[] expected)
    {
        RxQueueAssignment a = L3FwdOptions.ParseConfig(text).Single();
        Assert.Equal(new RxQueueAssignment(expected[0], expected[1], expected[2]), a);
    }

    [Theory]
    [InlineData(new string[0], "missing -p PORTMASK")]
    [InlineData(new[] { "-p", "xyz" }, "invalid portmask 'xyz'")]
    [InlineData(new[] { "-p", "0" }, "invalid portmask 0")]
    [InlineData(new[] { "-p" }, "option -p needs a value")]
    [InlineData(new[] { "-p", "3", "--config=(0,0)" }, "Invalid config '(0,0)'")]
    [InlineData(new[] { "-p", "3", "--config=0,0,1" }, "expected (port,queue,lcore) tuples")]
    [InlineData(new[] { "-p", "3", "--config=(0,0,1)x" }, "expected (port,queue,lcore) tuples")]
    [InlineData(new[] { "-p", "3", "--config=(0,0,1),(0,0,2)" }, "RX queue 0 of port 0 is listed twice")]
    [InlineData(new[] { "-p", "3", "--config=(64,0,1)" }, "port '64' is not a number from 0 to 63")]
    [InlineData(new[] { "-p", "3", "--config=(0,128,1)" }, "queue '128' is not a number from 0 to 127")]
    [InlineData(new[] { "-p", "3", "--config=(0,0,-1)" }, "lcore '-1' is not a number")]
    [InlineData(new[] { "-p", "3", "--config=(0,08,1)" }, "queue '08'")]
    [InlineData(new[] { "-p", "3", "--lookup=em", "-L" }, "Only one lookup mode is allowed at a time!")]
    [InlineData(new[] { "-p", "3", "-E", "-E" }, "Only one lookup mode is allowed at a time!")]
    [InlineData(new[] { "-p", "3", "--lookup=fib" }, "no fib lookup; accepted: lpm, em")]
    [InlineData(new[] { "-p", "3", "--lookup=acl" }, "no acl lookup")]
    [InlineData(new[] { "-p", "3", "--lookup=hash" }, "Invalid lookup option 'hash'! Accepted options: lpm, em")]
    [InlineData(new[] { "-p", "3", "--eth-dest=1" }, "Invalid eth-dest '1'")]
    [InlineData(new[] { "-p", "3", "--eth-dest=x,02:00:00:00:00:01" }, "Invalid eth-dest")]
    [InlineData(new[] { "-p", "3", "--eth-dest=64,02:00:00:00:00:01" }, "eth-dest: port 64 >= 64")]
    [InlineData(new[] { "-p", "3", "--eth-dest=1,02:00:00:00:01" }, "Invalid ethernet address '02:00:00:00:01'")]
    [InlineData(new[] { "-p", "3", "--max-pkt-len=63" }, "from 64 to 9600")]
    [InlineData(new[] { "-p", "3", "--max-pkt-len=9601" }, "from 64 to 9600")]
    [InlineData(new[] { "-p", "3", "--rx-queue-size=0" }, "invalid RX queue size '0'")]
    [InlineData(new[] { "-p", "3", "--tx-queue-size=65536" }, "invalid TX queue size '65536'")]
    [InlineData(new[] { "-p", "3", "--duration=0" }, "invalid --duration '0'")]
    [InlineData(new[] { "-p", "3", "--stats-period=x" }, "statistics period")]
    [InlineData(new[] { "-p", "3", "--rule_ipv4=" }, "option --rule_ipv4 needs a file name")]
    [InlineData(new[] { "-p", "3", "--mode=eventdev" }, "only poll mode is supported")]
    [InlineData(new[] { "-p", "3", "--alg=scalar" }, "ACL classifier")]
    [InlineData(new[] { "-p", "3", "--event-vector" }, "eventdev mode")]
    [InlineData(new[] { "-p", "3", "--ipv6=1" }, "option --ipv6 takes no value")]
    [InlineData(new[] { "-p", "3", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "-p", "3", "--config" }, "option --config needs a value")]
    public void Bad_arguments_are_named(string[] args, string expected)
    {
        var e = Assert.Throws<L3FwdArgumentException>(() => L3FwdOptions.Parse(args));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Usage_lists_every_accepted_option()
    {
        foreach (string option in new[] { "-p PORTMASK", "--config", "-P", "--lookup", "--rule_ipv4", "--rule_ipv6", "--eth-dest", "--max-pkt-len",
            "--rx-queue-size", "--tx-queue-size", "--parse-ptype", "--ipv6", "--no-numa", "--per-port-pool", "--hash-entry-num", "--mode=poll",
            "--duration", "--stats-period", "-E", "-L" })
            Assert.Contains(option, L3FwdOptions.Usage);
    }
}
