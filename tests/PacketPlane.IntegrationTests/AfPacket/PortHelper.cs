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
