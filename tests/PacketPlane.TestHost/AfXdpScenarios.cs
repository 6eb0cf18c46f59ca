using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.TestHost;

/// <summary>
/// afxdp-port DEVICE_STRING [hold|echo SECONDS]: opens an AF_XDP port (1 RX + 1 TX queue), prints
/// "ready MODE" and then either waits to be killed (hold, the default) or echoes every received frame back for
/// SECONDS and prints "echoed N". A failure to open prints "error TYPE: MESSAGE" and exits 3, so tests can check
/// the message (e.g. run under capsh with capabilities dropped).
/// </summary>
public sealed class AfXdpPort : IScenario
{
    public string Name => "afxdp-port";

    public int Run(string[] args)
    {
        string action = args.Length > 1 ? args[1] : "hold";
        MbufPool pool;
        EthDev port;
        try
        {
            pool = MbufPool.Create("afxdp_host", 4096, cacheSize: 0);
            port = EthDev.Create(args[0]);
            port.Configure(1, 1);
            port.SetupRxQueue(0, 1024, pool);
            port.SetupTxQueue(0, 1024);
            port.Start();
        }
        catch (PacketPlaneException e)
        {
            Console.WriteLine($"error {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return 3;
        }
        Console.WriteLine($"ready {port.Info.Mode}");
        Console.Out.Flush();
        if (action == "hold")
        {
            Thread.Sleep(Timeout.Infinite);
            return 0;
        }
        double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
        long echoed = Echo(port, TimeSpan.FromSeconds(seconds));
        port.Close();
        Console.WriteLine($"echoed {echoed} in_use_after_close {pool.InUse}");
        return 0;
    }

    private static long Echo(EthDev port, TimeSpan duration)
    {
        var burst = new Packet[32];
        long echoed = 0;
        DateTime end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            int n = port.RxBurst(0, burst);
            if (n == 0)
                continue;
            int sent = port.TxBurst(0, burst.AsSpan(0, n));
            Packet.FreeBulk(burst.AsSpan(sent, n - sent));
            echoed += sent;
        }
        return echoed;
    }
}

/// <summary>
/// afxdp-fwd EAL_ARGS -- [--duration=S] [--stats-period=N] [--burst=N]: io forwarding between the first two ports
/// (port 0 to 1 and 1 to 0) on the first worker lcore, printing testpmd-style per-port "Rx-pps:"/"Tx-pps:" lines
/// every period. A stand-in for samples/TestPmd --forward-mode=io in benchmarks/compare/af_xdp_fwd.sh until that
/// sample is available; it uses only the public API.
/// </summary>
public sealed class AfXdpForward : IScenario
{
    public string Name => "afxdp-fwd";

    private static volatile bool s_stop;

    public int Run(string[] args)
    {
        using Eal eal = Eal.Init(args, out string[] app);
        double duration = Option(app, "--duration=", 10);
        double period = Option(app, "--stats-period=", 1);
        int burstSize = (int)Option(app, "--burst=", 32);
        if (eal.Ports.Count < 2)
        {
            Console.Error.WriteLine("afxdp-fwd needs two ports (--vdev net_af_xdp0,iface=A --vdev net_af_xdp1,iface=B)");
            return 2;
        }
        using MbufPool pool = MbufPool.Create("fwd_pool", 8192, cacheSize: 256);
        EthDev[] ports = [eal.Ports[0], eal.Ports[1]];
        foreach (EthDev p in ports)
        {
            p.Configure(1, 1);
            p.SetupRxQueue(0, 1024, pool);
            p.SetupTxQueue(0, 1024);
            p.Start();
            Console.WriteLine($"Port {p.PortId}: {p.Info.Mode}");
        }
        int worker = eal.WorkerLcores.Count > 0 ? eal.WorkerLcores[0].Id : throw new PacketPlaneException("afxdp-fwd needs a worker lcore: -l with two CPUs");
        Console.WriteLine($"io forwarding on lcore {worker}, burst {burstSize}, {duration} s");
        eal.RemoteLaunch(worker, () => Forward(ports, burstSize));
        var last = ports.Select(p => p.GetStats()).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < duration)
        {
            Thread.Sleep(TimeSpan.FromSeconds(period));
            for (int i = 0; i < ports.Length; i++)
            {
                PortStats now = ports[i].GetStats();
                Console.WriteLine($"  ######################## NIC statistics for port {ports[i].PortId}  ########################");
                Console.WriteLine($"  RX-packets: {now.InPackets}  RX-missed: {now.InMissed}  TX-packets: {now.OutPackets}  TX-errors: {now.OutErrors}");
                Console.WriteLine($"  Rx-pps: {(ulong)((now.InPackets - last[i].InPackets) / period),12}");
                Console.WriteLine($"  Tx-pps: {(ulong)((now.OutPackets - last[i].OutPackets) / period),12}");
                last[i] = now;
            }
        }
        s_stop = true;
        eal.Wait(worker);
        foreach (EthDev p in ports)
        {
            Console.WriteLine($"port {p.PortId} xstats: " + string.Join(", ", p.GetXStats().Where(x => x.Value != 0).Select(x => $"{x.Name}={x.Value}")));
            p.Close();
        }
        Console.WriteLine($"Done. pool in use after close: {pool.InUse}");
        return 0;
    }

    private static int Forward(EthDev[] ports, int burstSize)
    {
        var burst = new Packet[burstSize];
        while (!s_stop)
        {
            for (int rx = 0; rx < 2; rx++)
            {
                int n = ports[rx].RxBurst(0, burst);
                if (n == 0)
                    continue;
                int sent = ports[rx ^ 1].TxBurst(0, burst.AsSpan(0, n));
                if (sent < n)
                    Packet.FreeBulk(burst.AsSpan(sent, n - sent));
            }
        }
        return 0;
    }

    private static double Option(string[] app, string prefix, double fallback)
    {
        string? v = app.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal));
        return v is null ? fallback : double.Parse(v[prefix.Length..], CultureInfo.InvariantCulture);
    }
}
