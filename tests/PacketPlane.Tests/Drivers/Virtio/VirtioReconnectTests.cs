using System;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>
/// A peer that goes away mid-stream: links go down, nothing crashes, every mbuf comes back to its pool, and a
/// returning peer is reconnected (server-mode frontend, client-mode backend, and the client that retries).
/// </summary>
[Collection(LcoreIdentity.Collection)]
public class VirtioReconnectTests
{
    private static int s_next;

    private static int NextId() => 2000 + Interlocked.Increment(ref s_next) + Environment.ProcessId % 1000 * 1000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Frontend_closed_mid_stream_leaves_the_backend_serving_the_next_one(bool packed)
    {
        using var _ = LcoreIdentity.As(6);
        using var pair = new VirtioPair(frontendArgs: $",packed_vq={(packed ? 1 : 0)}");
        pair.WaitForLinks();
        int backendStart = pair.BackendPool.InUse;
        PushFrames(pair.Frontend, pair.FrontendPool, 200);     // some consumed, some left in the frontend's rings
        Drain(pair.Backend, 50);
        pair.Frontend.Close();
        Assert.Equal(0, pair.FrontendPool.InUse);
        Assert.False(WaitLink(pair.Backend, up: false).IsUp);
        Assert.Equal(0, Drain(pair.Backend, 10));            // nothing to read, nothing crashes
        Assert.Equal(backendStart, pair.BackendPool.InUse);

        using EthDev next = EthDev.Create($"net_virtio_user{NextId()},path={pair.SocketPath},packed_vq={(packed ? 1 : 0)}");
        StartPort(next, pair.FrontendPool);
        Assert.True(WaitLink(next, up: true).IsUp);
        Assert.True(WaitLink(pair.Backend, up: true).IsUp);
        PushFrames(next, pair.FrontendPool, 64);
        Assert.Equal(64, Drain(pair.Backend, 64));
        next.Close();
        Assert.Equal(0, pair.FrontendPool.InUse);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backend_gone_mid_stream_then_back_resumes_a_server_mode_frontend(bool packed)
    {
        using var _ = LcoreIdentity.As(6);
        using var pair = new VirtioPair(frontendArgs: $",packed_vq={(packed ? 1 : 0)}", frontendIsServer: true);
        pair.WaitForLinks();
        PushFrames(pair.Frontend, pair.FrontendPool, 200);
        Drain(pair.Backend, 100);
        pair.Backend.Close();                                  // the backend vanishes with packets in flight
        Assert.False(WaitLink(pair.Frontend, up: false).IsUp);
        var rx = new Packet[32];
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(0, pair.Frontend.RxBurst(0, rx));     // bursts go on, harmlessly
            pair.Frontend.TxBurst(0, Span<Packet>.Empty);
        }

        using EthDev backend = EthDev.Create($"net_vhost{NextId()},iface={pair.SocketPath},client=1");
        StartPort(backend, pair.BackendPool);
        Assert.True(WaitLink(pair.Frontend, up: true).IsUp);
        Assert.True(WaitLink(backend, up: true).IsUp);
        // Frames queued before the loss may be delivered again (the new backend resumes at the used index).
        Drain(backend, 1000);
        PushFrames(pair.Frontend, pair.FrontendPool, 64, firstSeq: 10_000);
        Assert.Equal(64, DrainSequences(backend, 10_000, 64));
        backend.Close();
        pair.Frontend.Close();
        Assert.Equal(0, pair.FrontendPool.InUse);
        Assert.Equal(0, pair.BackendPool.InUse);
    }

    [Fact]
    public void Client_mode_frontend_reconnects_when_the_backend_comes_back()
    {
        using var _ = LcoreIdentity.As(6);
        using var pair = new VirtioPair();
        pair.WaitForLinks();
        pair.Backend.Close();
        Assert.False(WaitLink(pair.Frontend, up: false).IsUp);
        using EthDev backend = EthDev.Create($"net_vhost{NextId()},iface={pair.SocketPath}");
        StartPort(backend, pair.BackendPool);
        Assert.True(WaitLink(pair.Frontend, up: true).IsUp);
        PushFrames(pair.Frontend, pair.FrontendPool, 32, firstSeq: 500);
        Assert.Equal(32, DrainSequences(backend, 500, 32));
        backend.Close();
        pair.Frontend.Close();
        Assert.Equal(0, pair.FrontendPool.InUse);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stop_and_start_keep_the_rings_usable(bool packed)
    {
        using var _ = LcoreIdentity.As(6);
        using var pair = new VirtioPair(frontendArgs: $",packed_vq={(packed ? 1 : 0)}");
        pair.WaitForLinks();
        PushFrames(pair.Frontend, pair.FrontendPool, 40);
        Assert.Equal(40, Drain(pair.Backend, 40));
        pair.Frontend.Stop();
        Assert.False(pair.Frontend.Link.IsUp);
        pair.Frontend.Start();
        Assert.True(WaitLink(pair.Frontend, up: true).IsUp);
        Assert.True(WaitLink(pair.Backend, up: true).IsUp);
        PushFrames(pair.Frontend, pair.FrontendPool, 40, firstSeq: 40);
        Assert.Equal(40, DrainSequences(pair.Backend, 40, 40));
        // Several more cycles, with traffic in between, wrap the rings' indexes past their size.
        for (int cycle = 0; cycle < 5; cycle++)
        {
            pair.Frontend.Stop();
            pair.Frontend.Start();
            Assert.True(WaitLink(pair.Frontend, up: true).IsUp);
            PushFrames(pair.Frontend, pair.FrontendPool, 100, firstSeq: 1000 * (cycle + 1));
            Assert.Equal(100, DrainSequences(pair.Backend, 1000 * (cycle + 1), 100));
        }
    }

    private static void StartPort(EthDev port, MbufPool pool)
    {
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
    }

    private static LinkStatus WaitLink(EthDev port, bool up)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (port.Link.IsUp != up && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        return port.Link;
    }

    private static void PushFrames(EthDev port, MbufPool pool, int count, int firstSeq = 0)
    {
        var burst = new Packet[16];
        int sent = 0;
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (sent < count && DateTime.UtcNow < deadline)
        {
            int n = Math.Min(16, count - sent);
            Assert.Equal(n, VirtioPair.Fill(pool, burst.AsSpan(0, n), firstSeq + sent, 80));
            int tx = port.TxBurst(0, burst.AsSpan(0, n));
            Packet.FreeBulk(burst.AsSpan(tx, n - tx));
            sent += tx;
        }
        Assert.Equal(count, sent);
    }

    private static int Drain(EthDev port, int max)
    {
        var rx = new Packet[32];
        int got = 0;
        for (int i = 0; i < 2000 && got < max; i++)
        {
            int n = port.RxBurst(0, rx.AsSpan(0, Math.Min(32, max - got)));
            Packet.FreeBulk(rx.AsSpan(0, n));
            got += n;
            if (n == 0)
                Thread.SpinWait(100);
        }
        return got;
    }

    // Counts frames first..first+count-1 (exact bytes) among what arrives; others are dropped.
    private static int DrainSequences(EthDev port, int first, int count)
    {
        var rx = new Packet[32];
        var seen = new bool[count];
        int got = 0;
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (got < count && DateTime.UtcNow < deadline)
        {
            int n = port.RxBurst(0, rx);
            for (int i = 0; i < n; i++)
            {
                int seq = VirtioPair.SequenceOf(rx[i].Data) - first;
                if ((uint)seq < (uint)count && !seen[seq] && VirtioPair.CheckFrame(rx[i].Data, first + seq, 80))
                {
                    seen[seq] = true;
                    got++;
                }
            }
            Packet.FreeBulk(rx.AsSpan(0, n));
        }
        return got;
    }
}
