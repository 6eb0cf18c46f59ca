using System;
using System.Collections.Generic;
using System.IO;
using PacketPlane.Drivers.Ring;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Tests.Drivers.Pcap;
using Xunit;

namespace PacketPlane.Tests.Drivers.Ring;

/// <summary>
/// Random sequences of control and data operations over net_null, net_ring and net_pcap ports: whatever the order,
/// nothing crashes, only EthDevException reports a wrong state, and every buffer is back in its pool at the end.
/// </summary>
public class PortLifecycleTests
{
    public enum Kind { Null, RingLoopback, RingPair, Pcap }

    [Theory]
    [InlineData(Kind.Null, 1)]
    [InlineData(Kind.Null, 2)]
    [InlineData(Kind.RingLoopback, 3)]
    [InlineData(Kind.RingLoopback, 4)]
    [InlineData(Kind.RingPair, 5)]
    [InlineData(Kind.RingPair, 6)]
    [InlineData(Kind.Pcap, 7)]
    [InlineData(Kind.Pcap, 8)]
    public void Random_operation_sequences_never_crash_or_leak(Kind kind, int seed)
    {
        var random = new Random(seed);
        string rxFile = PcapFiles.TempPath("life_rx"), txFile = PcapFiles.TempPath("life_tx");
        PcapFiles.Write(rxFile, [new(PcapFiles.Frame(60, 1), 1), new(PcapFiles.Frame(200, 2), 2)]);
        using MbufPool pool = MbufPool.Create($"life_{kind}_{seed}", 2048, cacheSize: 0);
        int generation = 0;
        var held = new List<Packet>();
        try
        {
            EthDev[] ports = Create(kind, seed, generation++, rxFile, txFile);
            for (int step = 0; step < 3000; step++)
            {
                EthDev port = ports[random.Next(ports.Length)];
                int op = random.Next(10);
                try
                {
                    switch (op)
                    {
                        case 0:
                            port.Configure(random.Next(1, port.Info.MaxRxQueues + 1 > 3 ? 3 : port.Info.MaxRxQueues + 1),
                                random.Next(1, port.Info.MaxTxQueues + 1 > 3 ? 3 : port.Info.MaxTxQueues + 1));
                            break;
                        case 1:
                            port.SetupRxQueue(random.Next(0, 3), 256, pool);
                            break;
                        case 2:
                            port.SetupTxQueue(random.Next(0, 3), 256);
                            break;
                        case 3:
                            port.Start();
                            break;
                        case 4:
                            port.Stop();
                            break;
                        case 5 when random.Next(8) == 0:
                            foreach (EthDev p in ports)
                                p.Close();
                            ports = Create(kind, seed, generation++, rxFile, txFile);
                            break;
                        case 6:
                        case 7:
                            Receive(port, random, held);
                            break;
                        default:
                            Transmit(port, random, pool, held);
                            break;
                    }
                }
                catch (EthDevException)
                {
                    // A wrong state or queue for this operation: reported, nothing else happens.
                }
            }
            foreach (EthDev p in ports)
                p.Close();
            foreach (EthDev p in ports)
            {
                // Bursts on a closed port are harmless.
                Assert.Equal(0, p.RxBurst(0, new Packet[4]));
            }
        }
        finally
        {
            Packet.FreeBulk(held.ToArray());
            File.Delete(rxFile);
            File.Delete(txFile);
        }
        Assert.Equal(0, pool.InUse);
    }

    private static void Receive(EthDev port, Random random, List<Packet> held)
    {
        var burst = new Packet[random.Next(1, 40)];
        int n = port.RxBurst(random.Next(0, 3), burst);
        for (int i = 0; i < n; i++)
        {
            if (random.Next(2) == 0 && held.Count < 500)
                held.Add(burst[i]);
            else
                burst[i].Free();
        }
    }

    private static void Transmit(EthDev port, Random random, MbufPool pool, List<Packet> held)
    {
        var burst = new Packet[random.Next(1, 40)];
        int fromHeld = Math.Min(held.Count, random.Next(0, burst.Length + 1));
        for (int i = 0; i < fromHeld; i++)
        {
            burst[i] = held[^1];
            held.RemoveAt(held.Count - 1);
        }
        for (int i = fromHeld; i < burst.Length; i++)
        {
            burst[i] = pool.Alloc();
            if (burst[i].IsNull)
            {
                Packet.FreeBulk(burst.AsSpan(0, i));
                return;
            }
            burst[i].TryAppend(64);
        }
        int sent = port.TxBurst(random.Next(0, 3), burst);
        Packet.FreeBulk(burst.AsSpan(sent));
    }

    private static EthDev[] Create(Kind kind, int seed, int generation, string rxFile, string txFile) => kind switch
    {
        Kind.Null => [EthDev.Create($"net_null_life{seed}_{generation}")],
        Kind.RingLoopback => [EthDev.Create($"net_ring_life{seed}_{generation},queues=2,size=64")],
        Kind.RingPair => Pair(seed, generation),
        _ => [EthDev.Create($"net_pcap_life{seed}_{generation},rx_pcap={rxFile},tx_pcap={txFile},infinite_rx={generation % 2}")],
    };

    private static EthDev[] Pair(int seed, int generation)
    {
        (EthDev a, EthDev b) = RingPort.CreatePair($"lifea{seed}_{generation}", $"lifeb{seed}_{generation}", queues: 2, ringSize: 64);
        return [a, b];
    }
}
