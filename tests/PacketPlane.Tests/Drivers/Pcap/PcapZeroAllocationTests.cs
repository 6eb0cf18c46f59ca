using System;
using System.IO;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Pcap;

/// <summary>
/// net_pcap with infinite_rx allocates nothing per packet on RX, nor on TX into a file: measured over a million
/// packets after a warm-up.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public class PcapZeroAllocationTests
{
    [Fact]
    public void Infinite_rx_and_tx_pcap_allocate_nothing_over_a_million_packets()
    {
        string rx = PcapFiles.TempPath("zalloc_rx"), tx = PcapFiles.TempPath("zalloc_tx");
        PcapFiles.Write(rx, [new(PcapFiles.Frame(60, 1), 1), new(PcapFiles.Frame(128, 2), 2), new(PcapFiles.Frame(60, 3), 3)]);
        try
        {
            using MbufPool pool = MbufPool.Create("pcap_zalloc", 1024, cacheSize: 64);
            using var _ = LcoreIdentity.As(3);
            using EthDev port = PcapDriverTests.StartPort($"net_pcap_zalloc,rx_pcap={rx},tx_pcap={tx},infinite_rx=1", pool);
            var burst = new Packet[32];
            Loop(port, burst, 10_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Loop(port, burst, 1_000_000 / 32 + 1);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            PortStats stats = port.GetStats();
            Assert.Equal(stats.InPackets, stats.OutPackets);
            port.Close();
            Assert.Equal(0, pool.InUse);
            Assert.True(new FileInfo(tx).Length > 1_000_000L * (16 + 60));
        }
        finally
        {
            File.Delete(rx);
            File.Delete(tx);
        }
    }

    private static void Loop(EthDev port, Packet[] burst, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            int n = port.RxBurst(0, burst);
            if (n != burst.Length || port.TxBurst(0, burst.AsSpan(0, n)) != n)
                throw new InvalidOperationException("infinite_rx ran dry or tx refused packets");
        }
    }
}
