using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>Device strings and configuration errors of net_virtio_user and net_vhost name the problem and the fix.</summary>
[Collection(LcoreIdentity.Collection)]
public class VirtioUserArgumentTests
{
    private static int s_next;

    private static int Id() => 30_000 + Interlocked.Increment(ref s_next) + Environment.ProcessId % 1000 * 100;

    [Fact]
    public void A_client_with_no_backend_listening_says_how_to_start_one()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ppnobody{Id()}.sock");
        var e = Assert.Throws<EthDevException>(() => EthDev.Create($"net_virtio_user{Id()},path={path}"));
        Assert.Contains("no vhost-user backend is listening", e.Message);
        Assert.Contains("server=1", e.Message);
    }

    [Theory]
    [InlineData("queue_size=100", "not a power of two")]
    [InlineData("queue_size=65536", "queue_size")]
    [InlineData("queues=0", "queues")]
    [InlineData("mrg_rxbuf=maybe", "expected 0 or 1")]
    [InlineData("mac=zz", "not a MAC address")]
    [InlineData("speed=10", "unknown argument 'speed'")]
    public void Bad_arguments_are_refused_by_name(string arg, string expected)
    {
        var e = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_virtio_user{Id()},path=/tmp/x.sock,{arg}"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Path_is_required_and_must_fit_a_socket_address()
    {
        Assert.Contains("needs path=", Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"net_virtio_user{Id()}")).Message);
        Assert.Contains("too long", Assert.Throws<DeviceArgumentException>(() =>
            EthDev.Create($"net_vhost{Id()},iface=/tmp/{new string('a', 120)}")).Message);
    }

    [Fact]
    public void More_than_eight_memory_regions_are_refused_with_the_reason()
    {
        using var _ = LcoreIdentity.As(3);
        var pools = new List<MbufPool>();
        string dir = Directory.CreateTempSubdirectory("ppv8").FullName;
        try
        {
            for (int i = 0; i < 9; i++)
                pools.Add(MbufPool.Create($"v8_{Id()}", 256, cacheSize: 0));
            string sock = Path.Combine(dir, "v.sock");
            using EthDev backend = EthDev.Create($"net_vhost{Id()},iface={sock}");
            using EthDev frontend = EthDev.Create($"net_virtio_user{Id()},path={sock}");
            frontend.Configure(1, 1);
            frontend.SetupRxQueue(0, 256, pools[0]);
            frontend.SetupTxQueue(0, 256);
            var e = Assert.Throws<EthDevException>(frontend.Start);
            Assert.Contains("at most 8", e.Message);
            Assert.Contains("VHOST_MEMORY_MAX_NREGIONS", e.Message);
            Assert.Contains("fewer, larger pools", e.Message);
        }
        finally
        {
            foreach (MbufPool p in pools)
                p.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
