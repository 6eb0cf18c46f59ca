using System;
using System.Collections.Generic;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.Ixgbe;

[Collection(NicModelCollection.Name)]
public class IxgbeRssTests
{
    private const int Queues = 4;

    [Fact]
    public void Udp_flows_spread_over_queues_as_the_Toeplitz_reference_predicts()
    {
        var frames = Enumerable.Range(0, 2000).Select(i => ModelFrames.Ipv4Flow(i, protocol: 17)).ToList();
        int[] perQueue = Run(frames, new EthConf { RssEnabled = true, RssHashFunctions = RssHashFunctions.Ip | RssHashFunctions.Udp },
            ToeplitzReferenceTests.MicrosoftKey, PacketType.L2Ether | PacketType.L3Ipv4 | PacketType.L4Udp);
        Assert.All(perQueue, n => Assert.InRange(n, 2000 / Queues / 2, 2000));
    }

    [Fact]
    public void Tcp_over_IPv6_flows_follow_a_custom_key()
    {
        byte[] key = new byte[40];
        new Random(7).NextBytes(key);
        var frames = Enumerable.Range(0, 1000).Select(i => ModelFrames.Ipv6Flow(i, protocol: 6)).ToList();
        int[] perQueue = Run(frames, new EthConf { RssEnabled = true, RssHashFunctions = RssHashFunctions.Ipv6 | RssHashFunctions.Tcp, RssKey = key },
            key, PacketType.L2Ether | PacketType.L3Ipv6 | PacketType.L4Tcp);
        Assert.All(perQueue, n => Assert.InRange(n, 1000 / Queues / 2, 1000));
    }

    [Fact]
    public void Without_rss_every_frame_lands_on_queue_0()
    {
        var wire = new QueueWire();
        using var h = new IxgbeHarness(wire);
        h.Start(queues: Queues);
        Assert.Equal(0u, h.Model.ProgrammedMrqc);
        for (int i = 0; i < 200; i++)
            wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(i));
        var burst = new Packet[32];
        int got = 0;
        h.WaitFor(() =>
        {
            int n = h.Port.RxBurst(0, burst);
            got += n;
            Packet.FreeBulk(burst.AsSpan(0, n));
            for (int q = 1; q < Queues; q++)
                Assert.Equal(0, h.Port.RxBurst(q, burst));
            return got == 200;
        }, TimeSpan.FromSeconds(10), "200 frames on queue 0");
    }

    private static int[] Run(List<byte[]> frames, EthConf conf, byte[] key, PacketType expectedType)
    {
        var wire = new QueueWire();
        using var h = new IxgbeHarness(wire);
        h.Start(queues: Queues, conf: conf);
        // The driver programmed the key and a round-robin redirection table.
        Assert.Equal(key, h.Model.ProgrammedRssKey());
        Assert.Equal(Enumerable.Range(0, 128).Select(i => i % Queues), h.Model.ProgrammedRedirectionTable());
        foreach (byte[] f in frames)
            wire.Inbound.Enqueue(f);
        var perQueue = new int[Queues];
        var burst = new Packet[32];
        int total = 0;
        h.WaitFor(() =>
        {
            for (int q = 0; q < Queues; q++)
            {
                int n = h.Port.RxBurst(q, burst);
                for (int i = 0; i < n; i++)
                {
                    Packet p = burst[i];
                    uint expected = RssExpectation.FourTupleHash(key, p.Data);
                    Assert.True((p.Flags & OffloadFlags.RxRssHash) != 0, "RSS hash flag");
                    Assert.Equal(expected, p.RssHash);
                    Assert.Equal((int)(expected & 127) % Queues, q); // RETA entry i holds queue i % 4
                    Assert.Equal(expectedType, p.PacketType);
                }
                perQueue[q] += n;
                total += n;
                Packet.FreeBulk(burst.AsSpan(0, n));
            }
            return total == frames.Count;
        }, TimeSpan.FromSeconds(30), $"{frames.Count} frames over {Queues} queues");
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        for (int q = 0; q < Queues; q++)
            Assert.Equal((ulong)perQueue[q], x[$"hw_rx_q{q}_packets"]);
        return perQueue;
    }
}
