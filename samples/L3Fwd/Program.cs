using System;
using System.IO;
using System.Linq;
using System.Runtime;
using System.Threading;
using PacketPlane;
using PacketPlane.Samples.L3Fwd;

// DPDK's l3fwd on PacketPlane:
//   dotnet L3Fwd.dll <EAL args> -- -p PORTMASK --config="(port,queue,lcore)[,...]" [--lookup=lpm|em] [...]
// Without arguments: a 10-second demo forwarding the bundled capture (data/l3fwd-demo.pcap, replayed forever by a
// net_pcap port) into a net_null port; no root and no hugepages needed. `dotnet L3Fwd.dll --duration 2` runs it for 2 s.
// Exit codes: 0 done, 1 EAL, port or teardown failure, 2 bad application arguments or rule files.
GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
if (Demo.IsDemo(args, out string? demoSeconds))
{
    string? demo = Demo.Arguments(demoSeconds ?? "10", out string[] demoArgs);
    if (demo is not null)
    {
        Console.Error.WriteLine(demo);
        return 1;
    }
    args = demoArgs;
    Console.WriteLine($"{(demoSeconds is null ? "No arguments" : "Only --duration")}: running the L3Fwd demo for {demoSeconds ?? "10"} seconds, the same as");
    Console.WriteLine($"  dotnet L3Fwd.dll {string.Join(' ', args.Select(Demo.Quote))}");
    Console.WriteLine("(see --help for the options; stop early with Ctrl-C)\n");
}
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.Write(L3FwdOptions.Usage + "\nEAL options:\n" + EalArguments.Usage + "\n");
    return 0;
}
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
    L3FwdOptions options;
    try
    {
        options = L3FwdOptions.Parse(appArgs);
    }
    catch (L3FwdArgumentException e)
    {
        Console.Error.WriteLine($"Invalid L3FWD parameters: {e.Message}");
        Console.Error.Write(L3FwdOptions.Usage);
        return 2;
    }
    using Shutdown shutdown = Shutdown.OnSignals();
    L3FwdApp app;
    try
    {
        app = new L3FwdApp(options, eal.Ports, eal.Lcores.Select(l => l.Id).ToArray(), Console.Out);
    }
    catch (L3FwdArgumentException e)
    {
        Console.Error.WriteLine($"L3FWD: {e.Message}");
        return 2;
    }
    catch (PacketPlaneException e)
    {
        Console.Error.WriteLine($"L3FWD: {e.Message}");
        return 1;
    }
    int exitCode = 0;
    using (app)
    {
        app.AddTeardown(shutdown);
        var monitor = new Thread(() => app.Monitor(shutdown)) { IsBackground = true, Name = "l3fwd-stats" };
        monitor.Start();
        // Every lcore runs l3fwd's main loop; the main lcore too (CALL_MAIN). Lcores without RX queues return at once.
        eal.LaunchOnAll(() => app.RunLcore(Lcore.CurrentId, shutdown.Token), includeMain: true);
        try
        {
            eal.WaitAll();
        }
        catch (PacketPlaneException e)
        {
            Console.Error.WriteLine($"L3FWD: a forwarding lcore failed: {e.InnerException?.Message ?? e.Message}");
            shutdown.Request("an lcore failed");
            eal.WaitAll();
            exitCode = 1;
        }
        // Said here, on the main thread, and not from a callback on the token: a callback runs on the signal's thread
        // after the token is already cancelled, so the lcores could stop and the totals print before it (CI saw
        // the totals first once). The loops stop within microseconds of the signal, so the line is no later.
        if (shutdown.Reason is "SIGINT" or "SIGTERM")
            Console.WriteLine($"\n\nSignal {(shutdown.Reason == "SIGINT" ? 2 : 15)} received, preparing to exit...");
        shutdown.Request("forwarding ended");
        monitor.Join();
        app.PrintTotals();
        ShutdownReport report = shutdown.TearDown(TimeSpan.FromSeconds(10));
        foreach (ShutdownStepResult step in report.Steps.Where(s => !s.Completed))
        {
            Console.Error.WriteLine($"L3FWD: teardown step '{step.Name}' did not complete: {step.Error}");
            exitCode = 1;
        }
    }
    Console.WriteLine("Bye...");
    return exitCode;
}

/// <summary>The arguments of the no-argument demo.</summary>
internal static class Demo
{
    /// <summary>The bundled capture, next to the binary (copied there at build).</summary>
    public static string CapturePath => Path.Combine(AppContext.BaseDirectory, "data", "l3fwd-demo.pcap");

    /// <summary>
    /// True for no arguments at all, or only <c>--duration SECONDS</c> (or <c>--duration=SECONDS</c>), which runs the
    /// demo for that long; <paramref name="seconds"/> is then the value given, or null for none.
    /// </summary>
    public static bool IsDemo(string[] args, out string? seconds)
    {
        seconds = null;
        if (args.Length == 0)
            return true;
        if (args.Length == 1 && args[0].StartsWith("--duration=", StringComparison.Ordinal))
            seconds = args[0]["--duration=".Length..];
        else if (args.Length == 2 && args[0] == "--duration")
            seconds = args[1];
        return seconds is not null;
    }

    /// <summary>
    /// The demo's command line: one lcore on the first CPU this process may use, the capture replayed by port 0
    /// (net_pcap, infinite_rx=1), port 1 a net_null sink, routes to both, for <paramref name="seconds"/> (checked as --duration). Log level error keeps the
    /// output to l3fwd's own lines (memory falls back to 4 KiB pages silently; the pool line says which it got).
    /// Returns null, or why the demo cannot run.
    /// </summary>
    public static string? Arguments(string seconds, out string[] args)
    {
        args = [];
        string capture = CapturePath;
        if (!File.Exists(capture))
            return $"The demo capture {capture} is missing: build the project again (it is copied from samples/L3Fwd/data), or pass DPDK-style arguments (--help).";
        if (capture.Contains(','))
            return $"The demo capture's path {capture} contains a comma, which a device string cannot hold: run from a directory without one.";
        int cpu = CpuSet.ProcessAllowed().Cpus.First();
        args =
        [
            "-l", $"{cpu}", "--log-level", "error",
            "--vdev", $"net_pcap0,rx_pcap={capture},infinite_rx=1", "--vdev", "net_null0",
            "--", "-p", "0x3", $"--config=(0,0,{cpu})", "--duration", seconds,
        ];
        return null;
    }

    /// <summary>Quotes an argument for display when a shell would need it.</summary>
    public static string Quote(string arg) => arg.IndexOfAny(['(', ')', ' ', '"', '\'']) >= 0 ? $"'{arg}'" : arg;
}
