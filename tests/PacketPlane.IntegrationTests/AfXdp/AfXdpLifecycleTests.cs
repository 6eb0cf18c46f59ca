using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using static PacketPlane.IntegrationTests.AfXdp.AfXdpTestSupport;

namespace PacketPlane.IntegrationTests.AfXdp;

/// <summary>What is left after a port closes or its process dies, and what the datapath allocates.</summary>
[Collection(AfXdpCollection.Name)]
public class AfXdpLifecycleTests
{
    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Close_detaches_the_program_and_returns_every_mbuf_in_any_order()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        using MbufPool pool = MbufPool.Create("xdp_close", 8192, cacheSize: 0);
        int start = pool.InUse;

        EthDev port = Open($"iface={veth.HostInterface},queue_count=2", pool, queues: 2);
        XdpLinkState attached = XdpState(veth.HostInterface);
        Assert.True(attached.HasProgram);
        Assert.Equal(Netlink.XDP_ATTACHED_DRV, attached.Attached); // native XDP on veth
        Assert.Contains("name xsk_redirect", Shell.Run($"ip -d link show dev {veth.HostInterface}"));
        Assert.True(pool.InUse >= 2 * 1024, "the FILL rings hold the pool's mbufs while the port runs");
        // Leave frames in every state: in the RX ring unread, in flight on TX, and in the FILL ring.
        SendFromPeer(veth, 50, 64, seed: 1);
        var tx = new Packet[16];
        Assert.Equal(16, pool.AllocBulk(tx));
        foreach (Packet p in tx)
            Assert.True(p.TrySetLength(60));
        Assert.Equal(16, port.TxBurst(0, tx));

        port.Stop();
        Assert.True(XdpState(veth.HostInterface).HasProgram, "Stop keeps the program (as DPDK); Close removes it");
        port.Start();
        port.Stop();
        port.Close();
        Assert.Equal(start, pool.InUse);
        AssertNoProgram(veth.HostInterface);

        // Close straight from Started, and a second configure in between: same result.
        port = Open($"iface={veth.HostInterface}", pool);
        port.Stop();
        port.Configure(1, 1);
        port.SetupRxQueue(0, 512, pool);
        port.SetupTxQueue(0, 512);
        port.Start();
        SendFromPeer(veth, 10, 64, seed: 2);
        port.Close();
        Assert.Equal(start, pool.InUse);
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Killing_the_process_with_SIGKILL_leaves_no_program_on_the_interface()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        (Process host, string ready) = HostProcess.StartAndWaitReady("afxdp-port", $"net_af_xdp0,iface={veth.HostInterface}");
        using (host)
        {
            Assert.Contains("bpf_link", ready);
            XdpLinkState state = XdpState(veth.HostInterface);
            Assert.True(state.HasProgram);
            Assert.Contains("name xsk_redirect", Shell.Run($"ip -d link show dev {veth.HostInterface}"));
            HostProcess.Kill9(host);
        }
        // The bpf_link's last descriptor closed with the process: the kernel detached the program itself.
        AssertNoProgram(veth.HostInterface);

        // And the interface is usable again at once.
        using MbufPool pool = MbufPool.Create("xdp_after_kill", 4096, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface}", pool);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Without_bpf_link_the_program_is_attached_and_detached_through_rtnetlink()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_netlink", 4096, cacheSize: 0);
        PacketPlane.Drivers.AfXdp.XdpAttachment.SimulateKernelWithoutXdpLink = true;
        try
        {
            EthDev port = Open($"iface={veth.HostInterface}", pool);
            try
            {
                Assert.Contains("XDP native (driver) via rtnetlink", port.Info.Mode);
                Assert.Contains("name xsk_redirect", Shell.Run($"ip -d link show dev {veth.HostInterface}"));
                SendFromPeer(veth, 20, 64, seed: 5);
                Assert.Equal(20, Receive(port, 0, 20, TimeSpan.FromSeconds(10)).Count);
            }
            finally
            {
                port.Close();
            }
        }
        finally
        {
            PacketPlane.Drivers.AfXdp.XdpAttachment.SimulateKernelWithoutXdpLink = false;
        }
        AssertNoProgram(veth.HostInterface);
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    [Trait("Requires", "hugepages")]
    public void Mbufs_a_zero_copy_driver_would_refuse_are_never_given_to_the_kernel()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Hugepages);
        // veth has no zero-copy, so apply the zero-copy chunk rule in copy mode: mbufs whose 2304-byte chunk
        // crosses a 2 MiB hugepage boundary must stay out of FILL and be sent as copies.
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_straddle", 4096, cacheSize: 0);
        SkipUnlessCI(pool.Region.PageSize == 4096, "the pool did not get hugepages (other processes hold them)");
        var layout = PacketPlane.Drivers.AfXdp.UmemLayout.For(pool, "t");
        int straddling = layout.CountStraddling();
        Assert.InRange(straddling, 1, pool.Count / 100); // one per hugepage boundary
        PacketPlane.Drivers.AfXdp.XskSocket.ApplyZeroCopyChunkRuleInCopyMode = true;
        EthDev port;
        try
        {
            port = Open($"iface={veth.HostInterface}", pool, descriptors: 2048);
        }
        finally
        {
            PacketPlane.Drivers.AfXdp.XskSocket.ApplyZeroCopyChunkRuleInCopyMode = false;
        }
        try
        {
            var x = port.GetXStats().ToDictionary(v => v.Name, v => v.Value);
            Assert.True(x["rx_q0_set_aside_mbufs"] > 0, "the first 2048 mbufs include one across the first hugepage boundary");
            // Receive and send every mbuf of the pool through the port several times over.
            var tx = new Packet[32];
            for (int round = 0; round < 3 * pool.Count / 32; round++)
            {
                Assert.Equal(32, pool.AllocBulk(tx));
                foreach (Packet p in tx)
                    Assert.True(p.TrySetLength(60));
                int sent = port.TxBurst(0, tx);
                Packet.FreeBulk(tx.AsSpan(sent));
            }
            // Cycle the FILL ring through the pool: 3 x 1500 frames, each batch fitting the 2048-entry RX ring.
            int got = 0;
            var rx = new Packet[64];
            for (int batch = 0; batch < 3; batch++)
            {
                SendFromPeer(veth, 1500, 64, seed: 6);
                var clock = Stopwatch.StartNew();
                while (got < 1500 * (batch + 1) && clock.Elapsed < TimeSpan.FromSeconds(20))
                {
                    int n = port.RxBurst(0, rx);
                    for (int i = 0; i < n; i++)
                    {
                        uint index = layout.IndexOf((ulong)(rx[i].Address - pool.Region.BaseAddress));
                        Assert.False(layout.Straddles(index), $"mbuf {index} crosses a page boundary but was received into");
                    }
                    Packet.FreeBulk(rx.AsSpan(0, n));
                    got += n;
                }
            }
            Assert.Equal(4500, got);
            x = port.GetXStats().ToDictionary(v => v.Name, v => v.Value);
            Assert.True(x["tx_q0_sent_copied"] > 0, "mbufs across a boundary were sent as copies");
            Assert.Equal(0UL, x["rx_q0_xsk_rx_invalid_descs"]);
            Assert.InRange((long)(x["rx_q0_set_aside_mbufs"] + x["tx_q0_set_aside_mbufs"]), 1, 2 * straddling);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    public void RX_and_TX_bursts_allocate_nothing_over_a_million_packets()
    {
        Prerequisites.Require(Requirement.Root);
        // Both ends of one veth pair in this namespace, a port on each: A transmits, B receives.
        string a = $"ppza{Environment.ProcessId % 10000}", b = $"ppzb{Environment.ProcessId % 10000}";
        Shell.TryRun($"ip link del {a} 2>/dev/null");
        Shell.Run($"ip link add {a} type veth peer name {b}");
        try
        {
            foreach (string i in new[] { a, b })
            {
                Shell.Run($"sysctl -qw net.ipv6.conf.{i}.disable_ipv6=1");
                Shell.Run($"ip link set {i} multicast off up");
            }
            using MbufPool pool = MbufPool.Create("xdp_zalloc", 16384, cacheSize: 0);
            using MbufPool other = MbufPool.Create("xdp_zalloc_other", 4096, cacheSize: 0);
            EthDev tx = Open($"iface={a}", pool, descriptors: 2048);
            EthDev rx = Open($"iface={b}", pool, descriptors: 2048);
            try
            {
                var burst = new Packet[32];
                var got = new Packet[64];
                // Packets from the UMEM pool are sent in place; packets from another pool are copied in first.
                foreach (MbufPool source in new[] { pool, other })
                {
                    Run(tx, rx, source, burst, got, 50_000); // warm up: JIT, first touch of the rings
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    (long sent, long received) = Run(tx, rx, source, burst, got, 1_000_000);
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    Assert.True(sent >= 1_000_000 && received >= 1_000_000, $"{source.Name}: sent {sent}, received {received}");
                    Assert.True(allocated == 0, $"{source.Name}: {allocated} bytes allocated over {sent} TX and {received} RX packets");
                }
                var x = tx.GetXStats().ToDictionary(s => s.Name, s => s.Value);
                Assert.True(x["tx_q0_sent_in_place"] >= 1_000_000 && x["tx_q0_sent_copied"] >= 1_000_000);
            }
            finally
            {
                tx.Close();
                rx.Close();
            }
            Assert.Equal(0, pool.InUse);
            Assert.Equal(0, other.InUse);
        }
        finally
        {
            Shell.TryRun($"ip link del {a}");
        }
    }

    /// <summary>Sends bursts from <paramref name="tx"/> and receives on <paramref name="rx"/> until <paramref name="packets"/> arrived.</summary>
    private static (long Sent, long Received) Run(EthDev tx, EthDev rx, MbufPool pool, Packet[] burst, Packet[] got, long packets)
    {
        long sent = 0, received = 0, outstanding = 0;
        long deadline = Stopwatch.GetTimestamp() + 180 * Stopwatch.Frequency; // no Stopwatch object: the loop itself allocates nothing
        while (received < packets && Stopwatch.GetTimestamp() < deadline)
        {
            // Keep at most 4096 frames between the ports so B's FILL ring (2048 + what B's kernel side holds) keeps up.
            if (outstanding < 4096 && pool.AllocBulk(burst) == burst.Length)
            {
                for (int i = 0; i < burst.Length; i++)
                    burst[i].TrySetLength(60);
                int n = tx.TxBurst(0, burst);
                Packet.FreeBulk(burst.AsSpan(n));
                sent += n;
                outstanding += n;
            }
            int r = rx.RxBurst(0, got);
            Packet.FreeBulk(got.AsSpan(0, r));
            received += r;
            outstanding -= r;
            if (r == 0)
            {
                tx.TxBurst(0, Span<Packet>.Empty); // reclaims completions, kicks anything left
                if (outstanding >= 4096)
                    outstanding = 0; // nothing arrives: frames were dropped on the way (the kernel counts them); send more
            }
        }
        return (sent, received);
    }
}
