using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using PacketPlane.Samples.L3Fwd;
using Xunit;

namespace PacketPlane.Tests.Samples;

public sealed class L3FwdRuleFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pp-l3rules-{Guid.NewGuid():N}");

    public L3FwdRuleFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>DPDK 22.11's lpm_default_v4.cfg / lpm_default_v6.cfg / em_default_v4.cfg / em_default_v6.cfg, line for line.</summary>
    private static IEnumerable<string> DpdkDefaultFile(string kind)
    {
        yield return kind.StartsWith("em", StringComparison.Ordinal)
            ? $"#Copy of hard-coded IPv{kind[^1]} FWD table for L3FWD EM"
            : $"# Copy of hard-coded IPv{kind[^1]} FWD table for L3FWD LPM";
        for (int x = 0; x < 16; x++)
        {
            yield return kind switch
            {
                "lpm4" => $"R198.18.{x}.0/24 {x}",
                "lpm6" => $"R2001:0200:0000:{x:X4}:0000:0000:0000:0000/64 {x}",
                "em4" => $"R198.18.{x}.0 198.18.{x}.1 9 9 0x11 {x}",
                _ => $"R2001:0200:0000:{x:X4}:0000:0000:0000:0000 2001:0200:0000:{x:X4}:0000:0000:0000:0001 9 9 0x11 {x}",
            };
        }
    }

    [Fact]
    public void Dpdks_default_files_parse_to_the_built_in_defaults()
    {
        Assert.Equal(RuleFile.DefaultLpm4(), Parse("lpm4", RuleFile.ParseLpm4).Select(r => r with { Origin = "default" }));
        Assert.Equal(RuleFile.DefaultLpm6(), Parse("lpm6", RuleFile.ParseLpm6).Select(r => r with { Origin = "default" }));
        Assert.Equal(RuleFile.DefaultEm4(), Parse("em4", RuleFile.ParseEm4).Select(r => r with { Origin = "default" }));
        Assert.Equal(RuleFile.DefaultEm6(), Parse("em6", RuleFile.ParseEm6).Select(r => r with { Origin = "default" }));
        Assert.Equal("lpm4:2", Parse("lpm4", RuleFile.ParseLpm4)[0].Origin);
        Ipv4LpmRule first = RuleFile.DefaultLpm4()[0];
        Assert.Equal((0xC612_0000u, 24, 0), (first.Prefix, first.Depth, first.Port));
        Ipv6LpmRule v6 = RuleFile.DefaultLpm6()[15];
        Assert.Equal("2001:200:0:f::", RuleFile.FormatIpv6(v6.Prefix));
        Ipv4EmRule em = RuleFile.DefaultEm4()[3];
        Assert.Equal((0xC612_0300u, 0xC612_0301u, (ushort)9, (ushort)9, (byte)17, 3),
            (em.Destination, em.Source, em.DestinationPort, em.SourcePort, em.Protocol, em.Port));
        Ipv6EmRule em6 = RuleFile.DefaultEm6()[1];
        Assert.Equal("2001:200:0:1::1", RuleFile.FormatIpv6(em6.Source));

        static IReadOnlyList<T> Parse<T>(string kind, Func<string[], string, T> parser) => RuleFile.Parse(DpdkDefaultFile(kind), kind, parser);
    }

    [Fact]
    public void Good_files_with_comments_blank_lines_tabs_crlf_and_strtoul_numbers_are_read_with_their_line()
    {
        string v4 = Write("good4.cfg", "# routes\r\n\r\nR10.99.0.0/16\t1\r\n   \r\nR10.99.7.0/0x18 0\r\nR0.0.0.0/0 01\r\n");
        IReadOnlyList<Ipv4LpmRule> rules = RuleFile.ReadLpm4(v4);
        Assert.Equal(3, rules.Count);
        Assert.Equal(new Ipv4LpmRule(0x0A63_0000, 16, 1, $"{v4}:3"), rules[0]);
        Assert.Equal(new Ipv4LpmRule(0x0A63_0700, 24, 0, $"{v4}:5"), rules[1]);
        Assert.Equal(new Ipv4LpmRule(0, 0, 1, $"{v4}:6"), rules[2]);
        string v6 = Write("good6.cfg", "R2001:db8::/32 3\nR::/0 0\n");
        Assert.Equal(32, RuleFile.ReadLpm6(v6)[0].Depth);
        string em = Write("em4.cfg", "#dst src dport sport proto port\nR198.18.0.0 198.18.0.1 9 9 0x11 0\nR10.0.0.1 10.0.0.2 80 0x1F90 6 2\n");
        Ipv4EmRule flow = RuleFile.ReadEm4(em)[1];
        Assert.Equal((0x0A00_0001u, 0x0A00_0002u, (ushort)80, (ushort)8080, (byte)6, 2, $"{em}:3"),
            (flow.Destination, flow.Source, flow.DestinationPort, flow.SourcePort, flow.Protocol, flow.Port, flow.Origin));
        string em6 = Write("em6.cfg", "R2001:200:: 2001:200::1 9 9 17 1\n");
        Assert.Equal(1, RuleFile.ReadEm6(em6)[0].Port);
    }

    public static TheoryData<string, string, string, string> BadLines => new()
    {
        // kind, file content, expected line, expected words
        { "lpm4", "# ok\nX198.18.0.0/24 0\n", "2", "a rule line starts with 'R'" },
        { "lpm4", "R198.18.0.0/24 0\n@198.18.0.0/24 198.18.1.0/24 0:65535 0:65535 0x11/0xff 1\n", "2", "ACL rules ('@')" },
        { "lpm4", "R198.18.0.0/24\n", "1", "1 field(s), 2 expected" },
        { "lpm4", "R198.18.0.0/24 0 extra\n", "1", "unexpected 'extra'" },
        { "lpm4", "R198.18.0/24 0\n", "1", "'198.18.0' is not an IPv4 address" },
        { "lpm4", "R198.18.256.0/24 0\n", "1", "'198.18.256.0' is not an IPv4 address" },
        { "lpm4", "R198.018.0.0/24 0\n", "1", "'198.018.0.0' is not an IPv4 address" },
        { "lpm4", "R2001:200::/64 0\n", "1", "is not an IPv4 address" },
        { "lpm4", "\n\nR198.18.0.0 0\n", "3", "has no prefix length" },
        { "lpm4", "R198.18.0.0/33 0\n", "1", "prefix length '33' is not a number from 0 to 32" },
        { "lpm4", "R198.18.0.0/24 256\n", "1", "output port '256' is not a number from 0 to 255" },
        { "lpm4", "R198.18.0.0/24 one\n", "1", "output port 'one'" },
        { "lpm6", "R2001:200::/129 0\n", "1", "prefix length '129' is not a number from 0 to 128" },
        { "lpm6", "R198.18.0.0/24 0\n", "1", "'198.18.0.0' is not an IPv6 address" },
        { "lpm6", "Rfe80::1%eth0/64 0\n", "1", "is not an IPv6 address" },
        { "em4", "R198.18.0.0 198.18.0.1 9 9 0x11\n", "1", "5 field(s), 6 expected" },
        { "em4", "R198.18.0.0 198.18.0.x 9 9 0x11 0\n", "1", "source '198.18.0.x' is not an IPv4 address" },
        { "em4", "R198.18.0.0 198.18.0.1 65536 9 0x11 0\n", "1", "destination port '65536'" },
        { "em4", "R198.18.0.0 198.18.0.1 9 -9 0x11 0\n", "1", "source port '-9'" },
        { "em4", "R198.18.0.0 198.18.0.1 9 9 0x111 0\n", "1", "protocol '0x111' is not a number from 0 to 255" },
        { "em6", "R2001:200:: 2001:200::1 9 9 17 300\n", "1", "output port '300'" },
        { "em6", "R2001:200:: 198.18.0.1 9 9 17 0\n", "1", "'198.18.0.1' is not an IPv6 address" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void Each_kind_of_bad_line_is_an_error_naming_file_and_line(string kind, string content, string line, string words)
    {
        string path = Write($"bad-{Guid.NewGuid():N}.cfg", content);
        Action read = kind switch
        {
            "lpm4" => () => RuleFile.ReadLpm4(path),
            "lpm6" => () => RuleFile.ReadLpm6(path),
            "em4" => () => RuleFile.ReadEm4(path),
            _ => () => RuleFile.ReadEm6(path),
        };
        var e = Assert.Throws<L3FwdRuleFileException>(read);
        Assert.StartsWith($"{path}:{line}: ", e.Message);
        Assert.Equal((path, int.Parse(line, System.Globalization.CultureInfo.InvariantCulture)), (e.FileName, e.Line));
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void An_empty_or_comment_only_file_and_a_missing_file_are_errors_naming_the_file()
    {
        string empty = Write("empty.cfg", "# nothing here\n\n");
        var e = Assert.Throws<L3FwdRuleFileException>(() => RuleFile.ReadLpm4(empty));
        Assert.Equal((empty, null), (e.FileName, e.Line));
        Assert.Equal($"{empty}: no rules (lines starting with 'R'); give at least one, or leave the option out for the default rules", e.Message);
        string missing = Path.Combine(_dir, "absent.cfg");
        e = Assert.Throws<L3FwdRuleFileException>(() => RuleFile.ReadEm6(missing));
        Assert.StartsWith($"{missing}: cannot read the rule file:", e.Message);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("17", 17UL)]
    [InlineData("0x11", 17UL)]
    [InlineData("0X1f", 31UL)]
    [InlineData("021", 17UL)]
    [InlineData("255", 255UL)]
    public void Numbers_are_read_as_strtoul_base_0(string text, ulong expected)
    {
        Assert.True(RuleFile.TryParseCNumber(text, 255, out ulong value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("256")]
    [InlineData("08")]
    [InlineData("0x")]
    [InlineData("")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1a")]
    public void Bad_numbers_are_refused(string text) => Assert.False(RuleFile.TryParseCNumber(text, 255, out _));

    [Theory]
    [InlineData("198.18.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("1.2.3", false)]
    [InlineData("1.2.3.4.5", false)]
    [InlineData("01.2.3.4", false)]
    [InlineData("1", false)]
    [InlineData("1.2.3.-4", false)]
    public void Ipv4_addresses_are_strict_dotted_decimal(string text, bool ok)
    {
        Assert.Equal(ok, RuleFile.TryParseIpv4(text, out uint address));
        if (ok)
            Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), BitConverter.GetBytes(address).Reverse().ToArray());
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
