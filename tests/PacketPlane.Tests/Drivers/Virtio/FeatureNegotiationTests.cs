using PacketPlane.Drivers.Virtio.Spec;
using Xunit;
using static PacketPlane.Drivers.Virtio.Spec.VirtioFeatureBits;

namespace PacketPlane.Tests.Drivers.Virtio;

public class FeatureNegotiationTests
{
    // DPDK 22.11 lib/vhost/vhost.h VIRTIO_NET_SUPPORTED_FEATURES plus the protocol-features bit its backend adds.
    private const ulong DpdkVhostOffer =
        (1UL << VIRTIO_NET_F_MRG_RXBUF) | (1UL << VIRTIO_F_ANY_LAYOUT) | (1UL << VIRTIO_NET_F_CTRL_VQ) | (1UL << 18)
        | (1UL << 21) | (1UL << VIRTIO_NET_F_MQ) | (1UL << VIRTIO_F_VERSION_1) | (1UL << VHOST_F_LOG_ALL)
        | (1UL << VHOST_USER_F_PROTOCOL_FEATURES) | (1UL << 6) | (1UL << 11) | (1UL << 12) | (1UL << 14) | (1UL << 13)
        | (1UL << VIRTIO_NET_F_CSUM) | (1UL << VIRTIO_NET_F_GUEST_CSUM) | (1UL << 7) | (1UL << 8) | (1UL << 10) | (1UL << 9)
        | (1UL << VIRTIO_RING_F_INDIRECT_DESC) | (1UL << VIRTIO_RING_F_EVENT_IDX) | (1UL << VIRTIO_NET_F_MTU)
        | (1UL << VIRTIO_F_IN_ORDER) | (1UL << VIRTIO_F_ACCESS_PLATFORM) | (1UL << VIRTIO_F_RING_PACKED);

    private static string Hint(string a) => "net_virtio_user0,...," + a;

    [Fact]
    public void Against_dpdk_vhost_the_defaults_take_version1_merged_buffers_event_idx_and_in_order_only()
    {
        NegotiatedFeatures f = FeatureNegotiation.Negotiate(DpdkVhostOffer, new VirtioNetRequest(1, true, true, false), false, Hint);
        Assert.True(f.Ok);
        Assert.Equal(Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_F_IN_ORDER)
            | Bit(VIRTIO_F_ANY_LAYOUT), f.Features);
        Assert.Equal(12, f.HeaderSize);
        Assert.False(f.Packed);
    }

    [Fact]
    public void Packed_and_multiqueue_are_taken_when_asked_for_and_offered()
    {
        NegotiatedFeatures f = FeatureNegotiation.Negotiate(DpdkVhostOffer, new VirtioNetRequest(4, false, false, true), false, Hint);
        Assert.True(f.Ok);
        Assert.True(f.Packed);
        Assert.True(f.MultiQueue);
        Assert.True(Has(f.Features, VIRTIO_NET_F_CTRL_VQ));
        Assert.False(f.MergeRxBuffers);
        Assert.False(f.InOrder);
    }

    [Theory]
    [InlineData(VIRTIO_F_RING_PACKED, "packed_vq=0")]
    [InlineData(VIRTIO_F_IN_ORDER, "in_order=0")]
    [InlineData(VIRTIO_NET_F_MQ, "queues=1")]
    public void A_missing_layout_feature_is_an_error_naming_the_argument_to_change(int bit, string fix)
    {
        ulong offer = DpdkVhostOffer & ~Bit(bit);
        NegotiatedFeatures f = FeatureNegotiation.Negotiate(offer, new VirtioNetRequest(2, true, true, true), false, Hint);
        Assert.False(f.Ok);
        Assert.Contains(fix, f.Error);
    }

    [Fact]
    public void Merged_buffers_and_event_idx_are_optional()
    {
        ulong offer = Bit(VIRTIO_F_VERSION_1);
        NegotiatedFeatures f = FeatureNegotiation.Negotiate(offer, new VirtioNetRequest(1, true, false, false), false, Hint);
        Assert.True(f.Ok);
        Assert.Equal(Bit(VIRTIO_F_VERSION_1), f.Features);
        Assert.False(f.EventIdx);
    }

    [Fact]
    public void A_modern_transport_requires_version1()
    {
        NegotiatedFeatures f = FeatureNegotiation.Negotiate(Bit(VIRTIO_NET_F_MAC), new VirtioNetRequest(1, false, false, false), true, Hint);
        Assert.False(f.Ok);
        Assert.Contains("VERSION_1", f.Error);
    }

    [Theory]
    [InlineData(1UL << VIRTIO_F_VERSION_1, 12)]
    [InlineData(1UL << VIRTIO_NET_F_MRG_RXBUF, 12)]
    [InlineData(0UL, 10)]
    public void Header_size_follows_the_features(ulong features, int size) => Assert.Equal(size, VirtioNet.HeaderSize(features));

    [Fact]
    public void Feature_sets_are_described_by_name()
    {
        Assert.Equal("MRG_RXBUF|VERSION_1|bit40", Describe(Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_F_VERSION_1) | Bit(40)));
        Assert.Equal("none", Describe(0));
    }

    [Theory]
    [InlineData(5, 6, 5, true)]       // the driver asked to be told once index 5 is passed
    [InlineData(5, 5, 4, false)]
    [InlineData(4, 6, 5, false)]
    [InlineData(65535, 2, 65534, true)]  // across the 16-bit wrap
    [InlineData(100, 60, 50, false)]
    public void Vring_need_event_matches_the_header_formula(ushort eventIdx, ushort newIdx, ushort oldIdx, bool expected) =>
        Assert.Equal(expected, VringFlags.NeedEvent(eventIdx, newIdx, oldIdx));
}
