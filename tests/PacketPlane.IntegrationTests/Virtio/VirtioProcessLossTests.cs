using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.IntegrationTests.Virtio;

/// <summary>
/// Our own vhost-user backend, in another process, SIGKILLed while our virtio-user (server mode, in this process)
/// sends to it: the link goes down, nothing is left behind, and a new backend process is served.
/// </summary>
[Collection("virtio-dpdk")]
public sealed class VirtioProcessLossTests : IDisposable
{
    private readonly ITestOutputHelper _out;
    private readonly string _dir = Directory.CreateTempSubdirectory("ppvproc").FullName;

    public VirtioProcessLossTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void Our_backend_process_killed_mid_stream_then_restarted()
    {
        Prerequisites.Require(Requirement.Root);
        string sock = Path.Combine(_dir, "vhost.sock");
        using MbufPool pool = MbufPool.Create("vproc_rx", 4096, cacheSize: 256);
        using MbufPool txPool = MbufPool.Create("vproc_tx", 4096, cacheSize: 256);
        EthDev port = EthDev.Create($"net_virtio_user77,path={sock},server=1,queue_size=1024");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 1024, pool);
        port.SetupTxQueue(0, 1024);
        port.Start();
        try
        {
            (Process first, _) = HostProcess.StartAndWaitReady("vhost-echo", $"net_vhost0,iface={sock},client=1");
            using Process firstHandle = first;
            long before;
            try
            {
                Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp);
                before = BlindTraffic.Run(port, txPool, TimeSpan.FromSeconds(3), midway: () => HostProcess.Kill9(first));
            }
            finally
            {
                if (!first.HasExited)
                    HostProcess.Kill9(first);
            }
            _out.WriteLine($"{before} frames echoed before and around the kill");
            Assert.True(before > 0);
            DateTime deadline = DateTime.UtcNow.AddSeconds(15);
            while (port.Link.IsUp && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
            Assert.False(port.Link.IsUp);

            (Process second, _) = HostProcess.StartAndWaitReady("vhost-echo", $"net_vhost0,iface={sock},client=1");
            try
            {
                Assert.True(port.WaitForLink(TimeSpan.FromSeconds(30)).IsUp);
                BlindTraffic.Drain(port, TimeSpan.FromSeconds(1));
                EchoTraffic.Result r = EchoTraffic.Run(port, txPool, 50_000, window: 384, firstSeq: 1_000_000);
                _out.WriteLine($"after the restart: {r.Received} of 50000 back, {r.Wrong} wrong");
                Assert.Equal(50_000, r.Received);
                Assert.Equal(0, r.Wrong);
            }
            finally
            {
                HostProcess.Kill9(second);
            }
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);
        Assert.Equal(0, txPool.InUse);
    }
}
