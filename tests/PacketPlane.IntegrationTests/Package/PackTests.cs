using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Package;

/// <summary>dotnet pack produces the NuGet package users install, with its README and XML documentation.</summary>
public class PackTests
{
    [Fact]
    public void Pack_produces_a_package_with_readme_and_xml_docs()
    {
        string repo = FindRepoRoot();
        string output = Directory.CreateTempSubdirectory("pp-pack").FullName;
        try
        {
            Shell.Run($"dotnet pack {repo}/src/PacketPlane/PacketPlane.csproj -c Release -o {output} -nologo -v q", TimeSpan.FromMinutes(5));
            string package = Directory.GetFiles(output, "PacketPlane.*.nupkg").Single(f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
            Assert.Matches(@"PacketPlane\.\d+\.\d+\.\d+.*\.nupkg$", Path.GetFileName(package));
            using ZipArchive zip = ZipFile.OpenRead(package);
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("README.md", entries);
            Assert.Contains("icon.png", entries);
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), "symbols package missing");
            Assert.Contains("lib/net10.0/PacketPlane.dll", entries);
            Assert.Contains("lib/net10.0/PacketPlane.xml", entries);
            using StreamReader docs = new(zip.GetEntry("lib/net10.0/PacketPlane.xml")!.Open());
            Assert.Contains("T:PacketPlane.Memory.MbufPool", docs.ReadToEnd());
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    internal static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "PacketPlane.sln")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("PacketPlane.sln not found above " + AppContext.BaseDirectory);
    }
}
