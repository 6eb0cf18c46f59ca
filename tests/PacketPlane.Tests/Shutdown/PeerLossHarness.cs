using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

/// <summary>What happened while a port's peer went away.</summary>
public sealed record PeerLossResult(bool LinkWentDown, TimeSpan TimeToLinkDown, ulong ErrorsCounted, long Polls, Exception? PollFailure);

/// <summary>
/// The contract every driver with a peer keeps (veth, vhost-user, a TAP's reader): when the peer disappears, the
/// link turns down, failures are counted, bursts keep returning (0 is fine), nothing throws, no packet leaks.
/// Point it at a driver with: a started port, and an action that removes the peer (delete the veth's other end,
/// kill the vhost backend process, close the TAP's reader).
/// </summary>
public static class PeerLossHarness
{
    public static PeerLossResult Run(EthDev port, MbufPool pool, Action removePeer, TimeSpan linkDownTimeout)
    {
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        long polls = 0;
        var poller = new Thread(() =>
        {
            var burst = new Packet[32];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    int n = port.RxBurst(0, burst);
                    int sent = port.TxBurst(0, burst.AsSpan(0, n));
                    Packet.FreeBulk(burst.AsSpan(sent, n - sent));
                    if (pool.AllocBulk(burst.AsSpan(0, 4)) == 4)
                    {
                        foreach (Packet p in burst.AsSpan(0, 4))
                            p.TrySetLength(64);
                        int taken = port.TxBurst(0, burst.AsSpan(0, 4));
                        Packet.FreeBulk(burst.AsSpan(taken, 4 - taken));
                    }
                    Interlocked.Increment(ref polls);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "peer-loss-poller" };
        poller.Start();
        Thread.Sleep(100);
        Assert.True(port.Link.IsUp, $"{port}: link should be up before the peer goes");
        ulong errorsBefore = Errors(port);

        removePeer();
        var clock = Stopwatch.StartNew();
        bool down = false;
        while (clock.Elapsed < linkDownTimeout && !(down = !port.Link.IsUp))
            Thread.Sleep(10);
        TimeSpan toDown = clock.Elapsed;
        Thread.Sleep(200); // keep polling a dead peer for a while
        stop.Cancel();
        poller.Join();
        return new PeerLossResult(down, toDown, Errors(port) - errorsBefore, Interlocked.Read(ref polls), failure);
    }

    /// <summary>Asserts the contract on a result.</summary>
    public static void AssertContract(PeerLossResult r, EthDev port, MbufPool pool, int inUseBefore)
    {
        Assert.Null(r.PollFailure);
        Assert.True(r.LinkWentDown, $"{port}: link still up after the peer went");
        Assert.True(r.ErrorsCounted > 0, $"{port}: no error counted while the peer was gone");
        Assert.True(r.Polls > 10, "the poll loop stalled");
        port.Stop();
        port.Close();
        Assert.Equal(inUseBefore, pool.InUse);
    }

    private static ulong Errors(EthDev port)
    {
        PortStats s = port.GetStats();
        return s.InErrors + s.OutErrors + s.InMissed;
    }
}
