using System;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging.Abstractions;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Tests.Drivers.Pcap;
using PacketPlane.Tests.Eal;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Fuzz;

/// <summary>
/// Mutated pcap files through net_pcap: each either opens or is refused with an error naming the file; an opened one
/// is read to the end (records that do not fit are counted, never crash) and every mbuf comes back to the pool.
/// </summary>
[Collection(EalCollection.Name)]
public class PcapFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_pcap_files_open_and_read_or_fail_naming_the_file()
    {
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string path = Path.Combine(dir, $"pp-fuzz-{Environment.ProcessId}.pcap");
        byte[][] seeds = SeedFiles(path);
        using MbufPool pool = MbufPool.Create("fuzz_pcap", 512, 0);
        var burst = new Packet[32];
        ulong packets = 0, errors = 0;
        Internal.Log.Factory = NullLoggerFactory.Instance;
        try
        {
            FuzzResult r = Fuzzer.Run("pcap files", seeds, ["\xd4\xc3\xb2\xa1", "\x4d\x3c\xb2\xa1", "\xff\xff\xff\xff", "\0\0\0\0", "\x40\0\0\0"], input =>
            {
                File.WriteAllBytes(path, input);
                using EthDev port = EthDev.Create($"net_pcap95,rx_pcap={path}");
                port.Configure(1, 1);
                port.SetupRxQueue(0, 64, pool);
                port.SetupTxQueue(0, 64);
                port.Start();
                int n;
                while ((n = port.RxBurst(0, burst)) > 0)
                    Packet.FreeBulk(burst.AsSpan(0, n));
                PortStats s = port.GetStats();
                packets += s.InPackets;
                errors += s.InErrors;
            }, e => Fuzzer.ControlPathError(e) && e.Message.Contains(path, StringComparison.Ordinal));
            output.WriteLine($"{r}; {packets} packets read, {errors} records dropped as errors");
            Assert.True(r.Accepted > 1000 && r.Rejected > 1000, r.ToString());
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Internal.Log.Reset();
            File.Delete(path);
        }
    }

    /// <summary>Valid captures in the four variants (µs/ns, little/big endian), one with a record bigger than an mbuf.</summary>
    private static byte[][] SeedFiles(string scratch)
    {
        PcapTestRecord[] records =
        [
            new(PcapFiles.Frame(60, 1), 1_000_000_123),
            new(PcapFiles.Frame(1514, 2), 2_000_000_456),
            new(PcapFiles.Frame(3000, 3), 3_000_000_789),
        ];
        return new[] { (false, false), (true, false), (false, true), (true, true) }.Select(v =>
        {
            PcapFiles.Write(scratch, records.Take(v.Item1 ? 3 : 2), nanosecond: v.Item1, bigEndian: v.Item2);
            return File.ReadAllBytes(scratch);
        }).ToArray();
    }
}
