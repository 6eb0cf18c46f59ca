using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using static PacketPlane.IntegrationTests.AfXdp.AfXdpTestSupport;

namespace PacketPlane.IntegrationTests.AfXdp;

/// <summary>
/// net_af_xdp moving real frames over veth pairs (native XDP, copy mode). Frames the peer namespace sends arrive
/// at the host end from the peer's TX and run the host end's XDP program; frames the port sends leave through
/// the host end's TX (xsk_generic_xmit) to the peer. Neither direction needs an XDP program on the peer.
/// </summary>
[Collection(AfXdpCollection.Name)]
public class AfXdpTrafficTests
{
    private static readonly int[] Sizes = [60, 64, 65, 128, 512, 1000, 1514];

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Frames_sent_from_the_peer_arrive_byte_for_byte()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_rx_bytes", 4096, cacheSize: 0);
        int inUseBefore = pool.InUse;
        EthDev port = Open($"iface={veth.HostInterface}", pool);
        try
        {
            const int PerSize = 20;
            foreach (int size in Sizes)
                SendFromPeer(veth, PerSize, size, seed: size);
            var headrooms = new HashSet<int>();
            List<byte[]> frames = Receive(port, 0, PerSize * Sizes.Length, TimeSpan.FromSeconds(20), p =>
            {
                Assert.Equal(port.PortId, p.Port);
                Assert.Equal(1, p.SegmentCount);
                headrooms.Add(p.Headroom);
            });

            var seen = new HashSet<(int Size, long Seq)>();
            foreach (byte[] f in frames)
            {
                long seq = TestFrames.SequenceOf(f);
                Assert.InRange(seq, 0, PerSize - 1);
                Assert.Contains(f.Length, Sizes);
                Assert.Equal(TestFrames.Build((int)seq, f.Length, seed: f.Length), f);
                Assert.True(seen.Add((f.Length, seq)), $"frame {seq} of size {f.Length} arrived twice");
            }
            Assert.Equal(PerSize * Sizes.Length, seen.Count);
            // Data sits after the pool headroom and the kernel's XDP_PACKET_HEADROOM, in the mbuf itself (no copy).
            Assert.Equal([pool.Headroom + 256], headrooms);
            // Zero-copy was asked for first; veth has none (no ndo_xsk_wakeup), so the kernel refused and copy mode was used.
            Assert.StartsWith("AF_XDP copy mode (zero-copy refused by the driver: errno 95", port.Info.Mode);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(inUseBefore, pool.InUse);
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Frames_sent_by_the_port_arrive_at_the_peer_byte_for_byte_in_place_copied_and_chained()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_tx_umem", 4096, cacheSize: 0);
        using MbufPool other = MbufPool.Create("xdp_tx_other", 1024, cacheSize: 0);
        int before = pool.InUse, otherBefore = other.InUse;
        const int PerKind = 100;
        string outFile = Path.Combine(Path.GetTempPath(), $"xdp-tx-{Environment.ProcessId}.hex");
        using Process receiver = Shell.Start($"ip netns exec {veth.Namespace} /usr/bin/python3 {TestFrames.RawSockScript} recv {veth.PeerInterface} {3 * PerKind} 20 {outFile}");
        Thread.Sleep(1500); // rawsock.py binds its socket first
        EthDev port = Open($"iface={veth.HostInterface}", pool);
        var expected = new HashSet<string>();
        try
        {
            var packets = new List<Packet>();
            for (int i = 0; i < PerKind; i++)
            {
                int size = Sizes[i % Sizes.Length];
                packets.Add(Frame(pool, i, size, seed: 1));                // lives in the UMEM: sent in place
                packets.Add(Frame(other, i, size, seed: 2));               // another pool: copied in
                packets.Add(Chained(other, i, size, seed: 3));             // two segments: linearised
                expected.Add(Convert.ToHexString(TestFrames.Build(i, size, 1)).ToLowerInvariant());
                expected.Add(Convert.ToHexString(TestFrames.Build(i, size, 2)).ToLowerInvariant());
                expected.Add(Convert.ToHexString(TestFrames.Build(i, size, 3)).ToLowerInvariant());
            }
            Packet[] all = packets.ToArray();
            int sent = 0;
            var clock = Stopwatch.StartNew();
            while (sent < all.Length && clock.Elapsed < TimeSpan.FromSeconds(10))
                sent += port.TxBurst(0, all.AsSpan(sent, Math.Min(32, all.Length - sent)));
            Assert.Equal(all.Length, sent);
            Assert.True(receiver.WaitForExit(30_000), "rawsock.py recv did not finish");
            string[] got = File.ReadAllLines(outFile).Where(l => l.Length > 0).ToArray();
            Assert.Equal(expected.Count, got.Length);
            Assert.Equal(expected, got.ToHashSet());

            var xstats = port.GetXStats().ToDictionary(x => x.Name, x => x.Value);
            Assert.Equal((ulong)PerKind, xstats["tx_q0_sent_in_place"]);
            Assert.Equal((ulong)(2 * PerKind), xstats["tx_q0_sent_copied"]);
            Assert.Equal((ulong)(3 * PerKind), port.GetStats().OutPackets);
        }
        finally
        {
            port.Close();
            File.Delete(outFile);
        }
        Assert.Equal(before, pool.InUse);
        Assert.Equal(otherBefore, other.InUse);
    }

    private static Packet Frame(MbufPool pool, int index, int size, int seed)
    {
        Packet p = pool.Alloc();
        Assert.False(p.IsNull);
        Assert.True(p.TrySetLength(size));
        TestFrames.Build(p.Data, index, size, seed);
        return p;
    }

    private static Packet Chained(MbufPool pool, int index, int size, int seed)
    {
        byte[] bytes = TestFrames.Build(index, size, seed);
        int split = size / 3;
        Packet head = pool.Alloc(), tail = pool.Alloc();
        Assert.True(head.TrySetLength(split) && tail.TrySetLength(size - split));
        bytes.AsSpan(0, split).CopyTo(head.Data);
        bytes.AsSpan(split).CopyTo(tail.Data);
        Assert.True(head.TryChain(tail));
        Assert.Equal(2, head.SegmentCount);
        return head;
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void A_million_frames_at_a_moderate_rate_arrive_with_none_lost()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int Count = 1_000_000;
        const int Size = 64;
        using VethPair veth = VethPair.Create();
        // 8192 frames in the FILL ring ride out ~150 ms without a poll: this machine has 2 vCPUs shared with the
        // sender, its softirq work and whatever else runs, and the test is about loss in the driver, not scheduling.
        using MbufPool pool = MbufPool.Create("xdp_million", 16384, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface}", pool, descriptors: 8192);
        var seen = new bool[Count];
        int received = 0, duplicates = 0, corrupt = 0;
        try
        {
            // rawsock.py paces itself to 50 kpps (Python reaches about 70 kpps here at most).
            using Process sender = Shell.Start($"ip netns exec {veth.Namespace} /usr/bin/python3 {TestFrames.RawSockScript} send {veth.PeerInterface} {Count} {Size} 7 50000");
            var burst = new Packet[64];
            Span<byte> expected = stackalloc byte[Size];
            var clock = Stopwatch.StartNew();
            DateTime? senderDone = null;
            while (received < Count && (senderDone is null || DateTime.UtcNow - senderDone < TimeSpan.FromSeconds(5)) && clock.Elapsed < TimeSpan.FromMinutes(4))
            {
                int n = port.RxBurst(0, burst);
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<byte> f = burst[i].Data;
                    long seq = TestFrames.SequenceOf(f);
                    if (seq < 0 || seq >= Count || f.Length != Size)
                    {
                        corrupt++;
                        continue;
                    }
                    TestFrames.Build(expected, (int)seq, Size, 7);
                    if (!f.SequenceEqual(expected))
                        corrupt++;
                    if (seen[seq])
                        duplicates++;
                    seen[seq] = true;
                    received++;
                }
                Packet.FreeBulk(burst.AsSpan(0, n));
                if (senderDone is null && sender.HasExited)
                    senderDone = DateTime.UtcNow;
            }
            var x = port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
            string kernel = $"kernel: rx_dropped {x["rx_q0_xsk_rx_dropped"]}, rx_ring_full {x["rx_q0_xsk_rx_ring_full"]}, fill_ring_empty {x["rx_q0_xsk_fill_ring_empty"]}; " +
                $"sender exit {(sender.HasExited ? sender.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "running")} after {clock.Elapsed.TotalSeconds:F1} s";
            Assert.True(received == Count, $"received {received} of {Count} ({kernel})");
            Assert.Equal(0, duplicates);
            Assert.Equal(0, corrupt);
            Assert.Equal(0UL, port.GetStats().InMissed);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableTheory]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    [InlineData("")]
    [InlineData(",shared_umem=1")]
    public void Multi_queue_veth_one_socket_per_queue_receives_every_frame_once(string extra)
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        const int Queues = 4, Flows = 64, PerFlow = 40;
        using VethPair veth = VethPair.Create(queues: Queues);
        using MbufPool pool = MbufPool.Create("xdp_mq", 8192, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface},queue_count={Queues}{extra}", pool, queues: Queues, descriptors: 512);
        var perQueue = new int[Queues];
        var seen = new Dictionary<uint, int>();
        try
        {
            // UDP from many source ports: the peer's stack hashes each flow to a TX queue, and a veth delivers TX
            // queue i of one end to RX queue i of the other, where the XDP program redirects to socket i.
            string mac = port.MacAddress.ToString();
            veth.InPeer($"ip addr add 10.99.77.2/24 dev {veth.PeerInterface}");
            veth.InPeer($"ip neigh replace 10.99.77.1 lladdr {mac} dev {veth.PeerInterface} nud permanent");
            string script = Path.Combine(Path.GetTempPath(), $"xdp-mq-{Environment.ProcessId}.py");
            File.WriteAllText(script, $$"""
                import socket, struct, time
                seq = 0
                for flow in range({{Flows}}):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(('10.99.77.2', 20000 + flow))
                    for k in range({{PerFlow}}):
                        s.sendto(struct.pack('>I', seq), ('10.99.77.1', 9))
                        seq += 1
                    s.close()
                    time.sleep(0.002)
                """);
            using Process sender = Shell.Start($"ip netns exec {veth.Namespace} /usr/bin/python3 {script}");
            var burst = new Packet[32];
            var clock = Stopwatch.StartNew();
            int total = 0;
            while (total < Flows * PerFlow && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                for (int q = 0; q < Queues; q++)
                {
                    int n = port.RxBurst(q, burst);
                    for (int i = 0; i < n; i++)
                    {
                        ReadOnlySpan<byte> f = burst[i].Data;
                        // Ethernet 14 + IPv4 20 + UDP 8, then the 4-byte sequence number.
                        if (f.Length >= 46 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17)
                        {
                            uint seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f[42..]);
                            seen[seq] = seen.GetValueOrDefault(seq) + 1;
                            perQueue[q]++;
                            total++;
                        }
                    }
                    Packet.FreeBulk(burst.AsSpan(0, n));
                }
            }
            sender.WaitForExit(10_000);
            File.Delete(script);
            Assert.Equal(Flows * PerFlow, seen.Count);
            Assert.All(seen, kv => Assert.Equal(1, kv.Value));
            Assert.True(perQueue.All(c => c > 0), $"frames per queue: {string.Join(", ", perQueue)} (each of {Queues} queues should get some of {Flows} flows)");
            var stats = port.GetStats();
            for (int q = 0; q < Queues; q++)
                Assert.Equal((ulong)perQueue[q], stats.RxQueues[q].Packets);
            // With shared_umem=1 the first socket registers the pool and the other three bind to its UMEM.
            var x = port.GetXStats().ToDictionary(v => v.Name, v => v.Value);
            ulong shared = Enumerable.Range(0, Queues).Select(q => x[$"rx_q{q}_shared_umem"]).Aggregate((u, v) => u + v);
            Assert.Equal(extra.Length == 0 ? 0UL : Queues - 1, shared);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Busy_polling_and_forced_copy_mode_are_applied_and_reported()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_busy", 4096, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface},busy_budget=64,force_copy=1", pool);
        try
        {
            string mode = port.Info.Mode!;
            Assert.StartsWith("AF_XDP copy mode, XDP native (driver) via bpf_link", mode); // no zero-copy attempt, so no refusal
            Assert.Contains("busy poll budget 64", mode);
            SendFromPeer(veth, 50, 64, seed: 4);
            Assert.Equal(50, Receive(port, 0, 50, TimeSpan.FromSeconds(10)).Count);
            // With busy polling every empty poll kicks the kernel with recvfrom(MSG_DONTWAIT), as DPDK does.
            Assert.Empty(Receive(port, 0, 1, TimeSpan.FromMilliseconds(100)));
            Assert.True(port.GetXStats().Single(x => x.Name == "rx_q0_wakeups").Value > 0);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Two_ports_on_different_queues_of_one_interface_share_its_program()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        using MbufPool pool = MbufPool.Create("xdp_two_ports", 8192, cacheSize: 0);
        EthDev first = Open($"iface={veth.HostInterface},start_queue=0", pool);
        EthDev second = Open($"iface={veth.HostInterface},start_queue=1", pool);
        uint id = XdpState(veth.HostInterface).ProgramId;
        first.Close();
        Assert.Equal(id, XdpState(veth.HostInterface).ProgramId); // still used by the second port
        second.Close();
        AssertNoProgram(veth.HostInterface);
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Info_link_mtu_and_flags_come_from_the_interface()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_info", 4096, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface}", pool);
        try
        {
            DevInfo info = port.Info;
            Assert.Equal("net_af_xdp", info.DriverName);
            Assert.Equal((int)PacketPlane.Interop.Libc.if_nametoindex(veth.HostInterface), info.InterfaceIndex);
            Assert.Equal(2304 - 256 - 256, info.MaxRxPacketLength); // chunk - UMEM headroom - XDP_PACKET_HEADROOM
            Assert.Equal(1792 - 18, info.MaxMtu);
            Assert.Equal(1, info.MaxRxQueues);

            Assert.True(port.Link.IsUp);
            Shell.Run($"ip link set {veth.HostInterface} down");
            Assert.False(port.Link.IsUp);
            Shell.Run($"ip link set {veth.HostInterface} up");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(5)).IsUp);

            port.SetMtu(1400);
            Assert.Contains("mtu 1400", Shell.Run($"ip link show dev {veth.HostInterface}"));
            Assert.Equal(1400, port.Mtu);
            Assert.Throws<EthDevException>(() => port.SetMtu(3000));

            port.Promiscuous = true;
            Assert.Contains("PROMISC", Shell.Run($"ip link show dev {veth.HostInterface}"));
            port.Promiscuous = false;
            Assert.Equal(Shell.Run($"cat /sys/class/net/{veth.HostInterface}/address").Trim(), port.MacAddress.ToString());
        }
        finally
        {
            port.Close();
        }
    }
}
