using System;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

/// <summary>What a process holds: open file descriptors, mappings (all, and PacketPlane's memfd regions), resident memory.</summary>
public sealed record ResourceSnapshot(int OpenFds, int Mappings, int PacketPlaneMappings, long RssKiB)
{
    public static ResourceSnapshot Take()
    {
        int fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        string[] maps = File.ReadAllLines("/proc/self/maps");
        string rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return new ResourceSnapshot(fds, maps.Length, maps.Count(l => l.Contains("memfd:packetplane:", StringComparison.Ordinal)),
            long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Asserts that nothing leaked since <paramref name="start"/>: no more descriptors, the same PacketPlane mappings
    /// exactly; the runtime's own mappings and RSS within a small slack (the GC and JIT map memory of their own).
    /// </summary>
    public void AssertNoGrowthSince(ResourceSnapshot start, string what, long rssSlackKiB = 32 * 1024, int mappingSlack = 64, int fdSlack = 0)
    {
        // Fewer is fine: pipes of finished child processes (test set-up) may close meanwhile; more is a leak.
        Assert.True(OpenFds <= start.OpenFds + fdSlack, $"{what}: open file descriptors {start.OpenFds} -> {OpenFds}");
        Assert.True(PacketPlaneMappings == start.PacketPlaneMappings, $"{what}: PacketPlane memory mappings {start.PacketPlaneMappings} -> {PacketPlaneMappings}");
        Assert.True(Mappings <= start.Mappings + mappingSlack, $"{what}: mappings {start.Mappings} -> {Mappings}");
        Assert.True(RssKiB <= start.RssKiB + rssSlackKiB, $"{what}: RSS {start.RssKiB} KiB -> {RssKiB} KiB");
    }
}

/// <summary>
/// Driver-independent leak checks, written once and pointed at every driver by a device string: the lead adds a
/// line per driver (for drivers that need root, call these from an integration test).
/// </summary>
public static class SoakHarness
{
    /// <summary>
    /// Opens <paramref name="deviceString"/>, then runs <paramref name="cycles"/> start / traffic / stop cycles, then
    /// closes it; asserts descriptors, mappings and the pool's in-use count end where they began.
    /// </summary>
    public static void StopStartCycles(string deviceString, int cycles, int queues = 1, Action<EthDev>? afterStart = null)
    {
        using MbufPool pool = MbufPool.Create($"soak_{Math.Abs(deviceString.GetHashCode()) % 100000}", 4096, 0);
        var burst = new Packet[32];
        // Warm up once (JIT, lazily created runtime objects) before the baseline is taken.
        RunOpenCycleClose(deviceString, pool, burst, 5, queues, afterStart);
        ResourceSnapshot start = ResourceSnapshot.Take();
        int inUseBefore = pool.InUse;
        RunOpenCycleClose(deviceString, pool, burst, cycles, queues, afterStart);
        Assert.Equal(inUseBefore, pool.InUse);
        ResourceSnapshot.Take().AssertNoGrowthSince(start, $"{cycles} stop/start cycles of {deviceString}");
    }

    /// <summary>Creates and closes the port <paramref name="times"/> times (a full create/configure/start/stop/close each time).</summary>
    public static void CreateCloseCycles(string deviceString, int times, int queues = 1)
    {
        using MbufPool pool = MbufPool.Create($"soakcc_{Math.Abs(deviceString.GetHashCode()) % 100000}", 4096, 0);
        var burst = new Packet[32];
        RunOpenCycleClose(deviceString, pool, burst, 1, queues, null);
        ResourceSnapshot start = ResourceSnapshot.Take();
        for (int i = 0; i < times; i++)
            RunOpenCycleClose(deviceString, pool, burst, 1, queues, null);
        Assert.Equal(0, pool.InUse);
        ResourceSnapshot.Take().AssertNoGrowthSince(start, $"{times} create/close cycles of {deviceString}");
    }

    private static void RunOpenCycleClose(string deviceString, MbufPool pool, Packet[] burst, int cycles, int queues, Action<EthDev>? afterStart)
    {
        using EthDev port = EthDev.Create(deviceString);
        port.Configure(queues, queues);
        for (int q = 0; q < queues; q++)
        {
            port.SetupRxQueue(q, 256, pool);
            port.SetupTxQueue(q, 256);
        }
        for (int c = 0; c < cycles; c++)
        {
            port.Start();
            afterStart?.Invoke(port);
            for (int q = 0; q < queues; q++)
                Exchange(port, q, burst);
            port.Stop();
            Assert.Equal(0, port.RxBurst(0, burst)); // a stopped port's bursts do nothing
        }
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    private static void Exchange(EthDev port, int queue, Packet[] burst)
    {
        for (int i = 0; i < 4; i++)
        {
            int n = port.RxBurst(queue, burst);
            int sent = port.TxBurst(queue, burst.AsSpan(0, n));
            Packet.FreeBulk(burst.AsSpan(sent, n - sent));
        }
    }
}
