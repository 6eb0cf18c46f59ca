using static PacketPlane.Drivers.Virtio.Spec.VirtioFeatureBits;

namespace PacketPlane.Drivers.Virtio.Spec;

/// <summary>What a virtio-net driver instance asks for (from its device string).</summary>
/// <param name="QueuePairs">Queue pairs wanted; more than one needs MQ.</param>
/// <param name="MergeRxBuffers">Ask for MRG_RXBUF (a received packet may span several buffers).</param>
/// <param name="InOrder">Ask for IN_ORDER (buffers used in the order made available; split rings then allocate descriptors sequentially).</param>
/// <param name="Packed">Use the packed ring layout (RING_PACKED).</param>
internal readonly record struct VirtioNetRequest(int QueuePairs, bool MergeRxBuffers, bool InOrder, bool Packed);

/// <summary>The outcome of feature negotiation, as the datapath consumes it.</summary>
/// <param name="Features">The feature set accepted (what the driver writes back to the device).</param>
/// <param name="Error">Why negotiation failed, or null.</param>
internal readonly record struct NegotiatedFeatures(ulong Features, string? Error)
{
    public bool Ok => Error is null;
    public int HeaderSize => VirtioNet.HeaderSize(Features);
    public bool MergeRxBuffers => Has(Features, VIRTIO_NET_F_MRG_RXBUF);
    public bool EventIdx => Has(Features, VIRTIO_RING_F_EVENT_IDX);
    public bool InOrder => Has(Features, VIRTIO_F_IN_ORDER);
    public bool Packed => Has(Features, VIRTIO_F_RING_PACKED);
    public bool Version1 => Has(Features, VIRTIO_F_VERSION_1);
    public bool Mac => Has(Features, VIRTIO_NET_F_MAC);
    public bool Status => Has(Features, VIRTIO_NET_F_STATUS);
    public bool MultiQueue => Has(Features, VIRTIO_NET_F_MQ);
}

/// <summary>
/// Driver-side feature negotiation for virtio-net (virtio 1.2 section 3.1.1 step 4, 5.1.3): the driver accepts the
/// subset of the device's offer it understands and wants. Features that fix the ring layout or descriptor
/// allocation (RING_PACKED, IN_ORDER) and the queue count (MQ) must be granted when asked for, because rings are
/// built before a vhost-user peer connects; the rest (MRG_RXBUF, EVENT_IDX, MAC, STATUS) are used when offered.
/// </summary>
internal static class FeatureNegotiation
{
    /// <summary>Every feature this driver knows how to use.</summary>
    public const ulong Understood =
        (1UL << VIRTIO_F_VERSION_1) | (1UL << VIRTIO_NET_F_MRG_RXBUF) | (1UL << VIRTIO_RING_F_EVENT_IDX)
        | (1UL << VIRTIO_F_IN_ORDER) | (1UL << VIRTIO_F_RING_PACKED) | (1UL << VIRTIO_NET_F_MAC)
        | (1UL << VIRTIO_NET_F_STATUS) | (1UL << VIRTIO_NET_F_MQ) | (1UL << VIRTIO_NET_F_CTRL_VQ)
        | (1UL << VIRTIO_F_ANY_LAYOUT);

    /// <summary>The features the driver would accept for <paramref name="request"/>.</summary>
    public static ulong Wanted(VirtioNetRequest request)
    {
        ulong wanted = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_NET_F_MAC)
            | Bit(VIRTIO_NET_F_STATUS) | Bit(VIRTIO_F_ANY_LAYOUT);
        if (request.MergeRxBuffers)
            wanted |= Bit(VIRTIO_NET_F_MRG_RXBUF);
        if (request.InOrder)
            wanted |= Bit(VIRTIO_F_IN_ORDER);
        if (request.Packed)
            wanted |= Bit(VIRTIO_F_RING_PACKED);
        if (request.QueuePairs > 1)
            wanted |= Bit(VIRTIO_NET_F_MQ) | Bit(VIRTIO_NET_F_CTRL_VQ);
        return wanted;
    }

    /// <summary>Accepts the subset of <paramref name="offered"/> that <paramref name="request"/> wants, or says why it cannot.</summary>
    /// <param name="offered">The device's (or backend's) feature bits.</param>
    /// <param name="request">What the driver was asked for.</param>
    /// <param name="requireVersion1">True for a modern transport that has no legacy interface (virtio-pci modern).</param>
    /// <param name="argumentHint">How the user changes the request, e.g. "packed_vq=0", named in errors.</param>
    public static NegotiatedFeatures Negotiate(ulong offered, VirtioNetRequest request, bool requireVersion1,
        System.Func<string, string> argumentHint)
    {
        ulong accepted = offered & Wanted(request);
        string offer = Describe(offered);
        if (requireVersion1 && !Has(accepted, VIRTIO_F_VERSION_1))
            return new(accepted, $"the device does not offer VERSION_1 (it offers {offer}); only modern (virtio 1.0+) devices are supported on this transport");
        if (request.Packed && !Has(accepted, VIRTIO_F_RING_PACKED))
            return new(accepted, $"packed rings were requested but the peer does not offer RING_PACKED (it offers {offer}); use {argumentHint("packed_vq=0")}");
        if (request.Packed && !Has(accepted, VIRTIO_F_VERSION_1))
            return new(accepted, $"packed rings need VERSION_1, which the peer does not offer (it offers {offer}); use {argumentHint("packed_vq=0")}");
        if (request.InOrder && !Has(accepted, VIRTIO_F_IN_ORDER))
            return new(accepted, $"in-order descriptor use was requested but the peer does not offer IN_ORDER (it offers {offer}); use {argumentHint("in_order=0")}");
        if (request.QueuePairs > 1 && !Has(accepted, VIRTIO_NET_F_MQ))
            return new(accepted, $"{request.QueuePairs} queue pairs were requested but the peer does not offer MQ (it offers {offer}); use {argumentHint("queues=1")}");
        return new(accepted, null);
    }
}
