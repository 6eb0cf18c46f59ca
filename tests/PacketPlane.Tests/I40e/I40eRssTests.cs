using System;
using System.Collections.Generic;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.I40e;

[Collection(NicModelCollection.Name)]
public class I40eRssTests
{
    private const int Queues = 4;

    /// <summary>PacketPlane's default X710 key: the 40-byte Microsoft key followed by its first 12 bytes.</summary>
    private static byte[] DefaultKey52 => [.. ToeplitzReferenceTests.MicrosoftKey, .. ToeplitzReferenceTests.MicrosoftKey.AsSpan(0, 12)];

    [Fact]
    public void Udp_flows_spread_over_the_vsi_queues_as_the_Toeplitz_reference_predicts()
    {
        var frames = Enumerable.Range(0, 2000).Select(i => ModelFrames.Ipv4Flow(i, protocol: 17)).ToList();
        int[] perQueue = Run(frames, new EthConf { RssEnabled = true, RssHashFunctions = RssHashFunctions.Ip | RssHashFunctions.Udp },
            DefaultKey52, PacketType.L2Ether | PacketType.L3Ipv4ExtUnknown | PacketType.L4Udp);
        Assert.All(perQueue, n => Assert.InRange(n, 2000 / Queues / 2, 2000));
    }

    [Fact]
    public void Tcp_over_IPv6_flows_follow_a_custom_key()
    {
        byte[] key = new byte[52];
        new Random(9).NextBytes(key);
        var frames = Enumerable.Range(0, 1000).Select(i => ModelFrames.Ipv6Flow(i, protocol: 6)).ToList();
        int[] perQueue = Run(frames, new EthConf { RssEnabled = true, RssHashFunctions = RssHashFunctions.Ipv6 | RssHashFunctions.Tcp, RssKey = key },
            key, PacketType.L2Ether | PacketType.L3Ipv6ExtUnknown | PacketType.L4Tcp);
        Assert.All(perQueue, n => Assert.InRange(n, 1000 / Queues / 2, 1000));
    }

    private static int[] Run(List<byte[]> frames, EthConf conf, byte[] key, PacketType expectedType)
    {
        var wire = new QueueWire();
        using var h = new I40eHarness(wire);
        h.Start(queues: Queues, conf: conf);
        Assert.Equal((0, Queues), h.Model.VsiQueueMap);
        Assert.Equal(key, h.Model.ProgrammedRssKey());
        Assert.Equal(Enumerable.Range(0, 512).Select(i => i % Queues), h.Model.ProgrammedLookupTable());
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
                    Assert.Equal((int)(expected & 511) % Queues, q); // LUT entry i holds queue i % 4
                    Assert.Equal(expectedType, p.PacketType);
                }
                perQueue[q] += n;
                total += n;
                Packet.FreeBulk(burst.AsSpan(0, n));
            }
            return total == frames.Count;
        }, TimeSpan.FromSeconds(30), $"{frames.Count} frames over {Queues} queues");
        return perQueue;
    }
}
