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
