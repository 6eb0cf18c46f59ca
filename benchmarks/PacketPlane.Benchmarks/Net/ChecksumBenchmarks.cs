using System;
using BenchmarkDotNet.Attributes;
using PacketPlane.Net;

namespace PacketPlane.Benchmarks.Net;

/// <summary>
/// Internet checksum over buffers of packet-like sizes: the word-by-word reference, the scalar fast path, and the
/// Vector128/Vector256 paths Checksum.Sum chooses between. Reported per call; divide by Size for ns/byte.
/// </summary>
[MemoryDiagnoser]
public class ChecksumBenchmarks
{
    private byte[] _data = [];

    /// <summary>Bytes summed: an IPv4 header, a minimum frame, a full MTU, a jumbo frame.</summary>
    [Params(20, 64, 1500, 9000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(42).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint Reference() => Checksum.SumReference(_data);

    [Benchmark]
    public uint Scalar() => Checksum.SumScalar(_data);

    [Benchmark]
    public uint Vector128() => Checksum.SumVector128(_data);

    [Benchmark]
    public uint Vector256() => Checksum.SumVector256(_data);

    /// <summary>What callers get: the path chosen by size and hardware.</summary>
    [Benchmark]
    public uint Sum() => Checksum.Sum(_data);
}

/// <summary>IPv4 header checksum work a router does per packet: verify, decrement TTL (RFC 1624 vs full recompute).</summary>
[MemoryDiagnoser]
public class Ipv4ChecksumBenchmarks
{
    private readonly byte[] _frame = new UdpFrame { FrameLength = 64 }.ToArray();

    [Benchmark]
    public bool VerifyHeader() => new Ipv4Header(_frame.AsSpan(14)).IsChecksumValid;

    [Benchmark(Baseline = true)]
    public ushort DecrementTtlFullRecompute()
    {
        var ip = new Ipv4Header(_frame.AsSpan(14));
        ip.TimeToLive = (byte)(ip.TimeToLive - 1 | 1);
        ip.UpdateChecksum();
        return ip.HeaderChecksum;
    }

    [Benchmark]
    public ushort DecrementTtlIncremental()
    {
        var ip = new Ipv4Header(_frame.AsSpan(14));
        if (ip.TimeToLive < 2)
            ip.TimeToLive = 64;
        ip.DecrementTimeToLive();
        return ip.HeaderChecksum;
    }

    [Benchmark]
    public bool VerifyUdp()
    {
        var ip = new Ipv4Header(_frame.AsSpan(14));
        return new UdpHeader(ip.Payload).IsChecksumValid(ip);
    }
}
