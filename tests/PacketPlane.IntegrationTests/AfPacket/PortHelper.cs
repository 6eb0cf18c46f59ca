using System;
using System.Diagnostics;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>Creates, configures and starts ports the way an application would, and drains them in tests.</summary>
public static class PortHelper
{
    /// <summary>Creates <paramref name="deviceString"/> with <paramref name="queues"/> RX and TX queues on <paramref name="pool"/> and starts it.</summary>
    public static EthDev Start(string deviceString, MbufPool pool, int queues = 1, EthConf? conf = null)
    {
        EthDev port = EthDev.Create(deviceString);
        try
        {
            Setup(port, pool, queues, conf);
            port.Start();
            return port;
        }
        catch
        {
            port.Close();
            throw;
        }
    }

    /// <summary>Configures and sets up every queue.</summary>
    public static void Setup(EthDev port, MbufPool pool, int queues, EthConf? conf = null)
    {
        port.Configure(queues, queues, conf);
        for (int q = 0; q < queues; q++)
        {
            port.SetupRxQueue(q, 512, pool);
            port.SetupTxQueue(q, 512);
        }
    }

    /// <summary>Sends all of <paramref name="packets"/> on queue <paramref name="queue"/>, retrying while the ring is full.</summary>
    public static void SendAll(EthDev port, int queue, Span<Packet> packets, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        int sent = 0;
        while (sent < packets.Length)
        {
            sent += port.TxBurst(queue, packets[sent..]);
            if (sent < packets.Length && clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(10)))
            {
                Packet.FreeBulk(packets[sent..]);
                throw new TimeoutException($"{port}: only {sent} of {packets.Length} packets were taken by TX queue {queue}");
            }
        }
    }

    /// <summary>Allocates a packet holding <paramref name="bytes"/>.</summary>
    public static Packet Make(MbufPool pool, ReadOnlySpan<byte> bytes)
    {
        Packet p = pool.Alloc();
        if (p.IsNull)
            throw new InvalidOperationException($"pool {pool.Name} is empty");
        if (!p.TrySetLength(bytes.Length))
        {
            p.Free();
            throw new InvalidOperationException($"{bytes.Length} bytes do not fit a {pool.Name} buffer");
        }
        bytes.CopyTo(p.Data);
        return p;
    }

    /// <summary>The bytes of a packet, all segments.</summary>
    public static byte[] Bytes(Packet p)
    {
        var bytes = new byte[p.Length];
        int offset = 0;
        for (Packet seg = p; !seg.IsNull; seg = seg.NextSegment)
        {
            seg.Data.CopyTo(bytes.AsSpan(offset));
            offset += seg.DataLength;
        }
        return bytes;
    }
}

/// <summary>
/// Bounces frames between two ports whose wires meet (a veth pair, two TAPs on a bridge) in one thread, for
/// the zero-allocation proofs: each port sends what it receives straight back out of itself, so frames
/// travel A to B and B to A.
/// </summary>
public sealed class PingPong
{
    private readonly EthDev _a;
    private readonly EthDev _b;
    private readonly MbufPool _pool;
    private readonly Packet[] _burst = new Packet[32];
    private readonly byte[] _template;

    public PingPong(EthDev a, EthDev b, MbufPool pool, byte[] template)
    {
        _a = a;
        _b = b;
        _pool = pool;
        _template = template;
    }

    /// <summary>Runs until <paramref name="packets"/> have been received (both ports together); returns how many were.</summary>
    public long Run(long packets, TimeSpan timeout)
    {
        long received = 0;
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        int idle = 0;
        while (received < packets && Stopwatch.GetTimestamp() < deadline)
        {
            int n = Echo(_a) + Echo(_b);
            received += n;
            // Frames lost on the way (a full ring) are replaced, so the loop never runs dry.
            idle = n == 0 ? idle + 1 : 0;
            if (idle > 2)
            {
                Inject();
                idle = 0;
            }
        }
        return received;
    }

    private int Echo(EthDev port)
    {
        Span<Packet> burst = _burst;
        int n = port.RxBurst(0, burst);
        if (n == 0)
            return 0;
        int sent = port.TxBurst(0, burst[..n]);
        if (sent < n)
            Packet.FreeBulk(burst[sent..n]);
        return n;
    }

    private void Inject()
    {
        Span<Packet> burst = _burst;
        if (_pool.AllocBulk(burst) == 0)
            return;
        foreach (Packet p in burst)
        {
            p.TrySetLength(_template.Length);
            _template.CopyTo(p.Data);
        }
        int sent = _a.TxBurst(0, burst);
        if (sent < burst.Length)
            Packet.FreeBulk(burst[sent..]);
    }
}
