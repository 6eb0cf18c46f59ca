using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.IntegrationTests.Shutdown;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.IntegrationTests.Telemetry;

/// <summary>
/// DPDK's own telemetry client, dpdk-telemetry.py (Debian package dpdk, the same package as dpdk-testpmd), queries a
/// running PacketPlane process (TestHost forward-null with --telemetry) and gets DPDK-shaped answers.
/// </summary>
[Collection(ShutdownProcessCollection.Name)]
public class DpdkTelemetryClientTests
{
    private const string Client = "/usr/bin/python3 /usr/bin/dpdk-telemetry.py";

    private static JsonObject[] Query(string clientArgs, params string[] commands)
    {
        string input = string.Join("\n", commands);
        string output = Shell.Run($"printf '%s\\n' '{input.Replace("'", "'\\''")}' | {Client} {clientArgs}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToArray();
    }

    [SkippableFact]
    [Trait("Requires", "DpdkTestpmd")]
    public void Dpdk_telemetry_py_reads_ports_stats_link_and_pools_of_a_running_app()
    {
        Prerequisites.Require(Requirement.DpdkTestpmd);
        Skip.IfNot(File.Exists("/usr/bin/dpdk-telemetry.py") || Prerequisites.IsCI, "needs dpdk-telemetry.py (apt-get install dpdk)");
        string prefix = $"ppit{Guid.NewGuid():N}"[..12];
        var (process, ready) = HostProcess.StartAndWaitReady("forward-null",
            $"-l 0-1 --no-huge --vdev net_null0,size=64 --vdev net_null1 --telemetry --file-prefix {prefix}");
        string socket = ready["ready ".Length..];
        try
        {
            Assert.Equal(Path.Combine(TelemetryServer.RuntimeDirectory(prefix), "dpdk_telemetry.v2"), socket);
            System.Threading.Thread.Sleep(300);
            JsonObject[] replies = Query($"-f {prefix}",
                "/", "/info", "/ethdev/list", "/ethdev/stats,0", "/ethdev/xstats,1", "/ethdev/link_status,0",
                "/mempool/list", "/mempool/info,fwd_pool", "/help,/ethdev/xstats", "/ethdev/stats,7", "/no/such/command", "/eal/lcore/info,1");
            Assert.Equal(12, replies.Length);

            string[] commands = replies[0]["/"]!.AsArray().Select(n => (string)n!).ToArray();
            Assert.Contains("/ethdev/stats", commands);
            Assert.Contains("/mempool/info", commands);
            Assert.Equal(process.Id, (int)replies[1]["/info"]!["pid"]!);
            Assert.Equal(16384, (int)replies[1]["/info"]!["max_output_len"]!);
            Assert.Equal(new[] { 0, 1 }, replies[2]["/ethdev/list"]!.AsArray().Select(n => (int)n!));
            JsonObject stats = replies[3]["/ethdev/stats"]!.AsObject();
            Assert.True((ulong)stats["ipackets"]! > 0, "port 0 receives (null RX) while forwarding");
            Assert.Equal((ulong)stats["ipackets"]! * 64, (ulong)stats["ibytes"]!);
            Assert.Equal(16, stats["q_ipackets"]!.AsArray().Count);
            JsonObject xstats = replies[4]["/ethdev/xstats"]!.AsObject();
            Assert.True((ulong)xstats["tx_good_packets"]! > 0, "port 1 sends what port 0 received");
            Assert.Equal("UP", (string)replies[5]["/ethdev/link_status"]!["status"]!);
            Assert.Equal(new[] { "fwd_pool" }, replies[6]["/mempool/list"]!.AsArray().Select(n => (string)n!));
            Assert.Equal(4096, (int)replies[7]["/mempool/info"]!["size"]!);
            Assert.Contains("port id", (string)replies[8]["/help"]!["/ethdev/xstats"]!);
            Assert.True(replies[9].ContainsKey("/ethdev/stats") && replies[9]["/ethdev/stats"] is null);
            Assert.True(replies[10].ContainsKey("/no/such/command") && replies[10]["/no/such/command"] is null);
            JsonObject lcore = replies[11]["/eal/lcore/info,1".Split(',')[0]]!.AsObject();
            Assert.True((ulong)lcore["busy_polls"]! > 0);

            // -l lists the prefix; a second server under the same prefix is instance 1 (-i 1), as with DPDK.
            Assert.Contains(prefix, Shell.Run($"{Client} -l"));
            using (TelemetryServer second = TelemetryServer.Start(prefix))
            {
                Assert.Equal(1, second.Instance);
                JsonObject info = Query($"-f {prefix} -i 1", "/info").Single();
                Assert.Equal(Environment.ProcessId, (int)info["/info"]!["pid"]!);
            }

            Shell.Run($"kill -TERM {process.Id}");
            Assert.True(process.WaitForExit(15_000));
            Assert.Equal(0, process.ExitCode);
            Assert.False(File.Exists(socket), "the socket is removed at teardown");
            Assert.False(Directory.Exists(Path.GetDirectoryName(socket)), "the runtime directory the app created is removed");
        }
        finally
        {
            if (!process.HasExited)
                HostProcess.Kill9(process);
            string dir = TelemetryServer.RuntimeDirectory(prefix);
            if (Directory.Exists(dir))
                Directory.Delete(dir, true);
        }
    }
}
