// PacketPlane build script (Cake 7, local tool: `dotnet tool restore`, then `dotnet cake --target=Test`).
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");
var solution = "./PacketPlane.sln";
var artifacts = Directory("./artifacts");

Task("Clean")
    .Does(() =>
{
    CleanDirectory(artifacts);
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration });
});

Task("Build")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

// The same command the README gives and .ci/run executes.
Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetTest(solution, new DotNetTestSettings { Configuration = configuration, NoBuild = true });
});

Task("Pack")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetPack("./src/PacketPlane/PacketPlane.csproj", new DotNetPackSettings
    {
        Configuration = configuration,
        NoBuild = true,
        OutputDirectory = artifacts,
    });
});

// Microbenchmarks (BenchmarkDotNet). Numbers, not tests: see benchmarks/README.md.
Task("Bench")
    .Does(() =>
{
    DotNetRun("./benchmarks/PacketPlane.Benchmarks/PacketPlane.Benchmarks.csproj",
        new ProcessArgumentBuilder().Append("--filter").AppendQuoted(benchFilter),
        new DotNetRunSettings { Configuration = configuration });
});

// Side by side with DPDK on this machine (root): benchmarks/compare/all.sh installs Debian's DPDK packages if
// missing, builds DPDK's examples in a scratch folder, runs every workload alternately for DPDK and PacketPlane
// and writes artifacts/compare/<time>/summary.md (table.md: the table alone, for benchmarks/README.md).
// `--quick=true` for the ~19-minute run, `--only="l2fwd testpmd"` or `--skip="mempool"` for a subset.
// About 50 minutes in full.
var quick = Argument("quick", false);
var only = Argument("only", "");
var skip = Argument("skip", "");
Task("Compare")
    .Does(() =>
{
    var env = new Dictionary<string, string> { ["QUICK"] = quick ? "1" : "0", ["ONLY"] = only, ["SKIP"] = skip };
    int exit = StartProcess("bash", new ProcessSettings
    {
        Arguments = "benchmarks/compare/all.sh",
        EnvironmentVariables = env,
    });
    if (exit != 0)
        throw new Exception($"benchmarks/compare/all.sh exited with {exit}");
});

// NativeAOT builds of the samples into artifacts/aot/NAME/NAME (the compare scripts run them with PP_AOT=1).
Task("Aot")
    .Does(() =>
{
    foreach (var project in GetFiles("./samples/*/*.csproj"))
    {
        var name = project.GetFilenameWithoutExtension().ToString();
        DotNetPublish(project.FullPath, new DotNetPublishSettings
        {
            Configuration = "Release",
            Runtime = "linux-x64",
            OutputDirectory = artifacts + Directory("aot") + Directory(name),
            MSBuildSettings = new DotNetMSBuildSettings().WithProperty("PublishAot", "true"),
        });
    }
});

// L2Fwd per-packet latency against DPDK (benchmarks/compare/latency.sh), with the GC-settings table.
Task("Latency")
    .Does(() =>
{
    int exit = StartProcess("bash", new ProcessSettings
    {
        Arguments = "benchmarks/compare/latency.sh",
        EnvironmentVariables = new Dictionary<string, string> { ["GC_TABLE"] = "1" },
    });
    if (exit != 0)
        throw new Exception($"benchmarks/compare/latency.sh exited with {exit}");
});

RunTarget(target);
