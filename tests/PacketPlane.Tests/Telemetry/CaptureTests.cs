using System;
using System.IO;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>The capture tap on a running net_null port, read back with an independent pcapng parser.</summary>
[Collection(LcoreIdentity.Collection)]
public sealed class CaptureTests : IDisposable
{
    private readonly MbufPool _pool = MbufPool.Create($"cap_pool_{Guid.NewGuid():N}"[..20], 2048, 0);
    private readonly EthDev _port;
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"pp_capture_{Guid.NewGuid():N}.pcapng");

    public CaptureTests()
    {
        _port = EthDev.Create($"net_null{Random.Shared.Next(100, 1000)},size=60");
        _port.Configure(2, 2);
        for (int q = 0; q < 2; q++)
        {
            _port.SetupRxQueue(q, 256, _pool);
            _port.SetupTxQueue(q, 256);
        }
        _port.Start();
    }

    public void Dispose()
    {
        _port.Close();
        Assert.Equal(0, _pool.InUse);
        _pool.Dispose();
        File.Delete(_file);
    }

    private Packet[] Frames(params byte[][] frames)
    {
        var packets = new Packet[frames.Length];
        for (int i = 0; i < frames.Length; i++)
        {
            packets[i] = _pool.Alloc();
            Assert.True(packets[i].TryAppend(frames[i].Length));
            frames[i].CopyTo(packets[i].Data);
        }
        return packets;
    }

    [Fact]
    public void Tx_capture_writes_the_offered_frames_with_direction_queue_and_nanosecond_timestamps()
    {
        byte[] a = CaptureFilterTests.Udp4(1111, 53);
        byte[] b = CaptureFilterTests.Ether(0x88b5, 80);
        long before = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        using (PacketCapture capture = PacketCapture.Start(_file))
        {
            capture.Enable(_port, CaptureDirection.Tx, queue: 1);
            Packet[] frames = Frames(a, b);
            Assert.Equal(2, _port.TxBurst(1, frames));
            Packet[] other = Frames(a);
            Assert.Equal(1, _port.TxBurst(0, other)); // queue 0 is not captured
            Assert.True(capture.Flush());
            Assert.Equal(new CaptureStatistics(2, 0, 0, 2, 2), capture.Statistics);
        }
        long after = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

        PcapngReader file = PcapngReader.Parse(File.ReadAllBytes(_file));
        PcapngReader.Interface iface = Assert.Single(file.Interfaces);
        Assert.Equal(_port.Name, iface.Name);
        Assert.Equal((byte)9, iface.TsResol);
        Assert.Equal((ushort)1, iface.LinkType);
        Assert.Equal("PacketPlane", file.Application);
        Assert.Equal(2, file.Packets.Count);
        Assert.Equal(a, file.Packets[0].Data);
        Assert.Equal(b, file.Packets[1].Data);
        Assert.All(file.Packets, p =>
        {
            Assert.Equal(2u, p.Flags); // outbound
            Assert.Equal(1u, p.Queue);
            Assert.InRange((long)p.Timestamp, before - 1_000_000, after + 1_000_000);
        });
        PcapngReader.Statistics stats = Assert.Single(file.Stats);
        Assert.Equal(2UL, stats.Received);
        Assert.Equal(0UL, stats.Dropped);
    }

    [Fact]
    public void Rx_capture_switches_on_and_off_at_run_time_and_the_filter_applies()
    {
        var burst = new Packet[16];
        using var output = new MemoryStream();
        using (PacketCapture capture = PacketCapture.Start(output, new CaptureOptions { LeaveOpen = true }))
        {
            Assert.Equal(16, _port.RxBurst(0, burst)); // before Enable: not captured
            Packet.FreeBulk(burst);
            capture.Enable(_port, CaptureDirection.Rx);
            Assert.Equal(16, _port.RxBurst(0, burst));
            Packet.FreeBulk(burst);
            Assert.Equal(16, _port.RxBurst(1, burst));
            Packet.FreeBulk(burst);
            capture.Disable(_port, CaptureDirection.Rx, queue: 1);
            Assert.Equal(16, _port.RxBurst(1, burst)); // queue 1 off now
            Packet.FreeBulk(burst);

            capture.Enable(_port, CaptureDirection.Tx, filter: CaptureFilter.Parse("udp and dst port 53"));
            Packet[] tx = Frames(CaptureFilterTests.Udp4(5, 53), CaptureFilterTests.Udp4(5, 54), CaptureFilterTests.Ether(0x0806));
            Assert.Equal(3, _port.TxBurst(0, tx));
            capture.Disable(_port);
            Assert.Null(_port.CaptureTap); // nothing enabled: the port's bursts are back to one null check
            Assert.True(capture.Flush());
            CaptureStatistics s = capture.Statistics;
            Assert.Equal(16 + 16 + 3, s.Seen);
            Assert.Equal(2, s.FilteredOut);
            Assert.Equal(33, s.Written);
        }
        PcapngReader file = PcapngReader.Parse(output.ToArray());
        Assert.Equal(33, file.Packets.Count);
        Assert.Equal(16, file.Packets.Count(p => p.Queue == 0 && p.Flags == 1));
        Assert.Equal(16, file.Packets.Count(p => p.Queue == 1 && p.Flags == 1));
        PcapngReader.PacketBlock sent = Assert.Single(file.Packets, p => p.Flags == 2);
        Assert.Equal(CaptureFilterTests.Udp4(5, 53), sent.Data);
        Assert.All(file.Packets.Where(p => p.Flags == 1), p => Assert.Equal(60u, p.OriginalLength));
    }

    [Fact]
    public void A_full_ring_drops_and_counts_instead_of_waiting()
    {
        var burst = new Packet[64];
        using var output = new MemoryStream();
        using (PacketCapture capture = PacketCapture.Start(output, new CaptureOptions { RingSize = 16, LeaveOpen = true }))
        {
            capture.Enable(_port, CaptureDirection.Rx);
            Assert.Equal(64, _port.RxBurst(0, burst)); // one burst of 64 into a ring of 16
            Packet.FreeBulk(burst);
            Assert.True(capture.Flush());
            CaptureStatistics s = capture.Statistics;
            Assert.Equal(64, s.Seen);
            Assert.Equal(64, s.Captured + s.Dropped);
            Assert.True(s.Dropped >= 48, $"dropped {s.Dropped}");
            Assert.Equal(s.Captured, s.Written);
        }
        PcapngReader file = PcapngReader.Parse(output.ToArray());
        PcapngReader.Statistics isb = Assert.Single(file.Stats);
        Assert.True(isb.Dropped >= 48);
        Assert.Contains("dropped", isb.Comment);
    }

    [Fact]
    public void Snaplen_cuts_packets_and_keeps_the_wire_length()
    {
        using var output = new MemoryStream();
        using (PacketCapture capture = PacketCapture.Start(output, new CaptureOptions { Snaplen = 64, LeaveOpen = true }))
        {
            capture.Enable(_port, CaptureDirection.Tx);
            byte[] big = CaptureFilterTests.Ether(0x88b5, 1500);
            big[100] = 0xaa;
            Assert.Equal(1, _port.TxBurst(0, Frames(big)));
        }
        PcapngReader.PacketBlock p = Assert.Single(PcapngReader.Parse(output.ToArray()).Packets);
        Assert.Equal(64u, p.CapturedLength);
        Assert.Equal(1500u, p.OriginalLength);
    }

    [Fact]
    public void A_port_belongs_to_one_capture_at_a_time()
    {
        using var one = PacketCapture.Start(new MemoryStream());
        using var two = PacketCapture.Start(new MemoryStream());
        one.Enable(_port, CaptureDirection.Rx);
        PacketPlaneException e = Assert.Throws<PacketPlaneException>(() => two.Enable(_port));
        Assert.Contains("already captured", e.Message);
        one.Dispose();
        one.Dispose(); // idempotent
        Assert.Null(_port.CaptureTap);
        two.Enable(_port);
        Assert.Throws<PacketPlaneException>(() => one.Enable(_port));
    }

    [Fact]
    public void Bursts_allocate_nothing_with_capture_off_or_on()
    {
        using var _ = LcoreIdentity.As(5);
        var burst = new Packet[32];
        void Forward(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                int n = _port.RxBurst(0, burst);
                int sent = _port.TxBurst(0, burst.AsSpan(0, n));
                Packet.FreeBulk(burst.AsSpan(sent, n - sent));
            }
        }
        Forward(1000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Forward(1_000_000 / 32);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        using var output = new MemoryStream();
        using PacketCapture capture = PacketCapture.Start(output, new CaptureOptions { LeaveOpen = true });
        capture.Enable(_port, CaptureDirection.Both, filter: CaptureFilter.Parse("ether proto 0"));
        Forward(1000);
        before = GC.GetAllocatedBytesForCurrentThread();
        Forward(1_000_000 / 32);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(capture.Statistics.Seen >= 2_000_000);
    }
}
