using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Pcap;

public sealed class PcapDriverTests : IDisposable
{
    private readonly List<string> _files = new();

    public void Dispose()
    {
        foreach (string f in _files)
            File.Delete(f);
    }

    private string NewPath(string name)
    {
        string p = PcapFiles.TempPath(name);
        _files.Add(p);
        return p;
    }

    private static readonly PcapTestRecord[] ThreeRecords =
    [
        new(PcapFiles.Frame(60, 1), 1_700_000_000_123_456_000),
        new(PcapFiles.Frame(1514, 2), 1_700_000_001_000_001_000),
        new(PcapFiles.Frame(64, 3), 1_700_000_002_999_999_000),
    ];

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Reads_every_format_and_byte_order_with_timestamps(bool nanosecond, bool bigEndian)
    {
        string path = NewPath("fmt");
        PcapTestRecord[] records =
        [
            new(PcapFiles.Frame(60, 1), 1_700_000_000_123_456_789),
            new(PcapFiles.Frame(1514, 2), 1_700_000_001_000_000_001),
            new(PcapFiles.Frame(64, 3), 5),
        ];
        PcapFiles.Write(path, records, nanosecond, bigEndian);
        using MbufPool pool = MbufPool.Create("pcap_fmt", 64, cacheSize: 0);
        using EthDev port = StartPort($"net_pcap_f{(nanosecond ? 1 : 0)}{(bigEndian ? 1 : 0)},rx_pcap={path}", pool);
        var burst = new Packet[32];
        Assert.Equal(3, port.RxBurst(0, burst));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(records[i].Data, burst[i].Data.ToArray());
            ulong expected = nanosecond ? records[i].TimestampNs : records[i].TimestampNs / 1000 * 1000;
            Assert.Equal(expected, burst[i].Timestamp);
            Assert.Equal(port.PortId, burst[i].Port);
        }
        Assert.Equal(0, port.RxBurst(0, burst)); // end of file
        Assert.Equal(3ul, port.GetStats().InPackets);
        Assert.Equal((ulong)(60 + 1514 + 64), port.GetStats().InBytes);
        Packet.FreeBulk(burst.AsSpan(0, 3));
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Infinite_rx_replays_from_memory_even_after_the_file_is_gone()
    {
        string path = NewPath("inf");
        PcapFiles.Write(path, ThreeRecords);
        using MbufPool pool = MbufPool.Create("pcap_inf", 256, cacheSize: 0);
        using EthDev port = StartPort($"net_pcap_inf,rx_pcap={path},infinite_rx=1", pool);
        File.Delete(path);
        var burst = new Packet[32];
        for (int round = 0; round < 10; round++)
        {
            Assert.Equal(32, port.RxBurst(0, burst));
            for (int i = 0; i < 32; i++)
                Assert.Equal(ThreeRecords[(round * 32 + i) % 3].Data, burst[i].Data.ToArray());
            Packet.FreeBulk(burst);
        }
        Assert.Equal(320ul, port.GetStats().InPackets);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Tx_pcap_writes_a_nanosecond_file_with_chained_packets_whole_and_flushes_at_stop()
    {
        string path = NewPath("tx");
        using MbufPool pool = MbufPool.Create("pcap_tx", 64, cacheSize: 0);
        using EthDev port = StartPort($"net_pcap_tx,tx_pcap={path}", pool);
        var packets = new Packet[3];
        pool.AllocBulk(packets);
        byte[][] expected = [PcapFiles.Frame(60, 9), PcapFiles.Frame(1000, 10), PcapFiles.Frame(3000, 11)];
        for (int i = 0; i < 2; i++)
        {
            packets[i].TryAppend(expected[i].Length);
            expected[i].CopyTo(packets[i].Data);
        }
        // A 3000-byte packet in two segments.
        Packet tail = pool.Alloc();
        packets[2].TryAppend(2000);
        tail.TryAppend(1000);
        expected[2].AsSpan(0, 2000).CopyTo(packets[2].Data);
        expected[2].AsSpan(2000).CopyTo(tail.Data);
        Assert.True(packets[2].TryChain(tail));
        ulong before = (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        Assert.Equal(3, port.TxBurst(0, packets));
        Assert.Equal(0, pool.InUse);
        port.Stop();
        (uint magic, uint snap, List<PcapTestRecord> records) = PcapFiles.Read(path);
        Assert.Equal(0xA1B23C4Du, magic);
        Assert.Equal(65535u, snap);
        Assert.Equal(3, records.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], records[i].Data);
            Assert.Equal((uint)expected[i].Length, records[i].OriginalLength);
            Assert.InRange(records[i].TimestampNs, before - 1_000_000_000, before + 60_000_000_000);
        }
        // Start again: the file continues.
        port.Start();
        Packet more = pool.Alloc();
        more.TryAppend(100);
        Assert.Equal(1, port.TxBurst(0, [more]));
        port.Close();
        Assert.Equal(4, PcapFiles.Read(path).Records.Count);
    }

    [Fact]
    public void Snaplen_truncates_written_records_but_keeps_the_original_length()
    {
        string path = NewPath("snap");
        using MbufPool pool = MbufPool.Create("pcap_snap", 8, cacheSize: 0);
        using (EthDev port = StartPort($"net_pcap_snap,tx_pcap={path},snaplen=100", pool))
        {
            Packet p = pool.Alloc();
            p.TryAppend(500);
            port.TxBurst(0, [p]);
        }
        (_, uint snap, List<PcapTestRecord> records) = PcapFiles.Read(path);
        Assert.Equal(100u, snap);
        Assert.Equal(100, records[0].Data.Length);
        Assert.Equal(500u, records[0].OriginalLength);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Infinite_rx_replays_every_format_and_byte_order_with_timestamps(bool nanosecond, bool bigEndian)
    {
        // The replay reads record headers that were rewritten in native order at open: the data, lengths and
        // timestamps must come out as the plain reader gives them, on every lap.
        string path = NewPath("inffmt");
        PcapTestRecord[] records =
        [
            new(PcapFiles.Frame(60, 1), 1_700_000_000_123_456_789),
            new(PcapFiles.Frame(1514, 2), 1_700_000_001_000_000_001),
            new(PcapFiles.Frame(17, 3), 5_000),
        ];
        PcapFiles.Write(path, records, nanosecond, bigEndian);
        using MbufPool pool = MbufPool.Create("pcap_inffmt", 256, cacheSize: 0);
        using EthDev port = StartPort($"net_pcap_if{(nanosecond ? 1 : 0)}{(bigEndian ? 1 : 0)},rx_pcap={path},infinite_rx=1", pool);
        var burst = new Packet[7];
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal(7, port.RxBurst(0, burst));
            for (int i = 0; i < 7; i++)
            {
                PcapTestRecord expected = records[(round * 7 + i) % 3];
                Assert.Equal(expected.Data, burst[i].Data.ToArray());
                Assert.Equal(nanosecond ? expected.TimestampNs : expected.TimestampNs / 1000 * 1000, burst[i].Timestamp);
            }
            Packet.FreeBulk(burst);
        }
        Assert.Equal((ulong)(5 * 7), port.GetStats().InPackets);
        Assert.Equal((ulong)Enumerable.Range(0, 35).Sum(i => records[i % 3].Data.Length), port.GetStats().InBytes);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Infinite_rx_skips_oversized_records_without_scatter_and_retries_a_chain_it_has_no_buffers_for()
    {
        string path = NewPath("infbig");
        PcapTestRecord[] records = [new(PcapFiles.Frame(100, 1), 1), new(PcapFiles.Frame(5000, 2), 2), new(PcapFiles.Frame(70, 3), 3)];
        PcapFiles.Write(path, records, snapLength: 262144);
        using (MbufPool pool = MbufPool.Create("pcap_infbig1", 64, cacheSize: 0))
        using (EthDev port = StartPort($"net_pcap_ib1,rx_pcap={path},infinite_rx=1", pool))
        {
            var burst = new Packet[4];
            // A burst reads at most 4 records: 100, (5000 skipped), 70, 100.
            Assert.Equal(3, port.RxBurst(0, burst));
            Assert.Equal([100, 70, 100], burst.Take(3).Select(p => p.Length));
            Assert.Equal(1ul, port.GetStats().InErrors);
            Packet.FreeBulk(burst.AsSpan(0, 3));
        }
        // Six buffers, bursts of four: the 5000-byte record needs three buffers (2048-byte data room).
        using (MbufPool pool = MbufPool.Create("pcap_infbig2", 6, cacheSize: 0))
        using (EthDev port = StartPort($"net_pcap_ib2,rx_pcap={path},infinite_rx=1", pool, new EthConf { RxOffloads = RxOffloads.Scatter }))
        {
            var burst = new Packet[4];
            Assert.Equal(4, port.RxBurst(0, burst));             // 100, 5000 (3 segments), 70, 100: all six buffers
            Assert.Equal([100, 5000, 70, 100], burst.Select(p => p.Length));
            Packet.FreeBulk(burst);
            Assert.Equal(3, port.RxBurst(0, burst));             // 5000, 70, 100; the next 5000 finds no buffers
            Assert.Equal([5000, 70, 100], burst.Take(3).Select(p => p.Length));
            Assert.Equal(1ul, port.GetStats().RxNoMbuf);
            Packet.FreeBulk(burst.AsSpan(0, 3));
            Assert.Equal(3, port.RxBurst(0, burst));             // the record left behind comes first: nothing lost
            Assert.Equal(5000, burst[0].Length);
            byte[] copy = new byte[5000];
            Assert.Equal(5000, burst[0].CopyTo(copy));
            Assert.Equal(records[1].Data, copy);
            Assert.Equal(2ul, port.GetStats().RxNoMbuf);
            Packet.FreeBulk(burst.AsSpan(0, 3));
            port.Close();
            Assert.Equal(0, pool.InUse);
        }
    }

    [Fact]
    public void Records_larger_than_a_buffer_are_dropped_into_ierrors_without_scatter_and_chained_with_it()
    {
        string path = NewPath("big");
        PcapTestRecord[] records = [new(PcapFiles.Frame(100, 1), 1), new(PcapFiles.Frame(5000, 2), 2), new(PcapFiles.Frame(70, 3), 3)];
        PcapFiles.Write(path, records, snapLength: 262144);
        using MbufPool pool = MbufPool.Create("pcap_big", 64, cacheSize: 0);
        var burst = new Packet[8];
        using (EthDev port = StartPort($"net_pcap_big1,rx_pcap={path}", pool))
        {
            Assert.Equal(2, port.RxBurst(0, burst));
            Assert.Equal(records[0].Data, burst[0].Data.ToArray());
            Assert.Equal(records[2].Data, burst[1].Data.ToArray());
            Assert.Equal(1ul, port.GetStats().InErrors);
            Packet.FreeBulk(burst.AsSpan(0, 2));
        }
        using (EthDev port = StartPort($"net_pcap_big2,rx_pcap={path}", pool, new EthConf { RxOffloads = RxOffloads.Scatter }))
        {
            Assert.Equal(3, port.RxBurst(0, burst));
            Assert.Equal(3, burst[1].SegmentCount);
            Assert.Equal(5000, burst[1].Length);
            byte[] copy = new byte[5000];
            Assert.Equal(5000, burst[1].CopyTo(copy));
            Assert.Equal(records[1].Data, copy);
            Assert.Equal(0ul, port.GetStats().InErrors);
            Packet.FreeBulk(burst.AsSpan(0, 3));
        }
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void An_rx_only_port_drops_on_tx_and_a_tx_only_port_receives_nothing()
    {
        string rx = NewPath("rxonly"), tx = NewPath("txonly");
        PcapFiles.Write(rx, ThreeRecords);
        using MbufPool pool = MbufPool.Create("pcap_dirs", 64, cacheSize: 0);
        using EthDev a = StartPort($"net_pcap_ro,rx_pcap={rx}", pool);
        using EthDev b = StartPort($"net_pcap_wo,tx_pcap={tx}", pool);
        var burst = new Packet[8];
        Assert.Equal(3, a.RxBurst(0, burst));
        Assert.Equal(3, a.TxBurst(0, burst.AsSpan(0, 3)));
        Assert.Equal(3ul, a.GetStats().OutPackets);
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, b.RxBurst(0, burst));
        Assert.Contains("tx dropped", a.Info.Mode);
    }

    [Fact]
    public void Pcap_to_pcap_forwarding_reproduces_the_records()
    {
        string rx = NewPath("fwd_in"), tx = NewPath("fwd_out");
        var records = Enumerable.Range(0, 100).Select(i => new PcapTestRecord(PcapFiles.Frame(60 + i * 13, (byte)i), (ulong)i)).ToArray();
        PcapFiles.Write(rx, records, nanosecond: true);
        using MbufPool pool = MbufPool.Create("pcap_fwd", 256, cacheSize: 0);
        using (EthDev port = StartPort($"net_pcap_fwd,rx_pcap={rx},tx_pcap={tx}", pool))
        {
            var burst = new Packet[16];
            int n;
            while ((n = port.RxBurst(0, burst)) > 0)
                Assert.Equal(n, port.TxBurst(0, burst.AsSpan(0, n)));
        }
        List<PcapTestRecord> written = PcapFiles.Read(tx).Records;
        Assert.Equal(records.Select(r => r.Data), written.Select(r => r.Data));
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Each_rx_pcap_and_tx_pcap_given_is_a_queue_as_in_dpdk()
    {
        string rx0 = NewPath("mq_rx0"), rx1 = NewPath("mq_rx1"), tx0 = NewPath("mq_tx0"), tx1 = NewPath("mq_tx1");
        PcapFiles.Write(rx0, [ThreeRecords[0]]);
        PcapFiles.Write(rx1, [ThreeRecords[1], ThreeRecords[2]]);
        using MbufPool pool = MbufPool.Create("pcap_mq", 64, cacheSize: 0);
        using EthDev port = EthDev.Create($"net_pcap_mq,rx_pcap={rx0},rx_pcap={rx1},tx_pcap={tx0},tx_pcap={tx1}");
        Assert.Equal(2, port.Info.MaxRxQueues);
        Assert.Equal(2, port.Info.MaxTxQueues);
        port.Configure(2, 2);
        for (int q = 0; q < 2; q++)
        {
            port.SetupRxQueue(q, 64, pool);
            port.SetupTxQueue(q, 64);
        }
        port.Start();
        var burst = new Packet[8];
        Assert.Equal(2, port.RxBurst(1, burst));
        Assert.Equal(ThreeRecords[1].Data, burst[0].Data.ToArray());
        Assert.Equal(2, port.TxBurst(1, burst.AsSpan(0, 2)));
        Assert.Equal(1, port.RxBurst(0, burst));
        Assert.Equal(1, port.TxBurst(0, burst.AsSpan(0, 1)));
        port.Close();
        Assert.Equal([ThreeRecords[0].Data], PcapFiles.Read(tx0).Records.Select(r => r.Data));
        Assert.Equal([ThreeRecords[1].Data, ThreeRecords[2].Data], PcapFiles.Read(tx1).Records.Select(r => r.Data));
        using EthDev mixed = EthDev.Create($"net_pcap_mq2,rx_pcap={rx0},rx_pcap={rx1},tx_pcap={NewPath("mq_tx2")}");
        Assert.Equal((2, 1), (mixed.Info.MaxRxQueues, mixed.Info.MaxTxQueues));
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_mq3,rx_pcap={rx0},snaplen=100,snaplen=200"));
        Assert.Contains("argument 'snaplen' is given twice (only rx_pcap, tx_pcap may repeat)", e.Message);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_null_mq4,size=64,size=128"));
        Assert.Contains("argument 'size' is given twice", e.Message);
    }

    // ---- errors at open: each names the file, and for damaged records the record number and byte offset ----

    [Fact]
    public void A_truncated_record_header_is_refused_with_its_record_number_and_offset()
    {
        string path = NewPath("trunc_hdr");
        PcapFiles.Write(path, ThreeRecords);
        long goodLength = new FileInfo(path).Length;
        using (var f = File.OpenWrite(path))
        {
            f.Seek(0, SeekOrigin.End);
            f.Write(new byte[10]);
        }
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e1,rx_pcap={path}"));
        Assert.Contains(path, e.Message);
        Assert.Contains($"record 4 at byte offset {goodLength}", e.Message);
        Assert.Contains("10 bytes into the 16-byte record header", e.Message);
    }

    [Fact]
    public void Truncated_record_data_is_refused_with_its_record_number_and_offset()
    {
        string path = NewPath("trunc_data");
        PcapFiles.Write(path, ThreeRecords);
        using (var f = File.OpenWrite(path))
            f.SetLength(f.Length - 5);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e2,rx_pcap={path}"));
        long offset = 24 + 16 + 60 + 16 + 1514;
        Assert.Contains($"record 3 at byte offset {offset} says it holds 64 captured bytes but only 59 remain", e.Message);
    }

    [Fact]
    public void A_bad_magic_number_is_refused_and_pcapng_gets_a_conversion_hint()
    {
        string path = NewPath("magic");
        File.WriteAllBytes(path, new byte[40]);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e3,rx_pcap={path}"));
        Assert.Contains("bad magic number 0x00000000", e.Message);
        Assert.Contains(path, e.Message);
        byte[] ng = new byte[40];
        ng[0] = 0x0A; ng[1] = 0x0D; ng[2] = 0x0D; ng[3] = 0x0A;
        File.WriteAllBytes(path, ng);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e3,rx_pcap={path}"));
        Assert.Contains("editcap -F pcap", e.Message);
        File.WriteAllBytes(path, new byte[10]);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e3,rx_pcap={path}"));
        Assert.Contains("shorter than the 24-byte pcap file header", e.Message);
    }

    [Fact]
    public void A_record_beyond_the_snap_length_or_the_pcap_maximum_is_refused()
    {
        string path = NewPath("snaplen");
        PcapFiles.Write(path, [ThreeRecords[0], new(PcapFiles.Frame(2000, 1), 0)], snapLength: 1500);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e4,rx_pcap={path}"));
        Assert.Contains("record 2 at byte offset 100 says it holds 2000 captured bytes, more than the file's snap length 1500", e.Message);
        PcapFiles.Write(path, [new(new byte[300_000], 0)], snapLength: 0);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e4,rx_pcap={path}"));
        Assert.Contains("record 1 at byte offset 24 says it holds 300000 captured bytes, more than the 262144 any pcap record may hold", e.Message);
    }

    [Fact]
    public void Missing_files_directories_and_arguments_are_named()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"pp-missing-{Guid.NewGuid():N}.pcap");
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e5,rx_pcap={missing}"));
        Assert.Contains("no such file", e.Message);
        Assert.Contains(missing, e.Message);
        string inMissingDir = Path.Combine(Path.GetTempPath(), $"pp-nodir-{Guid.NewGuid():N}", "out.pcap");
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e6,tx_pcap={inMissingDir}"));
        Assert.Contains("does not exist", e.Message);
        Assert.Contains(Path.GetDirectoryName(inMissingDir)!, e.Message);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create("net_pcap_e7"));
        Assert.Contains("needs rx_pcap=FILE, tx_pcap=FILE or both", e.Message);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e8,tx_pcap={NewPath("x")},infinite_rx=1"));
        Assert.Contains("infinite_rx=1 replays rx_pcap, which is not given", e.Message);
        string both = NewPath("both");
        PcapFiles.Write(both, ThreeRecords);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e8,rx_pcap={both},tx_pcap={both}"));
        Assert.Contains("is both rx_pcap and tx_pcap", e.Message);
        Assert.Equal(3, PcapFiles.Read(both).Records.Count); // untouched
    }

    [Fact]
    public void Non_ethernet_captures_and_empty_infinite_files_are_refused()
    {
        string path = NewPath("linktype");
        PcapFiles.Write(path, ThreeRecords, linkType: 101);
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e9,rx_pcap={path}"));
        Assert.Contains("link type 101 is not Ethernet", e.Message);
        PcapFiles.Write(path, []);
        e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_pcap_e9,rx_pcap={path},infinite_rx=1"));
        Assert.Contains("has no packets", e.Message);
        using EthDev empty = EthDev.Create($"net_pcap_e9,rx_pcap={path}"); // fine without infinite_rx
    }

    internal static EthDev StartPort(string device, MbufPool pool, EthConf? conf = null)
    {
        EthDev port = EthDev.Create(device);
        try
        {
            port.Configure(1, 1, conf);
            port.SetupRxQueue(0, 512, pool);
            port.SetupTxQueue(0, 512);
            port.Start();
            return port;
        }
        catch
        {
            port.Close();
            throw;
        }
    }
}
