using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Samples.L3Fwd;
using PacketPlane.Tests.Samples;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Fuzz;

/// <summary>
/// L3Fwd under hostile input (issue 8): mutated rule files are read or refused with an
/// <see cref="L3FwdRuleFileException"/> that names the file and the offending line, never anything else; mutated
/// frames through the forwarding loop over ring ports crash nothing, lose nothing (received = sent + dropped), leave
/// no mbuf behind, and every frame that comes out is IP with a valid header (the incremental checksum update holds
/// whatever the header held).
/// </summary>
[Collection(LcoreIdentity.Collection)]
public sealed class L3FwdFuzzTests(ITestOutputHelper output)
{
    private const int Lcore = 7;

    private static readonly string[] s_ruleTokens =
    [
        "R", "#", "@", "/", ".", ":", "::", " ", "\t", "\r\n", "\n", "\r", "0x", "0X", "08", "198.18.0.0", "255.255.255.255",
        "2001:200::", "::ffff:1.2.3.4", "fe80::1%eth0", "/24", "/32", "/33", "/64", "/128", "/129", "/-1", " 0x11 ", " 17 ", " 6 ",
        "[::1]", "1.2.3", "1.2.3.4.5", "01.2.3.4", "\0", "\u00e9", "R198.18.0.0/24 0\n",
    ];

    [Fact]
    public void Mutated_rule_files_are_read_or_refused_naming_file_and_line()
    {
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string path = Path.Combine(dir, $"pp-fuzz-l3rules-{Environment.ProcessId}.cfg");
        // A quarter of the files for each reader, mutated from that reader's valid files (splices may bring in the
        // other formats' lines too: every seed of the run is a splice source).
        (string Name, string[] Seeds, Func<string, int> Read)[] readers =
        [
            ("lpm4", [Lpm4Seed, Lpm4Seed.Replace("\n", "\r\n", StringComparison.Ordinal)],
                p => Check(p, RuleFile.ReadLpm4(p).Select(r => (r.Origin, r.Depth <= 32 && r.Port <= 255)))),
            ("lpm6", [Lpm6Seed, Lpm6Seed.Replace("\n", "\r\n", StringComparison.Ordinal)],
                p => Check(p, RuleFile.ReadLpm6(p).Select(r => (r.Origin, r.Depth <= 128 && r.Port <= 255)))),
            ("em4", [Em4Seed, Em4Seed.Replace(' ', '\t')], p => Check(p, RuleFile.ReadEm4(p).Select(r => (r.Origin, r.Port <= 255)))),
            ("em6", [Em6Seed, Em6Seed.Replace(' ', '\t')], p => Check(p, RuleFile.ReadEm6(p).Select(r => (r.Origin, r.Port <= 255)))),
        ];
        try
        {
            foreach ((string name, string[] seeds, Func<string, int> read) in readers)
            {
                int accepted = 0, refused = 0, lineErrors = 0, rules = 0;
                FuzzResult r = Fuzzer.Run($"l3fwd {name} rule files", seeds.Select(Encoding.UTF8.GetBytes), s_ruleTokens, input =>
                {
                    File.WriteAllBytes(path, input);
                    try
                    {
                        rules += read(path);
                        accepted++;
                    }
                    catch (L3FwdRuleFileException e)
                    {
                        CheckError(path, e);
                        refused++;
                        if (e.Line is not null)
                            lineErrors++;
                    }
                }, _ => false, iterations: Math.Max(1, Fuzzer.DefaultIterations / readers.Length));
                output.WriteLine($"{r.Name}: {r.Cases} files, {accepted} read ({rules} rules), {refused} refused ({lineErrors} naming a line, the rest 'no rules')");
                Assert.True(accepted > 200 && refused > 1000, $"{name}: {accepted} accepted, {refused} refused");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(LookupMode.Lpm)]
    [InlineData(LookupMode.Em)]
    public void Mutated_frames_through_the_forwarding_loop_are_all_accounted_for_and_leave_no_mbuf_behind(LookupMode mode)
    {
        string tag = mode.ToString().ToLowerInvariant();
        (EthDev a, EthDev farA) = RingPort.CreatePair($"l3fz{tag}a", $"l3fz{tag}fa");
        (EthDev b, EthDev farB) = RingPort.CreatePair($"l3fz{tag}b", $"l3fz{tag}fb");
        EthDev[] far = [farA, farB];
        using MbufPool farPool = MbufPool.Create($"l3fuzz_{tag}", 1024, cacheSize: 0);
        var app = new L3FwdApp(L3FwdOptions.Parse(["-p", "0x3", $"--config=(0,0,{Lcore}),(1,0,{Lcore})", $"--lookup={tag}"]),
            [a, b], [Lcore], TextWriter.Null);
        MacAddress[] macs = [a.MacAddress, b.MacAddress];
        int[] appPoolsInUse = app.Pools.Select(p => p.InUse).ToArray();
        long injected = 0, cameOut = 0;
        var outPorts = new long[2];
        try
        {
            foreach (EthDev f in far)
            {
                f.Configure(1, 1);
                f.SetupRxQueue(0, 64, farPool);
                f.SetupTxQueue(0, 64);
                f.Start();
            }
            IPollWorker worker = app.Forwarders[Lcore];
            var fuzzer = new Fuzzer(Fuzzer.DefaultSeed, L3FwdTraffic.Cases(repeat: 2).Select(c => c.Frame), []) { MaxLength = 1514 };
            var random = new Random(Fuzzer.DefaultSeed);
            var burst = new Packet[L3Forwarder.MaxBurst];
            var got = new Packet[L3Forwarder.MaxBurst];
            int frames = Fuzzer.DefaultIterations;
            using (LcoreIdentity.As(Lcore))
            {
                for (int sent = 0; sent < frames; sent += burst.Length)
                {
                    int n = Math.Min(burst.Length, frames - sent);
                    Assert.Equal(n, farPool.AllocBulk(burst.AsSpan(0, n)));
                    for (int i = 0; i < n; i++)
                        Fill(burst[i], fuzzer.Next(), fixIpv4Checksum: random.Next(2) == 0);
                    // Into L3Fwd's port 0 or port 1, from the far end of its ring wire.
                    int into = random.Next(2);
                    Assert.Equal(n, far[into].TxBurst(0, burst.AsSpan(0, n)));
                    injected += n;
                    while (app.TotalReceived < injected)
                        worker.Poll();
                    worker.Drain();
                    for (int port = 0; port < 2; port++)
                    {
                        int k;
                        while ((k = far[port].RxBurst(0, got)) > 0)
                        {
                            for (int i = 0; i < k; i++)
                                CheckForwarded(got[i].Data, port, macs[port]);
                            outPorts[port] += k;
                            cameOut += k;
                            Packet.FreeBulk(got.AsSpan(0, k));
                        }
                    }
                }
            }
            L3FwdCounters c0 = app.Counters(0), c1 = app.Counters(1);
            long dropped = c0.Dropped + c1.Dropped, txFull = app.TxDropped(0) + app.TxDropped(1);
            output.WriteLine($"{mode}: {injected} frames in, {cameOut} out (port 0 {outPorts[0]}, port 1 {outPorts[1]}), " +
                $"sent back {c0.NoRoute + c1.NoRoute}, dropped: not IP {c0.NotIp + c1.NotIp}, bad header {c0.BadHeader + c1.BadHeader}, " +
                $"bad checksum {c0.BadChecksum + c1.BadChecksum}, expired {c0.Expired + c1.Expired}; TX full {txFull}");
            Assert.Equal(injected, c0.Received + c1.Received);
            Assert.Equal(c0.Received + c1.Received, app.Sent(0) + app.Sent(1) + dropped + txFull);
            Assert.Equal(app.Sent(0) + app.Sent(1), cameOut);
            Assert.Equal(app.Sent(0), outPorts[0]);
            // The mutations reached every path: forwarded both ways, sent back, and each drop reason.
            Assert.True(outPorts[0] > 1000 && outPorts[1] > 1000 && c0.NoRoute + c1.NoRoute > 1000, "forwarded and missed");
            Assert.True(c0.NotIp + c1.NotIp > 0 && c0.BadHeader + c1.BadHeader > 0 && c0.BadChecksum + c1.BadChecksum > 0 && c0.Expired + c1.Expired > 0);
            Assert.Equal(0, farPool.InUse);
            Assert.Equal(appPoolsInUse, app.Pools.Select(p => p.InUse).ToArray());
        }
        finally
        {
            app.Dispose();
            farA.Close();
            farB.Close();
        }
        Assert.Equal(0, farPool.InUse);
    }

    // Valid files of each kind, with comments, blank lines, tabs and strtoul's number forms.
    private const string Lpm4Seed = "# IPv4 routes\nR198.18.0.0/24 0\nR198.18.1.0/24 1\n\nR10.99.0.0/16\t2\nR0.0.0.0/0 3\n";
    private const string Lpm6Seed = "R2001:200::/48 0\nR2001:200:0:1::/64 1\n# default\nR::/0 3\n";
    private const string Em4Seed = "R198.18.0.0 198.18.0.1 9 9 0x11 0\n#tcp\nR10.99.0.1 10.99.0.2 0x50 01000 6 2\n";
    private const string Em6Seed = "R2001:200:: 2001:200::1 9 9 0x11 0\nR fd00::1 fd00::2 53 5353 17 2\n";

    /// <summary>An accepted file: every rule came from a line that starts with 'R', named by its number.</summary>
    private static int Check(string path, IEnumerable<(string Origin, bool InRange)> rules)
    {
        string[] lines = File.ReadAllLines(path);
        int count = 0;
        foreach ((string origin, bool inRange) in rules)
        {
            Assert.StartsWith(path + ":", origin);
            int line = int.Parse(origin.AsSpan(path.Length + 1), provider: System.Globalization.CultureInfo.InvariantCulture);
            Assert.StartsWith("R", lines[line - 1]);
            Assert.True(inRange, origin);
            count++;
        }
        Assert.True(count > 0, "an accepted file has at least one rule");
        return count;
    }

    /// <summary>A refusal names this file, and either a line of it that is neither blank nor a comment, or the whole file.</summary>
    private static void CheckError(string path, L3FwdRuleFileException e)
    {
        Assert.Equal(path, e.FileName);
        if (e.Line is int line)
        {
            Assert.StartsWith($"{path}:{line}: ", e.Message);
            string[] lines = File.ReadAllLines(path);
            Assert.InRange(line, 1, lines.Length);
            Assert.False(string.IsNullOrWhiteSpace(lines[line - 1]) || lines[line - 1][0] == '#', $"{e.Message} names a blank or comment line");
        }
        else
        {
            Assert.StartsWith($"{path}: no rules", e.Message);
        }
        Assert.True(e.Message.Length > path.Length + 20, e.Message);
    }

    /// <summary>Writes a frame into a packet; half the time an IPv4-looking header gets its checksum fixed, so the frame gets past the checks.</summary>
    private static void Fill(Packet packet, byte[] frame, bool fixIpv4Checksum)
    {
        Assert.True(packet.TryAppend(frame.Length));
        Span<byte> data = packet.Data;
        frame.CopyTo(data);
        if (fixIpv4Checksum && data.Length >= 34 && BinaryPrimitives.ReadUInt16BigEndian(data[12..]) == EtherType.Ipv4)
        {
            int ihl = (data[14] & 0x0F) * 4;
            if (ihl >= 20 && 14 + ihl <= data.Length)
                new Ipv4Header(data.Slice(14, ihl)).UpdateChecksum();
        }
    }

    /// <summary>What leaves a port: IPv4 with a valid header checksum and TTL at least 1, or IPv6 with hop limit at least 1, addressed by that port.</summary>
    private static void CheckForwarded(ReadOnlySpan<byte> frame, int port, MacAddress source)
    {
        Span<byte> expected = stackalloc byte[12];
        L3FwdTraffic.DefaultDestination(port).CopyTo(expected);
        source.CopyTo(expected[6..]);
        Assert.True(frame[..12].SequenceEqual(expected), $"MACs out of port {port}: {Convert.ToHexString(frame[..12])}, expected {Convert.ToHexString(expected)}");
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == EtherType.Ipv4)
        {
            byte[] header = frame.Slice(14, (frame[14] & 0x0F) * 4).ToArray();
            var ip = new Ipv4Header(header);
            Assert.True(ip.IsChecksumValid, $"IPv4 header checksum after forwarding: {Convert.ToHexString(header)}");
            Assert.True(ip.TimeToLive >= 1);
        }
        else
        {
            Assert.Equal(EtherType.Ipv6, etherType);
            Assert.True(frame[14 + 7] >= 1);
        }
    }
}
