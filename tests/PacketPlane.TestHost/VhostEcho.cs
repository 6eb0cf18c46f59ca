using System;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.TestHost;

/// <summary>
/// vhost-echo DEVICE-STRING: opens a port (our net_vhost or net_virtio_user), prints "ready" once its link is up,
/// then sends every frame it receives straight back until killed. The integration tests SIGKILL it mid-stream.
/// </summary>
public sealed class VhostEcho : IScenario
{
    public string Name => "vhost-echo";

    public int Run(string[] args)
    {
        using MbufPool pool = MbufPool.Create("echo", 8192, cacheSize: 256);
        using EthDev port = EthDev.Create(args[0]);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 1024, pool);
        port.SetupTxQueue(0, 1024);
        port.Start();
        if (!port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp)
        {
            Console.Error.WriteLine($"{port.Name}: link did not come up");
            return 1;
        }
        Console.WriteLine("ready");
        Console.Out.Flush();
        var burst = new Packet[32];
        while (true)
        {
            int n = port.RxBurst(0, burst);
            int sent = 0;
            while (sent < n)
            {
                int s = port.TxBurst(0, burst.AsSpan(sent, n - sent));
                if (s == 0)
                    Thread.SpinWait(10);
                sent += s;
            }
        }
    }
}
