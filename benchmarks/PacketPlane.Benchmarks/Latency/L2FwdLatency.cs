using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Samples.L2Fwd;

namespace PacketPlane.Benchmarks.Latency;

/// <summary>
/// Per-packet latency through samples/L2Fwd's forwarding loop over ring ports (<c>l2fwd-latency</c>). The DPDK
/// twin is benchmarks/compare/latency/l2fwd_latency.c; benchmarks/compare/latency.sh runs both.
/// </summary>
/// <remarks>
/// <para>Set-up: ports G/A and B/S are <see cref="RingPort.CreatePair"/> pairs (what G sends, A receives). L2Fwd
/// (<c>-p 0x3 -q 2</c>, one lcore polls A and B) forwards A to B on lcore 1 (CPU 1). The main lcore (CPU 0) is
/// both the generator, which sends one 64-byte packet every 1/rate seconds on G with <see cref="Packet.Timestamp"/>
/// set just before TX, and the receiver, which polls S and records now minus the stamp for every packet. Latency
/// therefore includes l2fwd's TX buffering (a burst goes out at 32 packets or after 100 µs), exactly as DPDK's
/// l2fwd does it.</para>
/// <para>Clock: <see cref="Stopwatch.GetTimestamp"/> (CLOCK_MONOTONIC through the vDSO, which reads the TSC on
/// these VMs; 1 ns ticks); DPDK's side reads rte_rdtsc. The samples array is allocated and touched before
/// measuring, so nothing in the loop allocates unless <c>--alloc-per-packet</c> asks for it.</para>
/// <para>Options: <c>--rate PPS</c> (default 1e6), <c>--seconds S</c> (10), <c>--warmup S</c> (2),
/// <c>--latency-mode Batch|Interactive|LowLatency|SustainedLowLatency</c> (SustainedLowLatency, as the samples
/// set), <c>--alloc-per-packet BYTES</c> (0): the generator thread allocates that much garbage per packet sent,
/// standing in for application code on another thread that allocates, so GC pauses show in the tail.</para>
/// </remarks>
public static class L2FwdLatency
{
    private const int Burst = 32;
    private const int RingSize = 1024;
    private const int FrameLength = 64;

    public static int Run(string[] args)
    {
        double rate = 1e6, seconds = 10, warmup = 2;
        int allocPerPacket = 0;
        GCLatencyMode mode = GCLatencyMode.SustainedLowLatency;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--rate": rate = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--alloc-per-packet": allocPerPacket = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--latency-mode": mode = Enum.Parse<GCLatencyMode>(v, ignoreCase: true); break;
                default:
                    Console.Error.WriteLine($"l2fwd-latency: unknown option {args[i]} (accepted: --rate --seconds --warmup --latency-mode --alloc-per-packet)");
                    return 2;
            }
        }
        GCSettings.LatencyMode = mode;
        using Eal eal = Eal.Init(["-l", "0,1", "--log-level", "warning"], out _);
        using MbufPool pool = MbufPool.Create("latency_pool", 8191, 256);
        (EthDev gen, EthDev a) = RingPort.CreatePair("lat_gen", "lat_a", 1, RingSize);
        (EthDev b, EthDev sink) = RingPort.CreatePair("lat_b", "lat_sink", 1, RingSize);
        StartEndpoint(gen, pool);
        StartEndpoint(sink, pool);
        var app = new L2FwdApp(L2FwdOptions.Parse(["-p", "0x3", "-q", "2", "-T", "0"]), [a, b], [1], TextWriter.Null);
        Result r;
        try
        {
            eal.RemoteLaunch(1, () => app.RunLcore(1));
            r = GenerateAndReceive(gen, sink, pool, rate, seconds, warmup, allocPerPacket);
            app.Control.RequestStop();
            eal.Wait(1);
        }
        finally
        {
            app.Shutdown();
            gen.Stop();
            gen.Close();
            sink.Stop();
            sink.Close();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"l2fwd latency (PacketPlane, {(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "AOT")}, GC {(GCSettings.IsServerGC ? "server" : "workstation")} {mode}): " +
            $"rate={rate:F0} pps seconds={seconds:F1} warmup={warmup:F1} sent={r.Sent} received={r.Received} dropped={r.Dropped} late={r.Late} recorded={r.Count} " +
            $"gc={r.Gc0}/{r.Gc1}/{r.Gc2} alloc_per_packet={allocPerPacket}"));
        if (r.Count == 0)
        {
            Console.WriteLine("latency_ns: none recorded");
            return 1;
        }
        Array.Sort(r.Samples, 0, r.Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency_ns: p50={Percentile(r, 50)} p99={Percentile(r, 99)} p99.9={Percentile(r, 99.9)} max={r.Samples[r.Count - 1]} mean={r.SumNs / r.Count:F0}"));
        return 0;
    }

    private static void StartEndpoint(EthDev port, MbufPool pool)
    {
        port.Configure(1, 1, new EthConf());
        port.SetupRxQueue(0, RingSize, pool);
        port.SetupTxQueue(0, RingSize);
        port.Start();
    }

    private sealed class Result(uint[] samples)
    {
        public uint[] Samples { get; } = samples;
        public int Count;
        public long Sent, Received, Dropped, Late;
        public double SumNs;
        public int Gc0, Gc1, Gc2;
    }

    /// <summary>Nearest-rank percentile of the sorted samples (as the C twin computes it).</summary>
    private static uint Percentile(Result r, double p)
    {
        long rank = (long)Math.Ceiling(p / 100.0 * r.Count);
        return r.Samples[Math.Max(rank, 1) - 1];
    }

    private static Result GenerateAndReceive(EthDev gen, EthDev sink, MbufPool pool, double rate, double seconds, double warmup, int allocPerPacket)
    {
        var r = new Result(new uint[(long)(rate * seconds * 1.05) + 1024]);
        Array.Fill(r.Samples, 0u); // touch every page before measuring
        Span<Packet> one = stackalloc Packet[1];
        Span<Packet> burst = stackalloc Packet[Burst];
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        double period = Stopwatch.Frequency / rate;
        long start = Stopwatch.GetTimestamp();
        long recordFrom = start + (long)(warmup * Stopwatch.Frequency);
        long end = recordFrom + (long)(seconds * Stopwatch.Frequency);
        double next = start;
        byte[]? keep = null;
        int gc0 = 0, gc1 = 0, gc2 = 0;
        bool recording = false;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= end)
                break;
            if (!recording && now >= recordFrom)
            {
                recording = true;
                gc0 = GC.CollectionCount(0);
                gc1 = GC.CollectionCount(1);
                gc2 = GC.CollectionCount(2);
            }
            if (now >= next)
            {
                // More than 100 periods behind (the thread was descheduled): restart the schedule, do not burst.
                if (now - next > 100 * period)
                {
                    next = now;
                    r.Late++;
                }
                next += period;
                if (allocPerPacket > 0)
                    keep = new byte[allocPerPacket]; // garbage by the next packet: gen0 work for the GC
                Packet p = pool.Alloc();
                if (p.IsNull || !p.TrySetLength(FrameLength))
                {
                    if (!p.IsNull)
                        p.Free();
                    r.Dropped++;
                }
                else
                {
                    p.Timestamp = (ulong)Stopwatch.GetTimestamp();
                    one[0] = p;
                    if (gen.TxBurst(0, one) == 1)
                    {
                        r.Sent++;
                    }
                    else
                    {
                        p.Free();
                        r.Dropped++;
                    }
                }
            }
            int n = sink.RxBurst(0, burst);
            if (n == 0)
                continue;
            long arrived = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                long stamp = (long)burst[i].Timestamp;
                if (stamp >= recordFrom && r.Count < r.Samples.Length)
                {
                    double ns = (arrived - stamp) * nsPerTick;
                    uint v = ns > 4e9 ? uint.MaxValue : (uint)ns;
                    r.Samples[r.Count++] = v;
                    r.SumNs += v;
                }
            }
            r.Received += n;
            Packet.FreeBulk(burst[..n]);
        }
        GC.KeepAlive(keep);
        r.Gc0 = GC.CollectionCount(0) - gc0;
        r.Gc1 = GC.CollectionCount(1) - gc1;
        r.Gc2 = GC.CollectionCount(2) - gc2;
        return r;
    }
}
