using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Telemetry;

namespace PacketPlane;

/// <summary>The order of teardown steps (DPDK's l3fwd order: stop the loops, then the ports, then free memory).</summary>
public enum ShutdownStage
{
    /// <summary>Poll loops leave their loops.</summary>
    StopPolling = 0,
    /// <summary>Each lcore sends (or frees) what it buffered for TX.</summary>
    DrainTx = 1,
    /// <summary>Ports stop: queues stop, bursts return 0.</summary>
    StopPorts = 2,
    /// <summary>Ports close: queues release their buffers, sockets close, XDP programs detach.</summary>
    ClosePorts = 3,
    /// <summary>Mbuf pools are freed.</summary>
    FreePools = 4,
    /// <summary>The EAL goes: remaining owned objects, memory, lcore threads, telemetry socket.</summary>
    CloseEal = 5,
}

/// <summary>How one teardown step went.</summary>
/// <param name="Stage">Its stage.</param>
/// <param name="Name">What it did ("stop port 0 (net_null0)").</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Completed">False when it failed, ran out of time, or was skipped.</param>
/// <param name="Error">Why it did not complete, or null.</param>
public sealed record ShutdownStepResult(ShutdownStage Stage, string Name, TimeSpan Duration, bool Completed, string? Error);

/// <summary>The whole teardown.</summary>
/// <param name="Reason">What asked for shutdown ("SIGTERM", or the reason given to <see cref="Shutdown.Request"/>).</param>
/// <param name="Steps">Every step in the order run.</param>
/// <param name="Duration">Total time.</param>
public sealed record ShutdownReport(string Reason, IReadOnlyList<ShutdownStepResult> Steps, TimeSpan Duration)
{
    /// <summary>True when every step completed.</summary>
    public bool Completed => Steps.All(s => s.Completed);
}

/// <summary>
/// Graceful shutdown in a fixed order within a bounded time. <see cref="OnSignals"/> turns SIGINT and SIGTERM
/// into a cancelled <see cref="Token"/> (the poll loops watch it) instead of killing the process; a second
/// signal while shutting down kills it the usual way. <see cref="TearDown"/> then runs the registered steps
/// by <see cref="ShutdownStage"/>: stop polling, drain TX, stop ports, close ports (which detaches XDP
/// programs), free pools, close the EAL. If the loops do not stop in time, the later steps are skipped and
/// reported rather than run under lcores that still touch the ports and memory: the process can then exit,
/// and the kernel reclaims everything (memfd memory, sockets, bpf links).
/// </summary>
public sealed class Shutdown : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = new();
    private readonly List<(ShutdownStage Stage, string Name, Func<TimeSpan, string?> Run)> _steps = new();
    private readonly ILogger _log = Internal.Log.For("PacketPlane.Shutdown");
    private readonly object _gate = new();
    private ShutdownReport? _report;
    private string? _reason;

    private Shutdown()
    {
    }

    /// <summary>Cancelled when shutdown is requested.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>True once shutdown was requested.</summary>
    public bool IsRequested => _cts.IsCancellationRequested;

    /// <summary>Why shutdown was requested, or null.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Steps run at <see cref="TearDown"/>; raised as each finishes (on the tearing-down thread).</summary>
    public event Action<ShutdownStepResult>? StepCompleted;

    /// <summary>A shutdown requested by SIGINT or SIGTERM (or <see cref="Request"/>).</summary>
    public static Shutdown OnSignals()
    {
        var shutdown = new Shutdown();
        foreach (PosixSignal signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            shutdown._registrations.Add(PosixSignalRegistration.Create(signal, shutdown.OnSignal));
        return shutdown;
    }

    /// <summary>A shutdown requested only by <see cref="Request"/> (tests, services with their own stop logic).</summary>
    public static Shutdown Manual() => new();

    /// <summary>Requests shutdown: cancels <see cref="Token"/>. Only the first reason is kept.</summary>
    public void Request(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null)
            _log.LogInformation(LogEvents.ShutdownRequested, "shutdown requested: {Reason}", reason);
        _cts.Cancel();
    }

    /// <summary>Blocks until shutdown is requested.</summary>
    public void WaitForRequest() => Token.WaitHandle.WaitOne();

    /// <summary>Blocks until shutdown is requested or <paramref name="timeout"/> passes; true when requested.</summary>
    public bool WaitForRequest(TimeSpan timeout) => Token.WaitHandle.WaitOne(timeout);

    /// <summary>Adds a step. Within a stage, steps run in the order added.</summary>
    public void Add(ShutdownStage stage, string name, Action step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Add(stage, name, _ =>
        {
            step();
            return null;
        });
    }

    /// <summary>
    /// Adds a step that may wait: it gets the time left in the budget and returns null when done, or a sentence
    /// saying what did not finish. A step that does not finish makes the later stages unsafe, so they are skipped.
    /// </summary>
    public void Add(ShutdownStage stage, string name, Func<TimeSpan, string?> step)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(step);
        lock (_gate)
            _steps.Add((stage, name, step));
    }

    /// <summary>Stops <paramref name="loop"/> (StopPolling: wait for its lcores to leave the loop; DrainTx: wait for their drains).</summary>
    public void AddLoop(ForwardingLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        string lcores = string.Join(",", loop.Lcores);
        Add(ShutdownStage.StopPolling, $"stop poll loops on lcore(s) {lcores}", left =>
            loop.WaitStopped(left) ? null : $"lcore(s) {lcores} still polling after the time budget");
        Add(ShutdownStage.DrainTx, $"drain TX on lcore(s) {lcores}", left =>
        {
            if (!loop.WaitDrained(left))
                return $"lcore(s) {lcores} still draining after the time budget";
            loop.Collect();
            return null;
        });
    }

    /// <summary>Stops (StopPorts) and closes (ClosePorts) each port.</summary>
    public void AddPorts(params EthDev[] ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        foreach (EthDev port in ports)
            Add(ShutdownStage.StopPorts, $"stop {port}", port.Stop);
        foreach (EthDev port in ports)
            Add(ShutdownStage.ClosePorts, $"close {port}", port.Close);
    }

    /// <summary>Frees each pool (FreePools); a pool with mbufs still in use is reported by the pool itself.</summary>
    public void AddPools(params MbufPool[] pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        foreach (MbufPool pool in pools)
            Add(ShutdownStage.FreePools, $"free pool {pool.Name}", pool.Dispose);
    }

    /// <summary>Disposes the EAL last (CloseEal).</summary>
    public void AddEal(Eal eal)
    {
        ArgumentNullException.ThrowIfNull(eal);
        Add(ShutdownStage.CloseEal, "close the EAL", eal.Dispose);
    }

    /// <summary>
    /// Requests shutdown (if not yet), then runs every step in stage order within <paramref name="budget"/>.
    /// Idempotent: later calls return the first report.
    /// </summary>
    public ShutdownReport TearDown(TimeSpan budget)
    {
        lock (_gate)
        {
            if (_report is not null)
                return _report;
            Request("teardown");
            var clock = Stopwatch.StartNew();
            var results = new List<ShutdownStepResult>();
            string? blocker = null;
            foreach ((ShutdownStage stage, string name, Func<TimeSpan, string?> run) in _steps.OrderBy(s => s.Stage))
            {
                ShutdownStepResult result = blocker is null
                    ? RunStep(stage, name, run, budget - clock.Elapsed)
                    : new ShutdownStepResult(stage, name, TimeSpan.Zero, false, $"skipped: {blocker}");
                if (blocker is null && !result.Completed && stage <= ShutdownStage.DrainTx)
                    blocker = $"an earlier step did not finish ({result.Error}); running it under live lcores could crash the process";
                results.Add(result);
                LogStep(result);
                StepCompleted?.Invoke(result);
            }
            _report = new ShutdownReport(Reason ?? "teardown", results, clock.Elapsed);
            _log.LogInformation(LogEvents.ShutdownCompleted, "shutdown ({Reason}) {Outcome} in {Ms} ms", _report.Reason,
                _report.Completed ? "completed" : "finished with problems", (long)_report.Duration.TotalMilliseconds);
            return _report;
        }
    }

    /// <summary>Unregisters the signal handlers. Idempotent.</summary>
    public void Dispose()
    {
        lock (_registrations)
        {
            foreach (PosixSignalRegistration r in _registrations)
                r.Dispose();
            _registrations.Clear();
        }
    }

    private static ShutdownStepResult RunStep(ShutdownStage stage, string name, Func<TimeSpan, string?> run, TimeSpan left)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            string? problem = run(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            return new ShutdownStepResult(stage, name, clock.Elapsed, problem is null, problem);
        }
        catch (Exception e)
        {
            return new ShutdownStepResult(stage, name, clock.Elapsed, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private void LogStep(ShutdownStepResult r)
    {
        if (r.Completed)
            _log.LogInformation(LogEvents.ShutdownStep, "shutdown: {Stage}: {Step} done in {Ms:F1} ms", r.Stage, r.Name, r.Duration.TotalMilliseconds);
        else
            _log.LogError(LogEvents.ShutdownStepFailed, "shutdown: {Stage}: {Step} did not complete: {Error}", r.Stage, r.Name, r.Error);
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (IsRequested)
        {
            // Second signal: the user insists. Let the default action (termination) happen.
            context.Cancel = false;
            return;
        }
        context.Cancel = true;
        Request(context.Signal.ToString());
    }
}
