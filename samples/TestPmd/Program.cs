using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane;
using PacketPlane.Samples.TestPmd;

// A small dpdk-testpmd: dotnet TestPmd.dll <EAL args> -- [--forward-mode=io|mac|macswap|rxonly|txonly] [...]
// Exit codes: 0 done, 1 EAL or port failure, 2 bad application arguments.
GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
Eal eal;
string[] appArgs;
try
{
    eal = Eal.Init(args, out appArgs);
}
catch (PacketPlaneException e)
{
    Console.Error.WriteLine($"EAL: {e.Message}");
    Console.Error.WriteLine("EAL options:\n" + EalArguments.Usage);
    return 1;
}
using (eal)
{
    TestPmdOptions options;
    try
    {
        options = TestPmdOptions.Parse(appArgs);
    }
    catch (TestPmdArgumentException e)
    {
        Console.Error.WriteLine($"testpmd: {e.Message}");
        Console.Error.Write("Accepted options:\n" + TestPmdOptions.Usage);
        return 2;
    }
    TestPmdApp app;
    try
    {
        app = new TestPmdApp(options, eal.Ports, eal.WorkerLcores.Select(l => l.Id).ToArray(), Console.Out);
    }
    catch (TestPmdArgumentException e)
    {
        Console.Error.WriteLine($"testpmd: {e.Message}");
        return 2;
    }
    catch (PacketPlaneException e)
    {
        Console.Error.WriteLine($"testpmd: {e.Message}");
        return 1;
    }
    using (app)
    {
        using var stopRequested = new ManualResetEventSlim();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop forwarding and print the totals instead of dying
            Console.WriteLine($"\nSignal {(context.Signal == PosixSignal.SIGINT ? 2 : 15)} received, preparing to exit...");
            stopRequested.Set();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        if (!options.NoFlushRx)
            app.FlushRx();
        app.BeginForwarding();
        foreach (ForwardingLcore lcore in app.Lcores)
            eal.RemoteLaunch(lcore.LcoreId, lcore.Run);
        // The main lcore keeps time and prints statistics, as testpmd's main loop does.
        var clock = Stopwatch.StartNew();
        TimeSpan nextStats = TimeSpan.FromSeconds(options.StatsPeriodSeconds);
        bool terminal = !Console.IsOutputRedirected;
        while (!stopRequested.IsSet)
        {
            if (options.DurationSeconds is double d && clock.Elapsed.TotalSeconds >= d)
                break;
            stopRequested.Wait(50);
            if (options.StatsPeriodSeconds > 0 && clock.Elapsed >= nextStats)
            {
                app.PrintNicStats(terminal);
                nextStats += TimeSpan.FromSeconds(options.StatsPeriodSeconds);
            }
        }
        Console.WriteLine("Telling cores to stop...");
        app.Stop.Set();
        Console.WriteLine("Waiting for lcores to finish...");
        foreach (ForwardingLcore lcore in app.Lcores)
            eal.Wait(lcore.LcoreId);
        app.EndForwarding();
        app.PrintForwardStats();
        Console.WriteLine("\nDone.");
        app.Shutdown();
    }
}
return 0;
