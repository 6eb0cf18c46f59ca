using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using PacketPlane.IntegrationTests.Eal;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Tool;

/// <summary>The packetplane tool on this machine, for real: status sees an XDP program we attach, hugepages --reserve changes the kernel's count.</summary>
[Collection(HugepageCollection.Name)]
public class ToolTests
{
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "PacketPlane.Tool.dll");

    private static Shell.Result RunTool(string args) => Shell.TryRun($"dotnet {Tool} {args}");

    [SkippableFact]
    [Trait("Requires", "NetworkNamespaces")]
    public void Status_reports_veth_interfaces_and_the_xdp_program_attached_to_one()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Clang);
        string dir = Directory.CreateTempSubdirectory("pp_xdp").FullName;
        try
        {
            // An XDP program that passes everything; no kernel headers needed (XDP_PASS is 2 in linux/bpf.h).
            File.WriteAllText(Path.Combine(dir, "pass.c"),
                "struct xdp_md;\n__attribute__((section(\"xdp\"), used)) int pp_pass(struct xdp_md *ctx) { return 2; }\n" +
                "char _license[] __attribute__((section(\"license\"), used)) = \"GPL\";\n");
            Shell.Run($"clang -O2 -target bpf -c {dir}/pass.c -o {dir}/pass.o");
            using VethPair veth = VethPair.Create();
            Shell.Run($"ip link set dev {veth.HostInterface} xdp obj {dir}/pass.o sec xdp");
            try
            {
                Shell.Result r = RunTool("status --json");
                Assert.True(r.ExitCode == 0, r.Stderr);
                using JsonDocument doc = JsonDocument.Parse(r.Stdout);
                JsonElement host = doc.RootElement.GetProperty("netDevices").EnumerateArray()
                    .Single(d => d.GetProperty("name").GetString() == veth.HostInterface);
                Assert.Equal("veth", host.GetProperty("driver").GetString());
                JsonElement xdp = host.GetProperty("xdp").EnumerateArray().Single();
                Assert.Equal("native", xdp.GetProperty("mode").GetString());
                Assert.Equal("pp_pass", xdp.GetProperty("programName").GetString());
                Assert.Contains("af_xdp (native XDP, copy mode)", host.GetProperty("usable").EnumerateArray().Select(u => u.GetString()));
                Assert.Contains(doc.RootElement.GetProperty("problems").EnumerateArray(),
                    p => p.GetProperty("fix").GetString()!.StartsWith($"ip link set dev {veth.HostInterface} xdp off", StringComparison.Ordinal));
                // The machine's uplink is recognised as such, so bind would refuse it.
                Assert.Contains(doc.RootElement.GetProperty("netDevices").EnumerateArray(), d => d.GetProperty("carriesDefaultRoute").GetBoolean());

                Shell.Result text = RunTool("status");
                Assert.Contains("Hugepages", text.Stdout);
                Assert.Contains($"native:{xdp.GetProperty("programId").GetInt32()}", text.Stdout);
            }
            finally
            {
                Shell.TryRun($"ip link set dev {veth.HostInterface} xdp off");
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Hugepages")]
    public void Hugepages_reserve_changes_the_kernel_count_and_restores_it()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages);
        const string nr = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
        long before = long.Parse(File.ReadAllText(nr).Trim(), CultureInfo.InvariantCulture);
        try
        {
            Shell.Result r = RunTool($"hugepages --reserve {(before + 2) * 2}M");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.Equal(before + 2, long.Parse(File.ReadAllText(nr).Trim(), CultureInfo.InvariantCulture));
            Assert.Contains($"{before} -> {before + 2} reserved", r.Stdout);
            Shell.Result show = RunTool("hugepages");
            Assert.Contains($"{before + 2} reserved", show.Stdout);
        }
        finally
        {
            Shell.Result restore = RunTool($"hugepages --reserve {before * 2}M");
            Assert.True(restore.ExitCode == 0, restore.Stdout + restore.Stderr);
        }
        Assert.Equal(before, long.Parse(File.ReadAllText(nr).Trim(), CultureInfo.InvariantCulture));
    }
}
