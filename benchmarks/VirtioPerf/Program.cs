using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using PacketPlane;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Benchmarks.VirtioPerf;

/// <summary>
/// dotnet VirtioPerf.dll EAL-ARGS -- --forward-mode=txonly|rxonly|io --duration=S [--stats-period=1] [--txpkts=64] [--burst=32]
/// Runs one port from the EAL's --vdev on the main lcore, like dpdk-testpmd with one port looped to itself, and
/// prints packets per second each period and on exit, with bytes allocated per packet.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        using Eal eal = Eal.Init(args, out string[] app);
        string mode = Option(app, "--forward-mode", "io");
        double duration = double.Parse(Option(app, "--duration", "10"), CultureInfo.InvariantCulture);
        double period = double.Parse(Option(app, "--stats-period", "1"), CultureInfo.InvariantCulture);
        int size = int.Parse(Option(app, "--txpkts", "64"), CultureInfo.InvariantCulture);
        int burstSize = int.Parse(Option(app, "--burst", "32"), CultureInfo.InvariantCulture);
        if (eal.Ports.Count != 1)
        {
            Console.Error.WriteLine("give exactly one port with --vdev");
            return 2;
        }
        EthDev port = eal.Ports[0];
        using MbufPool pool = MbufPool.Create("perf", 8192, 256);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 1024, pool);
        port.SetupTxQueue(0, 1024);
        port.Start();
        Console.WriteLine($"port 0: {port.Name}, waiting for link...");
        if (!port.WaitForLink(TimeSpan.FromSeconds(60)).IsUp)
        {
            Console.Error.WriteLine("link did not come up");
            return 1;
        }
        Console.WriteLine($"link up; forward mode {mode}, {size}-byte frames, burst {burstSize}, {duration} s");
        var burst = new Packet[burstSize];
        byte[] template = Frame(size);
        long rx = 0, tx = 0, lastRx = 0, lastTx = 0;
        var sw = Stopwatch.StartNew();
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        long durationTicks = (long)(duration * Stopwatch.Frequency);
        long nextReportTicks = (long)(period * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        long now = start;
        for (long iteration = 0; now - start < durationTicks; iteration++)
        {
            // Reading the clock costs more than an empty burst: look at it every 64 iterations only.
            if ((iteration & 63) == 0)
                now = Stopwatch.GetTimestamp();
            switch (mode)
            {
                case "txonly":
                    tx += TxOnly(port, pool, burst, template);
                    break;
                case "rxonly":
                    int r = port.RxBurst(0, burst);
                    Packet.FreeBulk(burst.AsSpan(0, r));
                    rx += r;
                    break;
                default:
                    int n = port.RxBurst(0, burst);
                    int s = port.TxBurst(0, burst.AsSpan(0, n));
                    Packet.FreeBulk(burst.AsSpan(s, n - s));
                    rx += n;
                    tx += s;
                    break;
            }
            if (now - start >= nextReportTicks)
            {
                Console.WriteLine($"  Rx-pps: {(rx - lastRx) / period,12:F0}   Tx-pps: {(tx - lastTx) / period,12:F0}");
                lastRx = rx;
                lastTx = tx;
                nextReportTicks += (long)(period * Stopwatch.Frequency);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocBefore;
        double secs = sw.Elapsed.TotalSeconds;
        long packets = Math.Max(rx, tx);
        Console.WriteLine($"total: RX-packets {rx} TX-packets {tx} in {secs:F2} s: {packets / secs / 1e6:F3} Mpps, " +
            $"{CpuMhz() * 1e6 / (packets / secs):F0} cycles/packet, {(packets == 0 ? 0 : (double)allocated / packets):F4} bytes allocated/packet");
        port.Stop();
        port.Close();
        return 0;
    }

    private static int TxOnly(EthDev port, MbufPool pool, Packet[] burst, byte[] template)
    {
        if (pool.AllocBulk(burst) != burst.Length)
            return 0;
        foreach (Packet p in burst)
        {
            p.TrySetLength(template.Length);
            template.CopyTo(p.Data);
        }
        int sent = port.TxBurst(0, burst);
        Packet.FreeBulk(burst.AsSpan(sent));
        return sent;
    }

    // Ethernet + IPv4 + UDP, as testpmd's txonly sends: 02:00:00:00:00:02 <- 02:00:00:00:00:01, 198.18.0.1 -> 198.18.0.2.
    private static byte[] Frame(int size)
    {
        var f = new byte[size];
        byte[] head =
        [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
            0x45, 0, (byte)((size - 14) >> 8), (byte)(size - 14), 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
            0x04, 0x00, 0x04, 0x00, (byte)((size - 34) >> 8), (byte)(size - 34), 0, 0,
        ];
        head.AsSpan(0, Math.Min(head.Length, size)).CopyTo(f);
        return f;
    }

    private static string Option(string[] app, string name, string fallback)
    {
        string? v = app.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal));
        return v is null ? fallback : v[(name.Length + 1)..];
    }

    private static double CpuMhz()
    {
        foreach (string line in System.IO.File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        return 2600;
    }
}
