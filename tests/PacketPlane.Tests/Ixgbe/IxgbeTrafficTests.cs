using System;
using System.Linq;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.Tests.Pci;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Ixgbe;

[Collection(NicModelCollection.Name)]
public class IxgbeTrafficTests(ITestOutputHelper output)
{
    private const long Frames = 1_000_000;
    private const long Warmup = 20_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData("scalar")]
    [InlineData("bulk")]
    [InlineData("vector")]
    public void A_million_frames_arrive_byte_exact_without_allocation(string rxPath)
    {
        var wire = new SequenceWire(Warmup + Frames, (i, f) => ModelFrames.Build(i, f, seed: 1), (i, f) => ModelFrames.Build(i, f, seed: 2));
        using var h = new IxgbeHarness(wire, poolSize: 8192, deviceArgs: $"rx_path={rxPath}");
        h.Start();
        h.WaitFor(() => h.Port.Link.IsUp, TimeSpan.FromSeconds(5), "link up");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        (long allocated, long bytes) = TrafficLoops.ReceiveAndVerify(h.Port, 0, Warmup + Frames, Warmup, seed: 1, h.Model.ThrowIfViolated, Timeout);
        output.WriteLine($"{rxPath}: {Warmup + Frames} frames in {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(0, allocated);
        PortStats stats = h.Port.GetStats();
        Assert.Equal((ulong)(Warmup + Frames), stats.InPackets);
        Assert.Equal((ulong)bytes, stats.InBytes);
        Assert.Equal(0ul, stats.InMissed);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal((ulong)(Warmup + Frames), x["mac_rx_good_packets"]);
        Assert.Equal((ulong)bytes, x["mac_rx_good_bytes"]);
        Assert.Equal((ulong)(Warmup + Frames), x["hw_rx_q0_packets"]);
        Assert.Equal(h.Model.BytesReceived, (long)x["hw_rx_q0_bytes"]);
        h.Model.ThrowIfViolated();
    }

    [Fact]
    public void A_million_frames_leave_byte_exact_without_allocation()
    {
        var wire = new SequenceWire(0, (i, f) => 0, (i, f) => ModelFrames.Build(i, f, seed: 3));
        using var h = new IxgbeHarness(wire, poolSize: 8192);
        h.Start();
        h.WaitFor(() => h.Port.Link.IsUp, TimeSpan.FromSeconds(5), "link up");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        (long allocated, long bytes) = TrafficLoops.Send(h.Port, 0, h.Pool, Warmup + Frames, Warmup, seed: 3, h.Model.ThrowIfViolated, Timeout);
        h.WaitFor(() => wire.Transmitted == Warmup + Frames, TimeSpan.FromSeconds(30), "every frame on the wire");
        output.WriteLine($"TX: {Warmup + Frames} frames in {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(0, allocated);
        Assert.Equal(0, wire.Mismatches);
        Assert.Null(wire.FirstMismatch);
        PortStats stats = h.Port.GetStats();
        Assert.Equal((ulong)(Warmup + Frames), stats.OutPackets);
        Assert.Equal((ulong)bytes, stats.OutBytes);
        var x = h.Port.GetXStats().ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal((ulong)(Warmup + Frames), x["mac_tx_good_packets"]);
        Assert.Equal((ulong)bytes, x["mac_tx_good_bytes"]);
        Assert.Equal((ulong)(Warmup + Frames), x["hw_tx_q0_packets"]);
    }
}
