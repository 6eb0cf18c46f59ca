using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

/// <summary>
/// 1,000 stop/start cycles per software driver: descriptors, mappings and pool in-use come back to where they
/// started. Add a driver with one InlineData line (drivers needing root: call SoakHarness from an integration test).
/// Runs in the EAL collection so no other test opens descriptors meanwhile.
/// </summary>
[Collection(EalCollection.Name)]
public class StopStartCycleTests
{
    [Theory]
    [InlineData("net_null90,size=64")]
    [InlineData("net_null91,size=1500,copy=1")]
    [InlineData("net_ring90")]
    public void Thousand_stop_start_cycles_leak_nothing(string deviceString) =>
        SoakHarness.StopStartCycles(deviceString, 1000, queues: 2);

    [Theory]
    [InlineData("net_null92")]
    [InlineData("net_ring91")]
    public void Hundred_create_close_cycles_leak_nothing(string deviceString) =>
        SoakHarness.CreateCloseCycles(deviceString, 100, queues: 2);

    [Fact]
    public void Pcap_ports_leak_nothing_over_stop_start_and_create_close_cycles()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("pp-soak-pcap").FullName;
        try
        {
            string input = System.IO.Path.Combine(dir, "in.pcap");
            WriteTinyPcap(input);
            string device = $"net_pcap90,rx_pcap={input},rx_pcap={input},tx_pcap={dir}/out0.pcap,tx_pcap={dir}/out1.pcap,infinite_rx=1";
            SoakHarness.StopStartCycles(device, 1000, queues: 2);
            SoakHarness.CreateCloseCycles(device, 100, queues: 2);
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A microsecond pcap with one 64-byte Ethernet frame.</summary>
    private static void WriteTinyPcap(string path)
    {
        using var w = new System.IO.BinaryWriter(System.IO.File.Create(path));
        w.Write(0xa1b2c3d4u);
        w.Write((ushort)2);
        w.Write((ushort)4);
        w.Write(0);
        w.Write(0u);
        w.Write(65535u);
        w.Write(1u);
        w.Write(0u);
        w.Write(0u);
        w.Write(64u);
        w.Write(64u);
        w.Write(new byte[64]);
    }
}
