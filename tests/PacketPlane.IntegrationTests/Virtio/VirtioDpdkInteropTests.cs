using System;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.IntegrationTests.Virtio;

/// <summary>
/// Interop with DPDK 22.11 (Debian's dpdk-testpmd): our virtio-user against DPDK's net_vhost, and DPDK's
/// net_virtio_user against our net_vhost. testpmd echoes (io forwarding, port looped to itself); we send a million
/// numbered frames of 60..1514 bytes and check every one comes back exactly, and testpmd's counters agree.
/// </summary>
[Collection("virtio-dpdk")]
[Trait("Requires", "dpdk-testpmd")]
public sealed class VirtioDpdkInteropTests : IDisposable
{
    private const long Million = 1_000_000;
    private static int s_next;
    private readonly ITestOutputHelper _out;
    private readonly string _dir;
    private readonly string _sock;

    public VirtioDpdkInteropTests(ITestOutputHelper output)
    {
        _out = output;
        _dir = Directory.CreateTempSubdirectory("ppvdpdk").FullName;
        _sock = Path.Combine(_dir, "vhost.sock");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int NextId() => Interlocked.Increment(ref s_next);

    private static void Require() =>
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages, Requirement.DpdkTestpmd);

    [SkippableTheory]
    [InlineData(false, false, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, false)]
    [InlineData(false, true, true)]
    [InlineData(true, false, false)]
    [InlineData(true, false, true)]
    [InlineData(true, true, false)]
    [InlineData(true, true, true)]
    public void Our_virtio_user_against_dpdk_vhost_echoes_a_million_frames(bool packed, bool mrg, bool weListen)
    {
        Require();
        // With merged buffers our RX buffers are 1 KiB, so DPDK spreads larger frames over several of them.
        using MbufPool pool = MbufPool.Create("vu_dpdk" + NextId(), 8192, cacheSize: 256, dataRoomSize: (mrg ? 1024 : 2048) + 128);
        using MbufPool txPool = MbufPool.Create("vu_dpdk_tx" + NextId(), 4096, cacheSize: 256);
        string ours = $"net_virtio_user{NextId()},path={_sock},queue_size=1024,packed_vq={B(packed)},mrg_rxbuf={B(mrg)},in_order=1{(weListen ? ",server=1" : "")}";
        EthDev? port = null;
        if (weListen)
            port = Create(ours, pool);
        using Testpmd tp = Testpmd.Start($"net_vhost0,iface={_sock}{(weListen ? ",client=1" : "")}");
        port ??= Create(ours, pool);
        try
        {
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp, "our virtio-user link did not come up");
            tp.StartForwarding("io");
            EchoTraffic.Result r = EchoTraffic.Run(port, txPool, Million, window: 384);
            _out.WriteLine($"virtio-user vs DPDK vhost packed={packed} mrg={mrg} server={weListen}: {r.Received} back in {r.Seconds:F1} s ({r.Mpps:F2} Mpps echo)");
            Diagnose(tp, port);
            Assert.Equal(Million, r.Sent);
            Assert.Equal(Million, r.Received);
            Assert.Equal(0, r.Wrong);
            (ulong rx, ulong tx) = tp.PortStats();
            Assert.Equal((ulong)Million, rx);
            Assert.Equal((ulong)Million, tx);
            PortStats ours2 = port.GetStats();
            Assert.Equal((ulong)Million, ours2.OutPackets);
            Assert.Equal((ulong)Million, ours2.InPackets);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, txPool.InUse);
    }

    [SkippableTheory]
    [InlineData(false, false, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, false)]
    [InlineData(false, true, true)]
    [InlineData(true, false, false)]
    [InlineData(true, false, true)]
    [InlineData(true, true, false)]
    [InlineData(true, true, true)]
    public void Dpdk_virtio_user_against_our_vhost_echoes_a_million_frames(bool packed, bool mrg, bool weConnect)
    {
        Require();
        // 1 KiB receive buffers: frames above that arrive from DPDK as chained mbufs.
        using MbufPool pool = MbufPool.Create("vh_dpdk" + NextId(), 8192, cacheSize: 256, dataRoomSize: 1024 + 128);
        using MbufPool txPool = MbufPool.Create("vh_dpdk_tx" + NextId(), 4096, cacheSize: 256);
        string ours = $"net_vhost{NextId()},iface={_sock}{(weConnect ? ",client=1" : "")}";
        EthDev? port = null;
        if (!weConnect)
            port = Create(ours, pool);
        // With merged buffers testpmd's mbufs hold 1 KiB, so larger frames span buffers on DPDK's side too.
        using Testpmd tp = Testpmd.Start(
            $"net_virtio_user0,path={_sock},queue_size=1024,packed_vq={B(packed)},mrg_rxbuf={B(mrg)}{(weConnect ? ",server=1" : "")}",
            extraEal: "--single-file-segments", extraApp: mrg ? "--mbuf-size=1152 --enable-scatter" : "", waitReady: !weConnect);
        if (weConnect)
        {
            // DPDK's virtio-user in server mode waits for us before it finishes starting.
            WaitForSocket(_sock);
            port = Create(ours, pool);
            tp.WaitReady();   // a failure here still disposes tp (using) and, below, our port
        }
        Assert.NotNull(port);
        try
        {
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp, "our vhost link did not come up");
            tp.StartForwarding("io");
            EchoTraffic.Result r = EchoTraffic.Run(port, txPool, Million, window: mrg ? 160 : 384);
            _out.WriteLine($"DPDK virtio-user vs our vhost packed={packed} mrg={mrg} client={weConnect}: {r.Received} back in {r.Seconds:F1} s ({r.Mpps:F2} Mpps echo)");
            Diagnose(tp, port);
            Assert.Equal(Million, r.Sent);
            Assert.Equal(Million, r.Received);
            Assert.Equal(0, r.Wrong);
            (ulong rx, ulong tx) = tp.PortStats();
            Assert.Equal((ulong)Million, rx);
            Assert.Equal((ulong)Million, tx);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, txPool.InUse);
    }

    private static EthDev Create(string device, MbufPool pool)
    {
        EthDev port = EthDev.Create(device);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 1024, pool);
        port.SetupTxQueue(0, 1024);
        port.Start();
        return port;
    }

    private static int B(bool b) => b ? 1 : 0;

    private void Diagnose(Testpmd tp, EthDev port)
    {
        PortStats s = port.GetStats();
        _out.WriteLine($"ours: in {s.InPackets} out {s.OutPackets} in-errors {s.InErrors} out-errors {s.OutErrors} rx-nombuf {s.RxNoMbuf} missed {s.InMissed}");
        foreach (XStat x in port.GetXStats())
        {
            if (x.Value != 0 && x.Name.StartsWith("vhost", StringComparison.Ordinal))
                _out.WriteLine($"  {x.Name} {x.Value}");
        }
        int from = tp.Output.Length;
        tp.Send("show port stats 0");
        tp.Send("show fwd stats all");
        Thread.Sleep(500);
        _out.WriteLine(tp.Output[from..]);
    }

    private static void WaitForSocket(string path)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(path) && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Assert.True(File.Exists(path), $"dpdk-testpmd did not create {path}");
    }
}
