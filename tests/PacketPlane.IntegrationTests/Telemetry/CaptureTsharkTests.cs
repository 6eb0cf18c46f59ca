using System;
using System.Globalization;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.IntegrationTests.Telemetry;

/// <summary>tshark (Wireshark's reader) reads what the capture tap writes: packets, interfaces, directions, nanosecond times.</summary>
public class CaptureTsharkTests
{
    private static byte[] Udp4(ushort dstPort, int length)
    {
        var f = new byte[length];
        f[0] = 0x02; f[5] = 0x01; f[6] = 0x02; f[11] = 0x02; // dst 02:..:01, src 02:..:02
        f[12] = 0x08; f[13] = 0x00;
        f[14] = 0x45; f[16] = (byte)((length - 14) >> 8); f[17] = (byte)(length - 14); f[22] = 64; f[23] = 17;
        f[26] = 10; f[27] = 99; f[28] = 0; f[29] = 1; f[30] = 10; f[31] = 99; f[32] = 0; f[33] = 2;
        f[34] = 0x30; f[35] = 0x39; f[36] = (byte)(dstPort >> 8); f[37] = (byte)dstPort;
        f[38] = (byte)((length - 34) >> 8); f[39] = (byte)(length - 34);
        return f;
    }

    [SkippableFact]
    [Trait("Requires", "Tshark")]
    public void Tshark_reads_packets_interfaces_directions_and_nanosecond_timestamps()
    {
        Prerequisites.Require(Requirement.Tshark);
        string file = Path.Combine(Path.GetTempPath(), $"pp_it_capture_{Guid.NewGuid():N}.pcapng");
        using MbufPool pool = MbufPool.Create("it_capture", 1024, 0);
        using EthDev rxPort = EthDev.Create("net_null70,size=64");
        using EthDev txPort = EthDev.Create("net_null71");
        foreach (EthDev p in new[] { rxPort, txPort })
        {
            p.Configure(1, 2);
            p.SetupRxQueue(0, 128, pool);
            p.SetupTxQueue(0, 128);
            p.SetupTxQueue(1, 128);
            p.Start();
        }
        double startEpoch = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        try
        {
            using (PacketCapture capture = PacketCapture.Start(file))
            {
                capture.Enable(rxPort, CaptureDirection.Rx);
                capture.Enable(txPort, CaptureDirection.Tx, queue: 1, CaptureFilter.Parse("udp and dst port 4789"));
                var burst = new Packet[4];
                Assert.Equal(4, rxPort.RxBurst(0, burst));
                Packet.FreeBulk(burst);
                var frames = new[] { Udp4(4789, 100), Udp4(53, 100), Udp4(4789, 300) }.Select(bytes =>
                {
                    Packet p = pool.Alloc();
                    Assert.True(p.TryAppend(bytes.Length));
                    bytes.CopyTo(p.Data);
                    return p;
                }).ToArray();
                System.Threading.Thread.Sleep(2); // the TX burst gets a later timestamp than the RX burst
                Assert.Equal(3, txPort.TxBurst(1, frames));
            }
            double endEpoch = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

            string output = Shell.Run($"tshark -r {file} -T fields -E separator=/t -e frame.time_epoch -e frame.len -e frame.cap_len " +
                "-e frame.interface_name -e frame.packet_flags_direction -e frame.interface_queue -e udp.dstport 2>/dev/null");
            string[][] rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
            Assert.Equal(6, rows.Length);
            string[][] received = rows.Take(4).ToArray();
            Assert.All(received, r =>
            {
                Assert.Equal("64", r[1]);
                Assert.Equal("net_null70", r[3]);
                Assert.Equal("0x00000001", r[4], ignoreCase: true); // inbound
                Assert.Equal("0", r[5]);
            });
            Assert.Equal(new[] { "100", "300" }, rows.Skip(4).Select(r => r[1]));
            Assert.All(rows.Skip(4), r =>
            {
                Assert.Equal("net_null71", r[3]);
                Assert.Equal("0x00000002", r[4], ignoreCase: true); // outbound
                Assert.Equal("1", r[5]);
                Assert.Equal("4789", r[6]);
            });
            double[] times = rows.Select(r => double.Parse(r[0], CultureInfo.InvariantCulture)).ToArray();
            Assert.All(times, t => Assert.InRange(t, startEpoch - 0.01, endEpoch + 0.01));
            Assert.True(times[4] > times[3], "TX burst after RX burst");
            // Nanosecond resolution: tshark prints nine decimals for if_tsresol = 9.
            Assert.All(rows, r => Assert.Equal(9, r[0].Length - r[0].IndexOf('.') - 1));

            // capinfos (wireshark-common, a tshark dependency) reads the section and interface blocks.
            string info = Shell.Run($"capinfos -M {file}");
            Assert.Contains("Number of packets:   6", info);
            Assert.Contains("Number of interfaces in file: 2", info);
            Assert.Contains("Encapsulation = Ethernet", info);
            Assert.Contains("Time precision = nanoseconds", info);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Equal(0, pool.InUse);
    }
}
