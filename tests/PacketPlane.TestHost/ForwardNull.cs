using System;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.TestHost;

/// <summary>
/// forward-null EAL_ARGS...: forwards the first --vdev port to the second on a worker lcore until SIGINT/SIGTERM,
/// then tears down through <see cref="Shutdown"/>, printing each step. Prints "ready SOCKET" once forwarding
/// (SOCKET is the telemetry socket path, or "-" without --telemetry).
/// </summary>
public sealed class ForwardNull : IScenario
{
    public string Name => "forward-null";

    public int Run(string[] args)
    {
        using Shutdown shutdown = Shutdown.OnSignals();
        Eal eal = Eal.Init(args, out _);
        if (eal.Ports.Count < 2 || eal.WorkerLcores.Count < 1)
        {
            Console.Error.WriteLine("forward-null needs two --vdev ports and a worker lcore (-l 0-1)");
            eal.Dispose();
            return 2;
        }
        EthDev rx = eal.Ports[0], tx = eal.Ports[1];
        MbufPool pool = MbufPool.Create("fwd_pool", 4096, 256);
        foreach (EthDev port in new[] { rx, tx })
        {
            port.Configure(1, 1);
            port.SetupRxQueue(0, 512, pool);
            port.SetupTxQueue(0, 512);
            port.Start();
        }
        var forwarder = new IoForwarder(rx, 0, tx, 0);
        int lcore = eal.WorkerLcores[0].Id;
        ForwardingLoop loop = ForwardingLoop.Launch(eal, shutdown.Token, (lcore, forwarder));
        shutdown.AddLoop(loop);
        shutdown.AddPorts(rx, tx);
        shutdown.AddPools(pool);
        shutdown.AddEal(eal);
        shutdown.StepCompleted += step =>
            Console.WriteLine($"step {step.Stage} {(step.Completed ? "ok" : "FAILED " + step.Error)} ({step.Name})");

        Console.WriteLine($"ready {eal.Telemetry?.SocketPath ?? "-"}");
        shutdown.WaitForRequest();
        Console.WriteLine($"shutdown requested: {shutdown.Reason}");
        ShutdownReport report = shutdown.TearDown(TimeSpan.FromSeconds(5));
        Console.WriteLine($"forwarded {forwarder.Sent} dropped {forwarder.Dropped} pool in use at free {pool.LeakedAtDispose}");
        Console.WriteLine($"teardown {(report.Completed ? "completed" : "INCOMPLETE")} in {report.Duration.TotalMilliseconds:F0} ms");
        return report.Completed ? 0 : 1;
    }
}
