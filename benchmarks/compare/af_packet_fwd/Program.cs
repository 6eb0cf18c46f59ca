using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using PacketPlane;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

// io forwarding between port pairs (0<->1) on the first worker lcore, like dpdk-testpmd --forward-mode=io:
//   AfPacketFwd.dll <EAL args> -- [--stats-period=N] [--duration=S] [--burst=B]
using Eal eal = Eal.Init(args, out string[] appArgs);
int period = Option(appArgs, "--stats-period", 1);
int duration = Option(appArgs, "--duration", 10);
int burstSize = Option(appArgs, "--burst", 32);
if (eal.Ports.Count < 2 || eal.WorkerLcores.Count == 0)
{
    Console.Error.WriteLine("needs two ports (--vdev ...) and a worker lcore (-l 0,1)");
    return 2;
}

using MbufPool pool = MbufPool.Create("fwd_pool", 8192, 256);
EthDev[] ports = eal.Ports.Take(2).ToArray();
foreach (EthDev port in ports)
{
    port.Configure(1, 1);
    port.SetupRxQueue(0, 512, pool);
    port.SetupTxQueue(0, 512);
    port.Start();
    port.Promiscuous = true;
}

int stop = 0;
eal.RemoteLaunch(eal.WorkerLcores[0].Id, () =>
{
    var burst = new Packet[burstSize];
    // Pairs with the release store of stop on the main lcore.
    while (Volatile.Read(ref stop) == 0)
    {
        for (int p = 0; p < 2; p++)
        {
            int n = ports[p].RxBurst(0, burst);
            if (n == 0)
                continue;
            int sent = ports[p ^ 1].TxBurst(0, burst.AsSpan(0, n));
            if (sent < n)
                Packet.FreeBulk(burst.AsSpan(sent, n - sent));
        }
    }
    return 0;
});

var previous = new PortStats[2];
long last = Stopwatch.GetTimestamp();
for (int t = 0; t < duration; t += period)
{
    Thread.Sleep(period * 1000);
    long now = Stopwatch.GetTimestamp();
    double seconds = (now - last) / (double)Stopwatch.Frequency;
    last = now;
    for (int p = 0; p < 2; p++)
    {
        PortStats s = ports[p].GetStats();
        PortStats before = previous[p] ?? new PortStats();
        Console.WriteLine($"  ######################## NIC statistics for port {p}  ########################");
        Console.WriteLine($"  RX-packets: {s.InPackets}  RX-missed: {s.InMissed}  RX-bytes: {s.InBytes}");
        Console.WriteLine($"  TX-packets: {s.OutPackets}  TX-errors: {s.OutErrors}  TX-bytes: {s.OutBytes}");
        Console.WriteLine($"  Rx-pps: {((s.InPackets - before.InPackets) / seconds).ToString("F0", CultureInfo.InvariantCulture)}");
        Console.WriteLine($"  Tx-pps: {((s.OutPackets - before.OutPackets) / seconds).ToString("F0", CultureInfo.InvariantCulture)}");
        previous[p] = s;
    }
}
Volatile.Write(ref stop, 1);
eal.Wait(eal.WorkerLcores[0].Id);
foreach (EthDev port in ports)
    port.Close();
return 0;

static int Option(string[] args, string name, int fallback)
{
    string? arg = args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal));
    return arg is null ? fallback : int.Parse(arg[(name.Length + 1)..], CultureInfo.InvariantCulture);
}
