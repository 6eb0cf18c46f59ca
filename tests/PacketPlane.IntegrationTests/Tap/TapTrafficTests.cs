using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Drivers.Tap;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.AfPacket;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Tap;

/// <summary>
/// net_tap: the kernel sees exactly the frames the port sends (captured on the TAP interface with an AF_PACKET
/// socket) and the port receives exactly what the kernel sends out of the interface; one queue file per
/// queue pair.
/// </summary>
[Collection(KernelPortsCollection.Name)]
public class TapTrafficTests
{
    private const int Seed = 11;
    private static int s_counter;

    /// <summary>A fresh interface name per test (pptapPID_N), removed by <see cref="Cleanup"/>.</summary>
    internal static string NewName() => $"ppt{Environment.ProcessId % 10000}x{Interlocked.Increment(ref s_counter)}";

    /// <summary>Silences IPv6 on the interface so only test frames cross it.</summary>
    internal static void Quiet(string iface) => Shell.Run($"sysctl -qw net.ipv6.conf.{iface}.disable_ipv6=1");

    internal static void Cleanup(string iface) => Shell.TryRun($"ip link del {iface} 2>/dev/null");

    private static int SizeOf(int i) => 60 + (i * 37 % 1455);

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_sent_by_the_port_arrive_in_the_kernel_byte_for_byte()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        const int total = 20_000;
        string name = NewName();
        using MbufPool pool = MbufPool.Create("tap_tx", 2048, cacheSize: 0);
        try
        {
            using EthDev port = EthDev.Create($"net_tap0,iface={name}");
            Quiet(name);
            PortHelper.Setup(port, pool, 1);
            port.Start();
            using RawSocket capture = RawSocket.Open(name, TestFrames.EtherType);
            var burst = new Packet[32];
            for (int sent = 0; sent < total; sent += burst.Length)
            {
                for (int i = 0; i < burst.Length; i++)
                    burst[i] = PortHelper.Make(pool, TestFrames.Build(sent + i, SizeOf(sent + i), Seed));
                PortHelper.SendAll(port, 0, burst);
                for (int i = 0; i < burst.Length; i++)
                {
                    byte[]? got = capture.Receive(TimeSpan.FromSeconds(5));
                    Assert.NotNull(got);
                    Assert.Equal(TestFrames.Build(sent + i, SizeOf(sent + i), Seed), got);
                }
            }
            Assert.Null(capture.Receive(TimeSpan.FromMilliseconds(100)));
            Assert.Equal((ulong)total, port.GetStats().OutPackets);
            Assert.Equal(0UL, port.GetStats().OutErrors);
            port.Close();
            Assert.False(File.Exists($"/sys/class/net/{name}/address"), "the interface outlived the port");
        }
        finally
        {
            Cleanup(name);
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Frames_the_kernel_sends_out_of_the_interface_are_received_byte_for_byte()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        const int total = 50_000;
        string name = NewName();
        using MbufPool pool = MbufPool.Create("tap_rx", 2048, cacheSize: 0);
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name}"))
            {
                Quiet(name);
                PortHelper.Setup(port, pool, 1);
                port.Start();
                using RawSocket kernel = RawSocket.Open(name, TestFrames.EtherType);
                var burst = new Packet[64];
                int received = 0;
                for (int sent = 0; sent < total;)
                {
                    int batch = Math.Min(200, total - sent);
                    for (int i = 0; i < batch; i++)
                        kernel.Send(TestFrames.Build(sent + i, SizeOf(sent + i), Seed));
                    sent += batch;
                    var clock = Stopwatch.StartNew();
                    while (received < sent)
                    {
                        int n = port.RxBurst(0, burst);
                        for (int i = 0; i < n; i++)
                        {
                            Assert.Equal(TestFrames.Build(received, SizeOf(received), Seed), PortHelper.Bytes(burst[i]));
                            Assert.Equal(1, burst[i].SegmentCount);
                            received++;
                        }
                        Packet.FreeBulk(burst.AsSpan(0, n));
                        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stalled at frame {received} of {sent}");
                    }
                }
                Assert.Equal((ulong)total, port.GetStats().InPackets);
                Assert.Equal(0UL, port.GetStats().InErrors);
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Cleanup(name);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Jumbo_frames_are_read_into_chained_mbufs_and_chained_mbufs_are_written_whole()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        string name = NewName();
        using MbufPool pool = MbufPool.Create("tap_jumbo", 2048, cacheSize: 0);
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name}"))
            {
                Quiet(name);
                PortHelper.Setup(port, pool, 1);
                port.SetMtu(9000);
                port.Start();
                using RawSocket kernel = RawSocket.Open(name, TestFrames.EtherType);
                // Kernel to port: a 9014-byte frame spans five 2048-byte mbufs, read by one readv.
                byte[] big = TestFrames.Build(1, 9014, Seed);
                kernel.Send(big);
                var burst = new Packet[4];
                int n = 0;
                for (var clock = Stopwatch.StartNew(); n == 0 && clock.Elapsed < TimeSpan.FromSeconds(5);)
                    n = port.RxBurst(0, burst);
                Assert.Equal(1, n);
                Assert.Equal(5, burst[0].SegmentCount);
                Assert.Equal(big, PortHelper.Bytes(burst[0]));
                // Port to kernel: the same chain goes out as one frame through writev.
                PortHelper.SendAll(port, 0, burst.AsSpan(0, 1));
                byte[]? echoed = kernel.Receive(TimeSpan.FromSeconds(5));
                Assert.Equal(big, echoed);
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Cleanup(name);
        }
    }

    [SkippableFact]
    [Trait("Requires", "Root")]
    public void Each_queue_pair_has_its_own_file_and_frames_flow_on_every_queue()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Tun);
        const int queues = 4, flows = 64, total = 20_000;
        string name = NewName();
        using MbufPool pool = MbufPool.Create("tap_mq", 4096, cacheSize: 0);
        try
        {
            using (EthDev port = EthDev.Create($"net_tap0,iface={name}"))
            {
                Quiet(name);
                PortHelper.Setup(port, pool, queues);
                port.Start();
                var device = (TapDevice)port.Device;
                Assert.Equal(queues, device.QueueFiles.Distinct().Count());
                foreach (int fd in device.QueueFiles)
                    Assert.Contains($"iff:\t{name}", File.ReadAllText($"/proc/self/fdinfo/{fd}"));

                // Port to kernel: every TX queue's frames arrive.
                using (RawSocket capture = RawSocket.Open(name, TestFrames.EtherType))
                {
                    for (int q = 0; q < queues; q++)
                    {
                        var burst = new Packet[100];
                        for (int i = 0; i < burst.Length; i++)
                            burst[i] = PortHelper.Make(pool, TestFrames.Build(q * 1000 + i, 90, Seed));
                        PortHelper.SendAll(port, q, burst);
                        for (int i = 0; i < burst.Length; i++)
                            Assert.Equal(TestFrames.Build(q * 1000 + i, 90, Seed), capture.Receive(TimeSpan.FromSeconds(5)));
                    }
                }

                // Kernel to port: the TAP steers flows by hash over the queues; each frame arrives once.
                using RawSocket kernel = RawSocket.Open(name, 0x0800);
                var seen = new int[total];
                var perQueue = new int[queues];
                var rx = new Packet[64];
                int received = 0;
                for (int sent = 0; sent < total;)
                {
                    int batch = Math.Min(200, total - sent);
                    for (int i = 0; i < batch; i++)
                        kernel.Send(FlowFrames.Build(sent + i, 100, flows));
                    sent += batch;
                    var clock = Stopwatch.StartNew();
                    while (received < sent && clock.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        for (int q = 0; q < queues; q++)
                        {
                            int n = port.RxBurst(q, rx);
                            for (int i = 0; i < n; i++)
                            {
                                byte[] got = PortHelper.Bytes(rx[i]);
                                long seq = FlowFrames.SequenceOf(got);
                                Assert.InRange(seq, 0, sent - 1);
                                Assert.Equal(FlowFrames.Build((int)seq, 100, flows), got);
                                seen[seq]++;
                            }
                            Packet.FreeBulk(rx.AsSpan(0, n));
                            perQueue[q] += n;
                            received += n;
                        }
                    }
                    Assert.Equal(sent, received);
                }
                Assert.All(seen, c => Assert.Equal(1, c));
                Assert.True(perQueue.Count(c => c > 0) >= 2, $"flows did not spread: {string.Join(", ", perQueue)}");
            }
            Assert.Equal(0, pool.InUse);
        }
        finally
        {
            Cleanup(name);
        }
    }
}
