using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Shutdown;

/// <summary>
/// A forwarding process (TestHost forward-null, null -> null on a worker lcore) stops in order and in bounded
/// time on SIGTERM and SIGINT, and exits 0.
/// </summary>
[Collection(ShutdownProcessCollection.Name)]
public class SignalShutdownTests
{
    [Theory]
    [InlineData("TERM", "SIGTERM")]
    [InlineData("INT", "SIGINT")]
    public void Signal_stops_loops_then_drains_then_ports_then_pools_then_eal_and_exits_0(string signal, string reasonName)
    {
        var (process, _) = HostProcess.StartAndWaitReady("forward-null",
            "-l 0-1 --no-huge --vdev net_null0,size=64 --vdev net_null1");
        try
        {
            System.Threading.Thread.Sleep(500); // let it forward a while
            var clock = Stopwatch.StartNew();
            Shell.Run($"kill -{signal} {process.Id}");
            Assert.True(process.WaitForExit(15_000), "the process did not exit within 15 s of the signal");
            clock.Stop();
            string stdout = process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed}");

            string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"shutdown requested: {reasonName}", lines[0]);
            string[] stages = lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToArray();
            Assert.Equal(new[] { "StopPolling", "DrainTx", "StopPorts", "StopPorts", "ClosePorts", "ClosePorts", "FreePools", "CloseEal" }, stages);
            Assert.All(lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)), l => Assert.Contains(" ok ", l));
            string forwarded = lines.Single(l => l.StartsWith("forwarded ", StringComparison.Ordinal));
            Assert.True(ulong.Parse(forwarded.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) > 0, forwarded);
            Assert.EndsWith("pool in use at free 0", forwarded); // every mbuf back before the pool was freed
            Assert.StartsWith("teardown completed", lines[^1]);
        }
        finally
        {
            if (!process.HasExited)
                HostProcess.Kill9(process);
        }
    }
}

/// <summary>Processes that pin a busy lcore: one at a time on a 2-CPU machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ShutdownProcessCollection
{
    public const string Name = "shutdown processes";
}
