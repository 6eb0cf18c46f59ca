using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Telemetry;

namespace PacketPlane;

/// <summary>
/// The work one lcore does in a poll loop. <see cref="Poll"/> runs over and over until shutdown; then
/// <see cref="Drain"/> runs once, on the same lcore (TX queues belong to the lcore that polls them).
/// </summary>
public interface IPollWorker
{
    /// <summary>One iteration: receive a burst, process it, send. Returns the number of packets received (for the busy ratio).</summary>
    int Poll();

    /// <summary>After the last poll: send what is buffered (retrying briefly), free what cannot be sent.</summary>
    void Drain();
}

/// <summary>
/// Runs <see cref="IPollWorker"/>s on lcores until a <see cref="CancellationToken"/> (usually
/// <see cref="Shutdown.Token"/>) is cancelled, records every poll in <see cref="LcorePollStats"/>, then drains
/// each worker on its own lcore. <see cref="Shutdown.AddLoop"/> waits for it in the teardown order
/// (stop polling, drain TX, then stop ports).
/// </summary>
/// <example>
/// <code>
/// using Shutdown shutdown = Shutdown.OnSignals();
/// var loop = ForwardingLoop.Launch(eal, shutdown.Token, (1, new IoForwarder(port0, 0, port1, 0)));
/// shutdown.AddLoop(loop); shutdown.AddPorts(port0, port1); shutdown.AddPools(pool); shutdown.AddEal(eal);
/// shutdown.WaitForRequest();
/// shutdown.TearDown(TimeSpan.FromSeconds(5));
/// </code>
/// </example>
public sealed class ForwardingLoop
{
    private readonly Eal _eal;
    private readonly int[] _lcores;
    private readonly CountdownEvent _stopped;
    private readonly CountdownEvent _drained;

    private ForwardingLoop(Eal eal, int[] lcores)
    {
        _eal = eal;
        _lcores = lcores;
        _stopped = new CountdownEvent(lcores.Length);
        _drained = new CountdownEvent(lcores.Length);
    }

    /// <summary>The lcores running the loop.</summary>
    public IReadOnlyList<int> Lcores => _lcores;

    /// <summary>
    /// Polls <paramref name="worker"/> on the calling thread until <paramref name="token"/> is cancelled, then drains it.
    /// Use it on the main lcore, or inside a function launched with <see cref="Eal.RemoteLaunch"/>.
    /// </summary>
    public static void Run(IPollWorker worker, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(worker);
        PollUntilCancelled(worker, token);
        worker.Drain();
    }

    /// <summary>Launches one worker per lcore (worker lcores only: the main lcore stays free to wait for signals).</summary>
    /// <exception cref="ArgumentException">No workers, an lcore given twice, or the main lcore.</exception>
    public static ForwardingLoop Launch(Eal eal, CancellationToken token, params (int Lcore, IPollWorker Worker)[] workers)
    {
        ArgumentNullException.ThrowIfNull(eal);
        ArgumentNullException.ThrowIfNull(workers);
        if (workers.Length == 0)
            throw new ArgumentException("a forwarding loop needs at least one (lcore, worker) pair", nameof(workers));
        int[] lcores = workers.Select(w => w.Lcore).ToArray();
        if (lcores.Distinct().Count() != lcores.Length)
            throw new ArgumentException($"each lcore polls one worker; lcores given: {string.Join(",", lcores)}", nameof(workers));
        var loop = new ForwardingLoop(eal, lcores);
        foreach ((int lcore, IPollWorker worker) in workers)
        {
            ArgumentNullException.ThrowIfNull(worker);
            if (eal.GetLcore(lcore).IsMain)
                throw new ArgumentException($"lcore {lcore} is the main lcore; launch workers on worker lcores ({string.Join(",", eal.WorkerLcores.Select(l => l.Id))}) and use ForwardingLoop.Run on the main one", nameof(workers));
        }
        foreach ((int lcore, IPollWorker worker) in workers)
            eal.RemoteLaunch(lcore, () => loop.RunOnLcore(worker, token));
        return loop;
    }

    /// <summary>Waits until every lcore has left its poll loop; false on timeout.</summary>
    public bool WaitStopped(TimeSpan timeout) => _stopped.Wait(timeout);

    /// <summary>Waits until every lcore has drained its worker; false on timeout.</summary>
    public bool WaitDrained(TimeSpan timeout) => _drained.Wait(timeout);

    /// <summary>Collects the lcores' results (after <see cref="WaitDrained"/>); rethrows a worker's exception as PacketPlaneException.</summary>
    public void Collect()
    {
        foreach (int lcore in _lcores)
            _eal.Wait(lcore);
    }

    private int RunOnLcore(IPollWorker worker, CancellationToken token)
    {
        try
        {
            PollUntilCancelled(worker, token);
        }
        finally
        {
            _stopped.Signal();
        }
        try
        {
            worker.Drain();
        }
        finally
        {
            _drained.Signal();
        }
        return 0;
    }

    private static void PollUntilCancelled(IPollWorker worker, CancellationToken token)
    {
        int lcore = Lcore.CurrentId;
        while (!token.IsCancellationRequested)
            LcorePollStats.Record(lcore, worker.Poll());
    }
}

/// <summary>
/// testpmd's <c>io</c> forwarding with l2fwd's TX buffering: receives a burst on one port's queue and sends it,
/// unchanged, on another's. Packets wait in a buffer of one burst that is sent when full or when a poll finds
/// nothing; what the TX queue refuses is freed and counted in <see cref="Dropped"/> (rte_eth_tx_buffer's default).
/// <see cref="Drain"/> retries the buffer before freeing. Allocates nothing after construction.
/// </summary>
public sealed class IoForwarder : IPollWorker
{
    private const int DrainAttempts = 1000;
    private readonly EthDev _rxPort;
    private readonly EthDev _txPort;
    private readonly int _rxQueue;
    private readonly int _txQueue;
    private readonly Packet[] _rx;
    private readonly Packet[] _tx;
    private int _txCount;

    /// <summary>Forwards <paramref name="rxPort"/>/<paramref name="rxQueue"/> to <paramref name="txPort"/>/<paramref name="txQueue"/>.</summary>
    public IoForwarder(EthDev rxPort, int rxQueue, EthDev txPort, int txQueue, int burstSize = 32)
    {
        ArgumentNullException.ThrowIfNull(rxPort);
        ArgumentNullException.ThrowIfNull(txPort);
        ArgumentOutOfRangeException.ThrowIfLessThan(burstSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(burstSize, 512);
        _rxPort = rxPort;
        _txPort = txPort;
        _rxQueue = rxQueue;
        _txQueue = txQueue;
        _rx = new Packet[burstSize];
        _tx = new Packet[burstSize];
    }

    /// <summary>Packets received (written by the polling lcore only; other threads read a recent value).</summary>
    public ulong Received { get; private set; }

    /// <summary>Packets the TX queue took.</summary>
    public ulong Sent { get; private set; }

    /// <summary>Packets freed because the TX queue refused them.</summary>
    public ulong Dropped { get; private set; }

    /// <summary>Packets sent by the last <see cref="Drain"/>.</summary>
    public int DrainedPackets { get; private set; }

    /// <inheritdoc/>
    public int Poll()
    {
        int n = _rxPort.RxBurst(_rxQueue, _rx);
        if (n == 0)
        {
            if (_txCount > 0)
                Flush();
            return 0;
        }
        Received += (ulong)n;
        for (int i = 0; i < n; i++)
        {
            _tx[_txCount++] = _rx[i];
            if (_txCount == _tx.Length)
                Flush();
        }
        return n;
    }

    /// <inheritdoc/>
    public void Drain()
    {
        int before = _txCount;
        for (int attempt = 0; attempt < DrainAttempts && _txCount > 0; attempt++)
        {
            int sent = _txPort.TxBurst(_txQueue, _tx.AsSpan(0, _txCount));
            Sent += (ulong)sent;
            _tx.AsSpan(sent, _txCount - sent).CopyTo(_tx);
            _txCount -= sent;
            if (sent == 0)
                Thread.SpinWait(100);
        }
        DrainedPackets = before - _txCount;
        FreeUnsent(0);
    }

    private void Flush()
    {
        int sent = _txPort.TxBurst(_txQueue, _tx.AsSpan(0, _txCount));
        Sent += (ulong)sent;
        FreeUnsent(sent);
    }

    private void FreeUnsent(int from)
    {
        int unsent = _txCount - from;
        if (unsent > 0)
        {
            Packet.FreeBulk(_tx.AsSpan(from, unsent));
            Dropped += (ulong)unsent;
        }
        _txCount = 0;
    }
}
