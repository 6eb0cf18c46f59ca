using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// Million-frame loops shared by the ixgbe and i40e model tests. They allocate nothing themselves, so the
/// allocation they measure around the bursts is the driver's.
/// </summary>
internal static class TrafficLoops
{
    public const int Burst = 32;

    /// <summary>
    /// Receives frames 0..count-1 on <paramref name="queue"/>, checking each byte for byte against
    /// <see cref="ModelFrames.Build"/>. Allocation is measured over frames warmup..count-1 (the first ones warm the
    /// JIT). Returns the bytes allocated on this thread in the measured part and the bytes received.
    /// </summary>
    public static (long Allocated, long Bytes) ReceiveAndVerify(EthDev port, int queue, long count, long warmup, int seed,
        Action checkModel, TimeSpan timeout)
    {
        var burst = new Packet[Burst];
        var expected = new byte[16384];
        long received = 0, bytes = 0, allocated = 0, before = 0;
        long start = Stopwatch.GetTimestamp();
        long lastCheck = start;
        bool measuring = false;
        while (received < count)
        {
            if (!measuring && received >= warmup)
            {
                measuring = true;
                before = GC.GetAllocatedBytesForCurrentThread();
            }
            int n = port.RxBurst(queue, burst);
            for (int i = 0; i < n; i++)
            {
                Packet p = burst[i];
                int len = ModelFrames.Build(received, expected, seed);
                if (p.Length != len || !p.Data.SequenceEqual(expected.AsSpan(0, len)))
                    throw new InvalidOperationException(Describe(received, p, len));
                bytes += len;
                received++;
            }
            Packet.FreeBulk(burst.AsSpan(0, n));
            if (n == 0)
            {
                long now = Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(lastCheck, now).TotalMilliseconds > 200)
                {
                    lastCheck = now;
                    checkModel();
                    if (Stopwatch.GetElapsedTime(start, now) > timeout)
                        throw new TimeoutException($"received {received} of {count} frames in {timeout.TotalSeconds} s");
                }
                Thread.SpinWait(10);
            }
        }
        if (measuring)
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return (allocated, bytes);
    }

    /// <summary>
    /// Sends frames 0..count-1 on <paramref name="queue"/> built with <see cref="ModelFrames.Build"/>; the model's
    /// wire checks them. Allocation is measured after <paramref name="warmup"/> frames. Returns bytes allocated in the
    /// measured part and bytes sent.
    /// </summary>
    public static (long Allocated, long Bytes) Send(EthDev port, int queue, MbufPool pool, long count, long warmup, int seed,
        Action checkModel, TimeSpan timeout)
    {
        var burst = new Packet[Burst];
        long sent = 0, bytes = 0, before = 0;
        long start = Stopwatch.GetTimestamp();
        long lastCheck = start;
        bool measuring = false;
        while (sent < count)
        {
            if (!measuring && sent >= warmup)
            {
                measuring = true;
                before = GC.GetAllocatedBytesForCurrentThread();
            }
            int want = (int)Math.Min(Burst, count - sent);
            Span<Packet> b = burst.AsSpan(0, want);
            if (pool.AllocBulk(b) == 0)
            {
                Wait(ref lastCheck, start, checkModel, timeout, sent, count);
                continue;
            }
            for (int i = 0; i < want; i++)
            {
                int len = ModelFrames.LengthOf(sent + i);
                b[i].TryAppend(len);
                ModelFrames.Build(sent + i, b[i].Data, seed);
                bytes += len;
            }
            int done = 0;
            while (done < want)
            {
                int n = port.TxBurst(queue, b[done..]);
                done += n;
                if (n == 0)
                    Wait(ref lastCheck, start, checkModel, timeout, sent, count);
            }
            sent += want;
        }
        long allocated = measuring ? GC.GetAllocatedBytesForCurrentThread() - before : 0;
        return (allocated, bytes);
    }

    private static void Wait(ref long lastCheck, long start, Action checkModel, TimeSpan timeout, long sent, long count)
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(lastCheck, now).TotalMilliseconds > 200)
        {
            lastCheck = now;
            checkModel();
            if (Stopwatch.GetElapsedTime(start, now) > timeout)
                throw new TimeoutException($"sent {sent} of {count} frames in {timeout.TotalSeconds} s");
        }
        Thread.SpinWait(10);
    }

    private static string Describe(long index, Packet p, int expectedLength) =>
        $"frame {index}: received {p.Length} bytes, expected {expectedLength}; first bytes {Convert.ToHexString(p.Data[..Math.Min(24, p.Length)])}";
}
