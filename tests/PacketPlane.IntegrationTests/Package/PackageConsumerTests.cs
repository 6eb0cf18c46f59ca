using System;
using System.IO;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Package;

/// <summary>
/// What a new user does after `dotnet add package PacketPlane`: the packed library, from a local folder feed, in a fresh
/// console project running the README's minimal program (a ring, a pool, net_pcap / net_null ports). Needs no privilege.
/// </summary>
public class PackageConsumerTests
{
    /// <summary>The README's minimal program, exactly as printed there (between the minimal-program markers).</summary>
    internal static string ReadmeProgram(string repo)
    {
        string readme = File.ReadAllText(Path.Combine(repo, "README.md"));
        const string Start = "<!-- minimal-program:start -->", End = "<!-- minimal-program:end -->";
        int from = readme.IndexOf(Start, StringComparison.Ordinal), to = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "README.md lost its minimal-program markers");
        string block = readme[(from + Start.Length)..to].Trim();
        Assert.StartsWith("```csharp", block);
        Assert.EndsWith("```", block);
        return block["```csharp".Length..^3];
    }

    /// <summary>One 60-byte frame in a microsecond pcap, written byte by byte (pcap-savefile(5)).</summary>
    private static void WriteOneFramePcap(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(0xa1b2c3d4u); w.Write((ushort)2); w.Write((ushort)4); w.Write(0); w.Write(0u); w.Write(65535u); w.Write(1u);
        w.Write(1u); w.Write(0u); w.Write(60u); w.Write(60u); w.Write(new byte[60]);
    }

    [Fact]
    public void Packed_library_installs_from_a_folder_feed_and_runs_a_small_program()
    {
        string repo = PackTests.FindRepoRoot();
        string work = Directory.CreateTempSubdirectory("pp-consumer").FullName;
        try
        {
            string feed = Path.Combine(work, "feed");
            string version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}";
            Shell.Run($"dotnet pack {repo}/src/PacketPlane/PacketPlane.csproj -c Release -o {feed} -p:Version={version} -nologo -v q", TimeSpan.FromMinutes(5));
            string app = Path.Combine(work, "app");
            Shell.Run($"dotnet new console -o {app} -n ConsumerApp --force", TimeSpan.FromMinutes(2));
            File.WriteAllText(Path.Combine(app, "Program.cs"), ReadmeProgram(repo));
            string pcap = Path.Combine(work, "one.pcap");
            WriteOneFramePcap(pcap);
            // The folder feed first; the registry for the package's own dependencies. A private package cache keeps
            // this version out of the machine's.
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <configuration><packageSources><clear />
                  <add key="local" value="{feed}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                </packageSources></configuration>
                """);
            string packages = Path.Combine(work, "packages");
            Shell.Run($"cd {app} && dotnet add package PacketPlane --version {version} --package-directory {packages}", TimeSpan.FromMinutes(5));
            // The command line the README gives, with the test's capture.
            string output = Shell.Run($"cd {app} && NUGET_PACKAGES={packages} dotnet run -c Release -- -l 0 --no-huge --vdev net_pcap0,rx_pcap={pcap},infinite_rx=1 --vdev net_null0", TimeSpan.FromMinutes(5));
            Assert.Matches(@"moved 100\d{4}, pool in use 0, port 1 sent 100\d{4}", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
