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

RunTarget(target);
