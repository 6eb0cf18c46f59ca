using System;
using System.Collections.Generic;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

public class ShutdownTests
{
    [Fact]
    public void Steps_run_by_stage_whatever_the_order_they_were_added_and_teardown_is_idempotent()
    {
        using var shutdown = PacketPlane.Shutdown.Manual();
        var ran = new List<string>();
        shutdown.Add(ShutdownStage.CloseEal, "eal", () => ran.Add("eal"));
        shutdown.Add(ShutdownStage.FreePools, "pools", () => ran.Add("pools"));
        shutdown.Add(ShutdownStage.StopPorts, "stop a", () => ran.Add("stop a"));
        shutdown.Add(ShutdownStage.StopPolling, "loops", () => ran.Add("loops"));
        shutdown.Add(ShutdownStage.StopPorts, "stop b", () => ran.Add("stop b"));
        shutdown.Add(ShutdownStage.ClosePorts, "close", () => ran.Add("close"));
        shutdown.Add(ShutdownStage.DrainTx, "drain", () => ran.Add("drain"));
        var events = new List<string>();
        shutdown.StepCompleted += s => events.Add(s.Name);

        Assert.False(shutdown.Token.IsCancellationRequested);
        shutdown.Request("test asked");
        shutdown.Request("second reason is ignored");
        Assert.True(shutdown.Token.IsCancellationRequested);
        Assert.True(shutdown.WaitForRequest(TimeSpan.Zero));

        ShutdownReport report = shutdown.TearDown(TimeSpan.FromSeconds(5));
        string[] expected = ["loops", "drain", "stop a", "stop b", "close", "pools", "eal"];
        Assert.Equal(expected, ran);
        Assert.Equal(expected, events);
        Assert.Equal("test asked", report.Reason);
        Assert.True(report.Completed);
        Assert.Same(report, shutdown.TearDown(TimeSpan.FromSeconds(5)));
        Assert.Equal(expected, ran); // nothing ran twice
    }

    [Fact]
    public void A_failing_step_is_reported_and_the_rest_still_run()
    {
        using var shutdown = PacketPlane.Shutdown.Manual();
        bool poolsFreed = false;
        shutdown.Add(ShutdownStage.StopPorts, "stop broken port", () => throw new InvalidOperationException("driver said no"));
        shutdown.Add(ShutdownStage.FreePools, "pools", () => poolsFreed = true);
        ShutdownReport report = shutdown.TearDown(TimeSpan.FromSeconds(1));
        Assert.False(report.Completed);
        Assert.Equal("InvalidOperationException: driver said no", report.Steps[0].Error);
        Assert.True(poolsFreed);
        Assert.Equal("teardown", report.Reason);
    }

    [Fact]
    public void Loops_that_do_not_stop_in_time_make_teardown_skip_what_would_be_unsafe()
    {
        using var shutdown = PacketPlane.Shutdown.Manual();
        bool closed = false;
        TimeSpan given = TimeSpan.MaxValue;
        shutdown.Add(ShutdownStage.StopPolling, "stuck loop", left =>
        {
            given = left;
            return "lcore 3 still polling";
        });
        shutdown.Add(ShutdownStage.ClosePorts, "close", () => closed = true);
        ShutdownReport report = shutdown.TearDown(TimeSpan.FromMilliseconds(500));
        Assert.InRange(given, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
        Assert.False(closed);
        Assert.False(report.Completed);
        Assert.StartsWith("skipped: an earlier step did not finish (lcore 3 still polling)", report.Steps[1].Error);
    }

    [Fact]
    public void IoForwarder_frees_and_counts_what_the_tx_queue_refuses()
    {
        using MbufPool pool = MbufPool.Create("fwd_refuse", 1024, 0);
        using EthDev rx = EthDev.Create("net_null95");
        using EthDev tx = EthDev.Create("net_null96");
        foreach (EthDev p in new[] { rx, tx })
        {
            p.Configure(1, 1);
            p.SetupRxQueue(0, 64, pool);
            p.SetupTxQueue(0, 64);
        }
        rx.Start(); // tx stays stopped: its TxBurst takes nothing
        var forwarder = new IoForwarder(rx, 0, tx, 0, burstSize: 16);
        Assert.Equal(16, forwarder.Poll());
        forwarder.Drain();
        Assert.Equal(16UL, forwarder.Received);
        Assert.Equal(0UL, forwarder.Sent);
        Assert.Equal(16UL, forwarder.Dropped);
        Assert.Equal(0, pool.InUse);

        tx.Start();
        for (int i = 0; i < 10; i++)
            forwarder.Poll();
        forwarder.Drain();
        Assert.Equal(176UL, forwarder.Received);
        Assert.Equal(160UL, forwarder.Sent);
        Assert.Equal(0, pool.InUse);
    }
}

[Collection(PacketPlane.Tests.Eal.EalCollection.Name)]
public class ForwardingLoopTests
{
    private sealed class CountingWorker(System.Threading.CancellationTokenSource stopAfter, int polls) : IPollWorker
    {
        public int Polls;
        public bool Drained;
        public int Poll()
        {
            if (++Polls == polls)
                stopAfter.Cancel();
            return Polls % 2;
        }
        public void Drain() => Drained = true;
    }

    [Fact]
    public void Run_polls_until_cancelled_records_poll_stats_then_drains()
    {
        using var cts = new System.Threading.CancellationTokenSource();
        var worker = new CountingWorker(cts, 1000);
        using var _ = LcoreIdentity.As(1003);
        PacketPlane.Telemetry.LcorePollStats.Reset(1003);
        ForwardingLoop.Run(worker, cts.Token);
        Assert.Equal(1000, worker.Polls);
        Assert.True(worker.Drained);
        Assert.Equal((1000UL, 500UL), PacketPlane.Telemetry.LcorePollStats.Get(1003));
        PacketPlane.Telemetry.LcorePollStats.Reset(1003);
    }

    [Fact]
    public void Launch_refuses_the_main_lcore_and_an_lcore_given_twice()
    {
        Assert.True(CpuSet.ProcessAllowed().Count >= 2, "needs two CPUs: a main lcore and a worker lcore");
        using PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0-1", "--no-huge"], out _);
        using var cts = new System.Threading.CancellationTokenSource();
        var w = new CountingWorker(cts, int.MaxValue);
        Assert.Contains("main lcore", Assert.Throws<ArgumentException>(() => ForwardingLoop.Launch(eal, cts.Token, (0, w))).Message);
        Assert.Throws<ArgumentException>(() => ForwardingLoop.Launch(eal, cts.Token, (1, w), (1, w)));
        Assert.Throws<ArgumentException>(() => ForwardingLoop.Launch(eal, cts.Token));
        ForwardingLoop loop = ForwardingLoop.Launch(eal, cts.Token, (1, w));
        cts.Cancel();
        Assert.True(loop.WaitStopped(TimeSpan.FromSeconds(5)));
        Assert.True(loop.WaitDrained(TimeSpan.FromSeconds(5)));
        loop.Collect();
        Assert.True(w.Drained);
    }
}
