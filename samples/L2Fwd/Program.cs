using System;
using System.Linq;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane;
using PacketPlane.Samples.L2Fwd;

// DPDK's l2fwd on PacketPlane: dotnet L2Fwd.dll <EAL args> -- -p PORTMASK [-q NQ] [-T PERIOD] [--no-mac-updating] [--portmap=...] [--duration=S]
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
    L2FwdOptions options;
    try
    {
        options = L2FwdOptions.Parse(appArgs);
    }
    catch (L2FwdArgumentException e)
    {
        Console.Error.WriteLine($"Invalid L2FWD arguments: {e.Message}");
        Console.Error.Write(L2FwdOptions.Usage);
        return 2;
    }
    L2FwdApp app;
    try
    {
        app = new L2FwdApp(options, eal.Ports, eal.Lcores.Select(l => l.Id).ToArray(), Console.Out);
    }
    catch (L2FwdArgumentException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    catch (PacketPlaneException e)
    {
        Console.Error.WriteLine(e.Message);
        return 1;
    }
    using (app)
    {
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop in order instead of dying
            int number = context.Signal == PosixSignal.SIGINT ? 2 : 15;
            Console.WriteLine($"\n\nSignal {number} received, preparing to exit...");
            app.Control.RequestStop();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        bool terminal = !Console.IsOutputRedirected;
        using var statsTimer = options.StatsPeriodSeconds == 0 ? null : new Timer(_ => app.PrintStats(terminal), null,
            TimeSpan.FromSeconds(options.StatsPeriodSeconds), TimeSpan.FromSeconds(options.StatsPeriodSeconds));
        using var durationTimer = options.DurationSeconds is double d
            ? new Timer(_ => app.Control.RequestStop(), null, TimeSpan.FromSeconds(d), Timeout.InfiniteTimeSpan)
            : null;
        app.BeginForwarding();
        eal.LaunchOnAll(() => app.RunLcore(Lcore.CurrentId), includeMain: true);
        eal.WaitAll();
        statsTimer?.Dispose();
        app.Shutdown();
    }
}
return 0;
