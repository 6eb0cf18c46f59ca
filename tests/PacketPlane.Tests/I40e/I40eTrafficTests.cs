using System;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Tests.Pci;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.I40e;

[Collection(NicModelCollection.Name)]
public class I40eTrafficTests(ITestOutputHelper output)
{
    private const long Frames = 1_000_000;
    private const long Warmup = 20_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData("scalar")]
    [InlineData("bulk")]
    public void A_million_frames_arrive_byte_exact_without_allocation(string rxPath)
    {
        var wire = new SequenceWire(Warmup + Frames, (i, f) => ModelFrames.Build(i, f, seed: 11), (i, f) => 0) { Sending = false };
        using var h = new I40eHarness(wire, poolSize: 8192, deviceArgs: $"rx_path={rxPath}");
        h.Start();
        wire.Sending = true; // the far end starts once the port is up: nothing is lost to a queue not yet enabled
        var sw = System.Diagnostics.Stopwatch.StartNew();
        (long allocated, long bytes) = TrafficLoops.ReceiveAndVerify(h.Port, 0, Warmup + Frames, Warmup, seed: 11, h.Model.ThrowIfViolated, Timeout);
        output.WriteLine($"{rxPath}: {Warmup + Frames} frames in {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(0, allocated);
        PortStats stats = h.Port.GetStats();
        Assert.Equal((ulong)(Warmup + Frames), stats.InPackets);
        Assert.Equal((ulong)bytes, stats.InBytes);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal((ulong)(Warmup + Frames), x["port_rx_unicast_packets"]);
        Assert.Equal((ulong)bytes, x["port_rx_bytes"]);
        Assert.Equal((ulong)(Warmup + Frames), x["vsi_rx_unicast_packets"]);
        Assert.Equal((ulong)bytes, x["vsi_rx_bytes"]);
        Assert.Equal(0ul, x["rx_dropped_packets"]);
    }

    [Fact]
    public void A_million_frames_leave_byte_exact_without_allocation()
    {
        var wire = new SequenceWire(0, (i, f) => 0, (i, f) => ModelFrames.Build(i, f, seed: 12));
        using var h = new I40eHarness(wire, poolSize: 8192);
        h.Start();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        (long allocated, long bytes) = TrafficLoops.Send(h.Port, 0, h.Pool, Warmup + Frames, Warmup, seed: 12, h.Model.ThrowIfViolated, Timeout);
        h.WaitFor(() => wire.Transmitted == Warmup + Frames, TimeSpan.FromSeconds(30), "every frame on the wire");
        output.WriteLine($"TX: {Warmup + Frames} frames in {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(0, allocated);
        Assert.Equal(0, wire.Mismatches);
        PortStats stats = h.Port.GetStats();
        Assert.Equal((ulong)(Warmup + Frames), stats.OutPackets);
        Assert.Equal((ulong)bytes, stats.OutBytes);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal((ulong)(Warmup + Frames), x["port_tx_unicast_packets"]);
        Assert.Equal((ulong)bytes, x["port_tx_bytes"]);
        Assert.Equal((ulong)bytes, x["vsi_tx_bytes"]);
    }
}
