using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Telemetry;
using PacketPlane.Tests.Eal;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Fuzz;

/// <summary>
/// 100,000 mutated inputs per parser (PACKETPLANE_FUZZ_ITERATIONS): no crash, no out-of-bounds access, only errors
/// that name the problem. In the EAL collection because the device-string target creates and closes ports.
/// </summary>
[Collection(EalCollection.Name)]
public class ParserFuzzTests(ITestOutputHelper output)
{
    /// <summary>Drivers whose devices the fuzzer may really create: they touch no host state. Others are parsed and checked only.</summary>
    private static readonly HashSet<string> s_creatable = new(StringComparer.Ordinal) { "net_null" };

    private static readonly string[] s_deviceSeeds =
    [
        "net_null0", "net_null1,size=64", "net_null2,size=0x40,copy=1,no-rx=0", "net_null3,copy=true,no-rx=yes",
        "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap,infinite_rx=1", "net_af_xdp0,iface=veth0,start_queue=0,queue_count=2",
        "net_tap0,iface=pp0,mac=02:00:00:00:00:01", "net_ring0,nodeaction=[r0:0:CREATE]", "0000:03:00.0", "net_af_packet0,iface=veth1,qpairs=2",
        "virtio_user0,path=/tmp/vhost.sock,queues=2", "net_vhost0,iface=/tmp/s,queues=(1,2)",
    ];

    private static readonly string[] s_deviceTokens = ["net_null", "net_", ",", "=", ",,", "[", "]", "(", ")", "size=", "copy=", "no-rx=", "iface=", " ", "\t", "\0", "é", "0x", "true", "=="];

    [Fact]
    public void Device_strings_parse_check_and_create_or_fail_with_a_device_error()
    {
        using var _ = QuietLogs();
        int created = 0;
        int portsBefore = EthDev.All.Count;
        FuzzResult r = Fuzzer.Run("device strings", s_deviceSeeds.Select(Encoding.UTF8.GetBytes), s_deviceTokens, input =>
        {
            string text = Fuzzer.Text(input);
            DeviceArguments args = DeviceArguments.Parse(text);
            EthDriver driver = EthDriverRegistry.Find(args.DeviceName);
            args.CheckKeys(driver.Name, driver.Parameters);
            if (!s_creatable.Contains(driver.Name))
                return;
            using EthDev port = EthDev.Create(text);
            created++;
            Assert.Equal(args.DeviceName, port.Name);
        }, Fuzzer.ControlPathError);
        output.WriteLine(r + $", {created} ports created and closed");
        Assert.True(r.Accepted > 1000 && r.Rejected > 1000, r.ToString());
        Assert.Equal(portsBefore, EthDev.All.Count); // every created port was closed, even after a failed Configure
    }

    private static readonly string[][] s_ealSeeds =
    [
        ["-l", "0-1", "--no-huge", "--vdev", "net_null0", "--", "app", "-p", "0x3"],
        ["-c", "0x3", "--main-lcore", "1", "-m", "512", "-n", "4"],
        ["--lcores", "1@0,2@1", "--socket-mem", "512,512", "--iova-mode", "va", "--log-level", "lib.eal:debug"],
        ["-a", "0000:03:00.0", "-b", "03:00.1", "--file-prefix", "pp", "--telemetry", "--in-memory", "--huge-dir", "/dev/hugepages", "--no-pci"],
        ["-l0-3,5", "--log-level=7", "--iova-mode=pa", "--no-telemetry"],
    ];

    private static readonly string[] s_ealTokens = ["-", "--", "-l", "-c", "--lcores", "@", ",", "=", "0-", "--vdev", "--socket-mem", "--main-lcore", "--log-level", "0000:", ":00.", "\0", "0x"];

    [Fact]
    public void Eal_arguments_parse_or_fail_with_an_eal_argument_error()
    {
        FuzzResult r = Fuzzer.Run("EAL arguments", s_ealSeeds.Select(a => Fuzzer.JoinArguments(a)), s_ealTokens, input =>
        {
            EalOptions o = EalArguments.Parse(Fuzzer.Arguments(input), out string[] app);
            Assert.NotNull(app);
            Assert.All(o.Lcores, kv => Assert.InRange(kv.Value, 0, 1023));
        }, e => Fuzzer.ControlPathError(e) && e is EalArgumentException);
        output.WriteLine(r.ToString());
        Assert.True(r.Accepted > 1000 && r.Rejected > 1000, r.ToString());
    }

    private static readonly string[] s_telemetrySeeds =
    [
        "/", "/info", "/help,/ethdev/stats", "/ethdev/list", "/ethdev/stats,0", "/ethdev/xstats,0", "/ethdev/link_status,0",
        "/ethdev/info,0", "/mempool/list", "/mempool/info,fuzz_pool", "/eal/lcore/list", "/eal/lcore/info,0",
    ];

    [Fact]
    public void Telemetry_requests_always_get_one_valid_json_reply_within_max_output_len()
    {
        using var _ = QuietLogs();
        using var pool = PacketPlane.Memory.MbufPool.Create("fuzz_pool", 256, 0);
        using EthDev port = EthDev.Create("net_null60");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        FuzzResult r = Fuzzer.Run("telemetry requests", s_telemetrySeeds.Select(Encoding.UTF8.GetBytes), [",", "/", "\0", "0x", "/ethdev/", "/help,"], input =>
        {
            string reply = TelemetryCommands.Execute(TelemetryRequest.Parse(input));
            Assert.True(Encoding.UTF8.GetByteCount(reply) <= TelemetryCommands.MaxOutputLength);
            using JsonDocument doc = JsonDocument.Parse(reply);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.Single(doc.RootElement.EnumerateObject());
        }, _ => false); // Execute must never throw
        output.WriteLine(r.ToString());
    }

    [Fact]
    public void Capture_filters_parse_or_fail_with_an_argument_error_and_matching_never_throws()
    {
        byte[][] frames = [CaptureFilterTestsFrames.Udp4, CaptureFilterTestsFrames.Tcp6, new byte[3], new byte[60]];
        var random = new Random(Fuzzer.DefaultSeed);
        string[] seeds = ["ip and udp and dst port 4789", "ether proto 0x88b5", "vlan and ip6 and tcp and src port 443", "icmp", "ip proto 132 and port 9", ""];
        FuzzResult r = Fuzzer.Run("capture filters", seeds.Select(Encoding.UTF8.GetBytes), ["and", " ", "port", "proto", "ether", "ip", "0x", "&&"], input =>
        {
            CaptureFilter f = CaptureFilter.Parse(Fuzzer.Text(input));
            byte[] frame = frames[random.Next(frames.Length)];
            f.Matches(frame.AsSpan(0, random.Next(frame.Length + 1)));
        }, e => e is ArgumentException && e.Message.Contains("capture filter", StringComparison.Ordinal));
        output.WriteLine(r.ToString());
        Assert.True(r.Accepted > 1000 && r.Rejected > 1000, r.ToString());
    }

    private static IDisposable QuietLogs()
    {
        Internal.Log.Factory = NullLoggerFactory.Instance;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => Internal.Log.Reset();
    }
}

internal static class CaptureFilterTestsFrames
{
    public static readonly byte[] Udp4 = Telemetry.CaptureFilterTests.Udp4();
    public static readonly byte[] Tcp6 = Telemetry.CaptureFilterTests.Tcp6(1, 2);
}
