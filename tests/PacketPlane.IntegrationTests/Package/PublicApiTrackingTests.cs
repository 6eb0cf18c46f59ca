using System;
using System.IO;
using System.Linq;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Package;

/// <summary>
/// The library's public API is listed in src/PacketPlane/PublicAPI.*.txt; an accidental addition or removal fails
/// the build. Checked on a copy of the library so the real tree is never touched.
/// </summary>
public class PublicApiTrackingTests
{
    [Fact]
    public void The_tracked_list_matches_the_library_exactly()
    {
        string repo = PackTests.FindRepoRoot();
        string shipped = File.ReadAllText(Path.Combine(repo, "src/PacketPlane/PublicAPI.Shipped.txt"));
        Assert.Contains("PacketPlane.Memory.MbufPool", shipped);
        Assert.Contains("PacketPlane.Ethdev.EthDev.RxBurst(", shipped);
        // The clean build of the real tree (which this test run depends on) already proves the lists are exact;
        // here the unshipped list must be empty between releases so Shipped is the whole contract.
        string[] unshipped = File.ReadAllLines(Path.Combine(repo, "src/PacketPlane/PublicAPI.Unshipped.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.True(unshipped.Length == 0, "unshipped API entries: " + string.Join(", ", unshipped));
    }

    [Fact]
    public void Adding_or_removing_public_api_without_listing_it_fails_the_build()
    {
        string repo = PackTests.FindRepoRoot();
        string copy = Directory.CreateTempSubdirectory("pp-api").FullName;
        try
        {
            CopyLibrary(repo, copy);
            string lib = Path.Combine(copy, "src/PacketPlane");
            // An accidental addition: a new public type nobody listed.
            File.WriteAllText(Path.Combine(lib, "AccidentalApi.cs"),
                "namespace PacketPlane;\n/// <summary>Not listed.</summary>\npublic static class AccidentalApi\n{\n    /// <summary>Not listed.</summary>\n    public static void Leak() { }\n}\n");
            // An accidental removal: a listed member that the code no longer has.
            File.AppendAllText(Path.Combine(lib, "PublicAPI.Shipped.txt"), "static PacketPlane.Memory.MbufPool.RemovedByAccident() -> void\n");

            Shell.Result r = Shell.TryRun($"dotnet build {lib}/PacketPlane.csproj -c Release -nologo", TimeSpan.FromMinutes(5));
            string output = r.Stdout + r.Stderr;
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("RS0016", output); // symbol not part of the declared API
            Assert.Contains("AccidentalApi", output);
            Assert.Contains("RS0017", output); // declared symbol cannot be found
            Assert.Contains("RemovedByAccident", output);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>The library project and what it reads from the repository root (props, README, icon), no build output.</summary>
    private static void CopyLibrary(string repo, string to)
    {
        foreach (string file in new[] { "Directory.Build.props", "README.md" })
            File.Copy(Path.Combine(repo, file), Path.Combine(to, file));
        string src = Path.Combine(repo, "src/PacketPlane");
        foreach (string file in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(src, file);
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
                continue;
            string target = Path.Combine(to, "src/PacketPlane", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
