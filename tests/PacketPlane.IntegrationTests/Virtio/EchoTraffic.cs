using System;
using System.Diagnostics;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;

namespace PacketPlane.IntegrationTests.Virtio;

/// <summary>
/// Sends numbered test frames out of one of our ports and checks that each comes back exactly once, in order,
/// byte for byte (the peer echoes with testpmd's io forwarding). At most <c>window</c> frames are in flight, so
/// the peer never finds our receive ring full.
/// </summary>
public static class EchoTraffic
{
    /// <summary>What came back.</summary>
    public sealed record Result(long Sent, long Received, long Wrong, double Seconds)
    {
        public double Mpps => Received / Seconds / 1e6;
    }

    /// <summary>Frame sizes 60..1514 in a fixed pseudo-random order (or all <paramref name="fixedSize"/>).</summary>
    public static int SizeOf(long seq, int fixedSize) => fixedSize > 0 ? fixedSize : 60 + (int)(seq * 37 % 1455);

    /// <param name="port">Our port.</param>
    /// <param name="txPool">Where frames are built (buffers large enough for 1514 bytes).</param>
    /// <param name="total">Frames to send.</param>
    /// <param name="window">Most frames in flight.</param>
    /// <param name="fixedSize">Frame size, or 0 for 60..1514.</param>
    /// <param name="firstSeq">Sequence number of the first frame.</param>
    /// <param name="stallTimeout">Give up after this long without a frame coming back.</param>
    public static Result Run(EthDev port, MbufPool txPool, long total, int window, int fixedSize = 0, long firstSeq = 0,
        TimeSpan? stallTimeout = null)
    {
        MbufPool pool = txPool;
        var burst = new Packet[32];
        var rx = new Packet[32];
        var frame = new byte[2048];
        var got = new byte[2048];
        long sent = 0, received = 0, wrong = 0;
        var sw = Stopwatch.StartNew();
        long lastProgress = sw.ElapsedMilliseconds;
        long stallMs = (long)(stallTimeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds;
        while (received < total && sw.ElapsedMilliseconds - lastProgress < stallMs)
        {
            if (sent < total && sent - received < window)
            {
                int n = (int)Math.Min(Math.Min(burst.Length, total - sent), window - (sent - received));
                if (pool.AllocBulk(burst.AsSpan(0, n)) == n)
                {
                    for (int i = 0; i < n; i++)
                    {
                        long seq = firstSeq + sent + i;
                        int size = SizeOf(seq, fixedSize);
                        burst[i].TrySetLength(size);
                        TestFrames.Build(burst[i].Data, (int)seq, size, seed: 7);
                    }
                    int tx = port.TxBurst(0, burst.AsSpan(0, n));
                    Packet.FreeBulk(burst.AsSpan(tx, n - tx));
                    sent += tx;
                }
            }
            int r = port.RxBurst(0, rx);
            for (int i = 0; i < r; i++)
            {
                long seq = firstSeq + received + i;
                int size = SizeOf(seq, fixedSize);
                int len = rx[i].CopyTo(got);
                TestFrames.Build(frame, (int)seq, size, seed: 7);
                if (len != size || rx[i].Length != size || !got.AsSpan(0, len).SequenceEqual(frame.AsSpan(0, size)))
                    wrong++;
            }
            Packet.FreeBulk(rx.AsSpan(0, r));
            if (r > 0)
            {
                received += r;
                lastProgress = sw.ElapsedMilliseconds;
            }
        }
        return new Result(sent, received, wrong, sw.Elapsed.TotalSeconds);
    }
}

/// <summary>Traffic without checking, for "mid-stream" phases: keeps sending and receiving for a while.</summary>
public static class BlindTraffic
{
    /// <summary>Bursts for <paramref name="duration"/>, calling <paramref name="midway"/> once halfway. Returns frames received.</summary>
    public static long Run(EthDev port, MbufPool txPool, TimeSpan duration, Action? midway = null)
    {
        var burst = new Packet[32];
        var rx = new Packet[32];
        long received = 0;
        var sw = Stopwatch.StartNew();
        bool called = false;
        while (sw.Elapsed < duration)
        {
            if (!called && sw.Elapsed >= duration / 2)
            {
                called = true;
                midway?.Invoke();
            }
            if (txPool.AllocBulk(burst) == burst.Length)
            {
                for (int i = 0; i < burst.Length; i++)
                {
                    burst[i].TrySetLength(128);
                    TestFrames.Build(burst[i].Data, i, 128, seed: 1);
                }
                int tx = port.TxBurst(0, burst);
                Packet.FreeBulk(burst.AsSpan(tx));
            }
            int r = port.RxBurst(0, rx);
            Packet.FreeBulk(rx.AsSpan(0, r));
            received += r;
        }
        return received;
    }

    /// <summary>Receives and frees whatever arrives for <paramref name="duration"/> (sends nothing). Returns the count.</summary>
    public static long Drain(EthDev port, TimeSpan duration)
    {
        var rx = new Packet[32];
        long received = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            int r = port.RxBurst(0, rx);
            Packet.FreeBulk(rx.AsSpan(0, r));
            received += r;
        }
        return received;
    }
}
