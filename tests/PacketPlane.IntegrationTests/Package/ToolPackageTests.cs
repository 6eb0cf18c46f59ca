using System;
using System.IO;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Package;

/// <summary>The packetplane command ships as a .NET tool: packed, installed from a folder feed, and run by name.</summary>
public class ToolPackageTests
{
    [Fact]
    public void Tool_package_installs_and_runs_as_packetplane()
    {
        string repo = PackTests.FindRepoRoot();
        string work = Directory.CreateTempSubdirectory("pp-tool").FullName;
        try
        {
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
            string version = $"0.0.0-tool.{DateTime.UtcNow:yyyyMMddHHmmss}";
            Shell.Run($"dotnet pack {repo}/src/PacketPlane.Tool/PacketPlane.Tool.csproj -c Release -o {feed} -p:Version={version} -nologo -v q", TimeSpan.FromMinutes(5));
            Assert.True(File.Exists(Path.Combine(feed, $"PacketPlane.Tool.{version}.nupkg")), "tool package missing");
            Shell.Run($"dotnet tool install PacketPlane.Tool --version {version} --add-source {feed} --tool-path {tools}", TimeSpan.FromMinutes(5));
            Shell.Result help = Shell.TryRun($"{tools}/packetplane --help");
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("packetplane status", help.Stdout);
            Assert.Contains("packetplane bind ADDRESS vfio-pci|kernel", help.Stdout);
            Shell.Result wrong = Shell.TryRun($"{tools}/packetplane frobnicate");
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.Contains("unknown command 'frobnicate'", wrong.Stderr);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
