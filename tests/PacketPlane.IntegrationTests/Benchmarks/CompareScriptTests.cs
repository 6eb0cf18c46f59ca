using System;
using System.Globalization;
using System.IO;
using System.Linq;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Package;
using Xunit;

namespace PacketPlane.IntegrationTests.Benchmarks;

/// <summary>
/// Smoke checks of the side-by-side scripts in benchmarks/compare: they parse, they run both sides, and the
/// RESULT line all.sh turns into the README's table is complete. Figures are never compared with anything
/// (benchmarks are not tests): only that each side measured something, and that PacketPlane's forwarding
/// lcore allocated nothing and saw no collection.
/// </summary>
[Collection("EAL")]
public class CompareScriptTests
{
    private static readonly string Repo = PackTests.FindRepoRoot();
    private static readonly string Scripts = Path.Combine(Repo, "benchmarks", "compare");

    [Fact]
    public void Every_compare_script_is_valid_bash_and_forwarding_scripts_print_a_result_line()
    {
        string[] scripts = Directory.GetFiles(Scripts, "*.sh");
        Assert.Contains(scripts, s => s.EndsWith("all.sh", StringComparison.Ordinal));
        foreach (string script in scripts)
        {
            Shell.Result r = Shell.TryRun($"bash -n '{script}'");
            Assert.True(r.ExitCode == 0, $"{Path.GetFileName(script)} does not parse: {r.Stderr}");
            if (Path.GetFileName(script) is not ("common.sh" or "all.sh"))
                Assert.Matches(@"result |RESULT\|", File.ReadAllText(script));
        }
    }

    [SkippableFact]
    [Trait("Requires", "root,hugepages,dpdk")]
    public void L2fwd_script_measures_both_sides_and_reports_no_allocation_and_no_gc()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages, Requirement.DpdkTestpmd);
        RequireDpdkDevelopment();
        string env = "ROUNDS=1 DURATION=4 SKIP=1" + (File.Exists(Path.Combine(Repo, "samples/L2Fwd/bin/Release/net10.0/L2Fwd.dll")) ? " SKIP_BUILD=1" : "");
        string output = Shell.Run($"cd '{Repo}' && {env} bash benchmarks/compare/l2fwd.sh", TimeSpan.FromMinutes(5));
        string[] f = ResultLines(output).Single();
        Assert.StartsWith("L2Fwd", f[1]);
        Assert.Equal("Mpps", f[2]);
        Assert.True(Number(f[3]) > 0, $"DPDK's l2fwd measured nothing:\n{output}");
        Assert.True(Number(f[4]) > 0, $"PacketPlane's L2Fwd measured nothing:\n{output}");
        Assert.True(Number(f[6]) > 0 && Number(f[7]) > 0, "cycles per packet missing");
        Assert.Equal(0, Number(f[8])); // bytes allocated per packet on the forwarding lcore
        Assert.Equal("0", f[9]);       // GC collections during the run
    }

    [SkippableFact]
    [Trait("Requires", "root,hugepages,dpdk")]
    public void Latency_script_measures_percentiles_on_both_sides()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages);
        RequireDpdkDevelopment();
        string env = "ROUNDS=1 SECONDS_PER_RUN=1 WARMUP=1 RATES=100000" +
            (File.Exists(Path.Combine(Repo, "benchmarks/PacketPlane.Benchmarks/bin/Release/net10.0/PacketPlane.Benchmarks.dll")) ? " NO_BUILD=1" : "");
        string output = Shell.Run($"cd '{Repo}' && {env} bash benchmarks/compare/latency.sh", TimeSpan.FromMinutes(5));
        string[][] lines = ResultLines(output);
        Assert.Equal(["p50", "p99", "p99.9", "max"], lines.Select(l => l[1].Split(' ')[2].TrimEnd(',')).ToArray());
        foreach (string[] f in lines)
        {
            Assert.True(Number(f[3]) > 0, $"DPDK's twin recorded no latency:\n{output}");
            Assert.True(Number(f[4]) > 0, $"PacketPlane recorded no latency:\n{output}");
        }
        // Percentiles are ordered on each side.
        for (int side = 3; side <= 4; side++)
            Assert.True(lines.Select(l => Number(l[side])).Zip(lines.Skip(1).Select(l => Number(l[side]))).All(p => p.First <= p.Second), output);
    }

    private static void RequireDpdkDevelopment()
    {
        Shell.Result r = Shell.TryRun("pkg-config --exists libdpdk && test -d /usr/share/dpdk/examples/l2fwd && command -v gcc make");
        string reason = "needs libdpdk-dev, dpdk-doc (the examples' sources), gcc and make: apt-get install libdpdk-dev dpdk-doc gcc make";
        if (Prerequisites.IsCI)
            Assert.True(r.ExitCode == 0, reason);
        Skip.If(r.ExitCode != 0, reason);
    }

    private static string[][] ResultLines(string output) =>
        output.Split('\n').Where(l => l.StartsWith("RESULT|", StringComparison.Ordinal)).Select(l => l.Split('|')).ToArray();

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
