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
/// A DPDK peer SIGKILLed in the middle of traffic: our link goes down, bursts go on without crashing, every mbuf
/// returns to its pool, and when the peer comes back (it reconnects to our listening socket, or we accept it
/// again) traffic resumes, checked frame by frame.
/// </summary>
[Collection("virtio-dpdk")]
[Trait("Requires", "dpdk-testpmd")]
public sealed class VirtioDpdkPeerLossTests : IDisposable
{
    private static int s_next;
    private readonly ITestOutputHelper _out;
    private readonly string _dir = Directory.CreateTempSubdirectory("ppvloss").FullName;
    private readonly string _sock;

    public VirtioDpdkPeerLossTests(ITestOutputHelper output)
    {
        _out = output;
        _sock = Path.Combine(_dir, "vhost.sock");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Server_mode_virtio_user_survives_dpdk_vhost_killed_and_resumes_when_it_returns(bool packed)
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages, Requirement.DpdkTestpmd);
        int id = Interlocked.Increment(ref s_next);
        using MbufPool pool = MbufPool.Create("vloss_rx" + id, 8192, cacheSize: 256);
        using MbufPool txPool = MbufPool.Create("vloss_tx" + id, 4096, cacheSize: 256);
        EthDev port = Create($"net_virtio_user{100 + id},path={_sock},server=1,queue_size=1024,packed_vq={(packed ? 1 : 0)}", pool);
        string vdev = $"net_vhost0,iface={_sock},client=1";
        try
        {
            using Testpmd first = Testpmd.Start(vdev);
            first.StartForwarding("io");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp);
            long before = BlindTraffic.Run(port, txPool, TimeSpan.FromSeconds(4), midway: first.Kill9);
            first.Dispose();
            _out.WriteLine($"{before} frames echoed before and around the kill");
            Assert.True(before > 0);
            Assert.False(WaitLink(port, up: false).IsUp, "link still up after the backend died");
            Assert.Equal(0, BlindTraffic.Run(port, txPool, TimeSpan.FromSeconds(1)));   // nothing comes, nothing breaks

            using Testpmd second = Testpmd.Start(vdev);
            second.StartForwarding("io");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp, "no reconnection after the backend came back");
            long stale = BlindTraffic.Drain(port, TimeSpan.FromSeconds(2));   // frames queued before the kill come back now
            _out.WriteLine($"{stale} frames queued before the kill were delivered after the reconnection");
            EchoTraffic.Result r = EchoTraffic.Run(port, txPool, 100_000, window: 384, fixedSize: 0, firstSeq: 5_000_000);
            _out.WriteLine($"after reconnection: {r.Received} of 100000 back, {r.Wrong} wrong");
            Assert.Equal(100_000, r.Received);
            Assert.Equal(0, r.Wrong);
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, txPool.InUse);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Vhost_backend_survives_dpdk_virtio_user_killed_and_serves_it_again(bool packed)
    {
        Prerequisites.Require(Requirement.Root, Requirement.Hugepages, Requirement.DpdkTestpmd);
        int id = Interlocked.Increment(ref s_next);
        using MbufPool pool = MbufPool.Create("vhloss_rx" + id, 8192, cacheSize: 256);
        using MbufPool txPool = MbufPool.Create("vhloss_tx" + id, 4096, cacheSize: 256);
        int inUseAtStart = pool.InUse;
        EthDev port = Create($"net_vhost{100 + id},iface={_sock}", pool);
        string vdev = $"net_virtio_user0,path={_sock},queue_size=1024,packed_vq={(packed ? 1 : 0)}";
        try
        {
            using Testpmd first = Testpmd.Start(vdev, extraEal: "--single-file-segments");
            first.StartForwarding("io");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp);
            long before = BlindTraffic.Run(port, txPool, TimeSpan.FromSeconds(4), midway: first.Kill9);
            first.Dispose();
            _out.WriteLine($"{before} frames echoed before and around the kill");
            Assert.True(before > 0);
            Assert.False(WaitLink(port, up: false).IsUp, "link still up after the frontend died");
            Assert.Equal(0, BlindTraffic.Run(port, txPool, TimeSpan.FromSeconds(1)));
            Assert.Equal(inUseAtStart, pool.InUse);           // the backend holds no mbufs between bursts

            using Testpmd second = Testpmd.Start(vdev, extraEal: "--single-file-segments");
            second.StartForwarding("io");
            Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp, "the restarted frontend was not served");
            EchoTraffic.Result r = EchoTraffic.Run(port, txPool, 100_000, window: 384, firstSeq: 5_000_000);
            _out.WriteLine($"after reconnection: {r.Received} of 100000 back, {r.Wrong} wrong");
            Assert.Equal(100_000, r.Received);
            Assert.Equal(0, r.Wrong);
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

    private static LinkStatus WaitLink(EthDev port, bool up)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (port.Link.IsUp != up && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        return port.Link;
    }
}
