using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.Pci;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Drivers.Virtio.Pci;

/// <summary>
/// The virtio-pci driver against a modelled virtio-net function: the model fails the test on any departure from
/// the specification it watches for, and frames must cross the rings byte for byte.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public sealed class VirtioPciModelTests
{
    private const ulong AllFeatures =
        (1UL << VirtioNetPciModel.F_VERSION_1) | (1UL << VirtioNetPciModel.F_MAC) | (1UL << VirtioNetPciModel.F_STATUS)
        | (1UL << VirtioNetPciModel.F_MRG_RXBUF) | (1UL << VirtioNetPciModel.F_EVENT_IDX) | (1UL << VirtioNetPciModel.F_IN_ORDER)
        | (1UL << VirtioNetPciModel.F_RING_PACKED) | (1UL << VirtioNetPciModel.F_ANY_LAYOUT) | (1UL << VirtioNetPciModel.F_CTRL_VQ);

    private static int s_next;

    /// <summary>Creates ports over whichever model the test hands it (a stand-in for the PCI bus probe).</summary>
    private sealed class ModelDriver : EthDriver
    {
        public static readonly ModelDriver Instance = new();
        private static readonly AsyncLocal<VirtioNetPciModel?> s_model = new();

        public override string Name => "net_virtio_model";

        public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
        {
            ["queue_size"] = "ring size",
            ["packed_vq"] = "packed rings",
            ["mrg_rxbuf"] = "merged buffers",
            ["in_order"] = "in-order",
        };

        public static EthDev Create(VirtioNetPciModel model, string args)
        {
            EthDriverRegistry.Register(Instance);
            s_model.Value = model;
            return EthDev.Create($"net_virtio_model{Interlocked.Increment(ref s_next)}{args}");
        }

        public override EthDevice Create(DeviceArguments args) => new VirtioPciNetDevice(args.DeviceName, s_model.Value!,
            new VirtioNetRequest(1, args.GetBool("mrg_rxbuf", true), args.GetBool("in_order", false), args.GetBool("packed_vq", false)),
            args.GetInt32("queue_size", 256), null, ownsFunction: false);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Driver_follows_the_spec_and_moves_frames_both_ways(bool packed, bool inOrder)
    {
        using var _ = LcoreIdentity.As(7);
        using var model = new VirtioNetPciModel(AllFeatures);
        using MbufPool pool = MbufPool.Create("vpci" + Interlocked.Increment(ref s_next), 2048, cacheSize: 64);
        using EthDev port = ModelDriver.Create(model, $",packed_vq={(packed ? 1 : 0)},in_order={(inOrder ? 1 : 0)}");
        Assert.Equal(VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER | VirtioNetPciModel.S_FEATURES_OK, model.Status);
        Assert.Equal(new PacketPlane.Net.MacAddress(model.Mac), port.MacAddress);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
        model.Observe();
        Assert.Empty(model.Violations);
        Assert.Equal(VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER | VirtioNetPciModel.S_FEATURES_OK | VirtioNetPciModel.S_DRIVER_OK, model.Status);
        Assert.Equal(packed, model.Packed);
        Assert.True(port.Link.IsUp);
        Assert.True(model.Notifications(0) >= 1, "the receive queue was not notified of its buffers after DRIVER_OK");

        // Transmit: frames reach the device byte for byte.
        var burst = new Packet[32];
        for (int round = 0; round < 20; round++)
        {
            Assert.Equal(32, VirtioPair.Fill(pool, burst, round * 32, 60 + round * 70));
            Assert.Equal(32, port.TxBurst(0, burst));
            List<byte[]> seen = model.CollectTransmitted();
            Assert.Equal(32, seen.Count);
            for (int i = 0; i < 32; i++)
                Assert.True(VirtioPair.CheckFrame(seen[i], round * 32 + i, 60 + round * 70), $"frame {round * 32 + i} differs");
        }

        // Receive: the device writes frames into the posted buffers; the driver hands them up unchanged.
        var frame = new byte[1514];
        var rx = new Packet[32];
        for (int round = 0; round < 20; round++)
        {
            int size = 60 + round * 70;
            for (int i = 0; i < 32; i++)
            {
                VirtioPair.BuildFrame(frame, round * 32 + i, size);
                Assert.True(model.Deliver(frame.AsSpan(0, size)), "no receive buffer posted");
            }
            int got = port.RxBurst(0, rx);
            Assert.Equal(32, got);
            for (int i = 0; i < 32; i++)
                Assert.True(VirtioPair.CheckFrame(rx[i].Data, round * 32 + i, size));
            Packet.FreeBulk(rx.AsSpan(0, got));
        }
        model.Observe();
        Assert.Empty(model.Violations);

        // Stop resets the device (no more DMA), Start negotiates and sets the rings up again.
        port.Stop();
        Assert.Equal(0, model.Status);
        port.Start();
        Assert.True(VirtioPair.Fill(pool, burst.AsSpan(0, 4), 9000, 100) == 4);
        Assert.Equal(4, port.TxBurst(0, burst.AsSpan(0, 4)));
        List<byte[]> after = model.CollectTransmitted();
        Assert.Equal(4, after.Count);
        Assert.True(VirtioPair.CheckFrame(after[3], 9003, 100));
        Assert.Empty(model.Violations);
        port.Close();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void A_device_that_refuses_the_features_fails_the_port_with_the_reason()
    {
        using var model = new VirtioNetPciModel(AllFeatures) { RefuseFeatures = true };
        var e = Assert.Throws<EthDevException>(() => ModelDriver.Create(model, ""));
        Assert.Contains("FEATURES_OK", e.Message);
        Assert.NotEqual(0, model.Status & VirtioNetPciModel.S_FAILED);
        Assert.Empty(model.Violations);
    }

    [Fact]
    public void A_device_without_version_1_is_refused()
    {
        using var model = new VirtioNetPciModel((1UL << VirtioNetPciModel.F_MAC) | (1UL << VirtioNetPciModel.F_MRG_RXBUF));
        var e = Assert.Throws<EthDevException>(() => ModelDriver.Create(model, ""));
        Assert.Contains("VERSION_1", e.Message);
    }

    [Fact]
    public void A_ring_larger_than_the_device_offers_is_refused_by_name()
    {
        using var _ = LcoreIdentity.As(7);
        using var model = new VirtioNetPciModel(AllFeatures, queueMax: 128);
        using MbufPool pool = MbufPool.Create("vpcis" + Interlocked.Increment(ref s_next), 1024, cacheSize: 32);
        using EthDev port = ModelDriver.Create(model, ",queue_size=256");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        var e = Assert.Throws<EthDevException>(port.Start);
        Assert.Contains("queue_size=128", e.Message);
    }

    [Fact]
    public void Link_follows_the_device_status_field()
    {
        using var _ = LcoreIdentity.As(7);
        using var model = new VirtioNetPciModel(AllFeatures);
        using MbufPool pool = MbufPool.Create("vpcil" + Interlocked.Increment(ref s_next), 1024, cacheSize: 32);
        using EthDev port = ModelDriver.Create(model, "");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
        Assert.True(port.Link.IsUp);
        model.SetLink(false);
        Assert.False(port.Link.IsUp);
        model.SetLink(true);
        Assert.True(port.Link.IsUp);
    }

    // The model is only worth something if it notices mistakes: drive it wrongly by hand.
    [Fact]
    public void The_model_flags_DRIVER_OK_before_FEATURES_OK()
    {
        using var model = new VirtioNetPciModel(AllFeatures);
        (nint bar, _) = model.MapBar(VirtioNetPciModel.Bar);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER | VirtioNetPciModel.S_DRIVER_OK);
        Assert.Contains(model.Violations, v => v.Contains("DRIVER_OK set before FEATURES_OK", StringComparison.Ordinal));
    }

    [Fact]
    public void The_model_flags_a_queue_enabled_before_its_addresses()
    {
        using var model = new VirtioNetPciModel(AllFeatures);
        (nint bar, _) = model.MapBar(VirtioNetPciModel.Bar);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER);
        Marshal.WriteInt32(bar, 8, 1);                     // driver_feature_select = 1
        Settle(model);
        Marshal.WriteInt32(bar, 12, 1);                    // VERSION_1 (bit 32)
        Settle(model);
        Marshal.WriteInt32(bar, 8, 0);
        Settle(model);
        Marshal.WriteInt32(bar, 12, 0);
        Settle(model);
        WriteStatus(model, bar, VirtioNetPciModel.S_ACKNOWLEDGE | VirtioNetPciModel.S_DRIVER | VirtioNetPciModel.S_FEATURES_OK);
        Assert.Empty(model.Violations);
        Marshal.WriteInt16(bar, 22, 0);                    // queue_select = 0
        Settle(model);
        Marshal.WriteInt16(bar, 28, 1);                    // queue_enable = 1, no addresses written
        Settle(model);
        Assert.Contains(model.Violations, v => v.Contains("enabled before its addresses were written", StringComparison.Ordinal));
    }

    private static void WriteStatus(VirtioNetPciModel model, nint bar, byte status)
    {
        Marshal.WriteByte(bar, 20, status);
        Settle(model);
    }

    private static void Settle(VirtioNetPciModel model) => model.ReadConfig(0, new byte[2]);
}
