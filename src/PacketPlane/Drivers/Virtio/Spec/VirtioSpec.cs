using System.Collections.Generic;

namespace PacketPlane.Drivers.Virtio.Spec;

/// <summary>
/// Feature bit numbers, with the names of linux/virtio_config.h, virtio_net.h, virtio_ring.h and vhost_types.h
/// (checked against this machine's /usr/include/linux). A feature set is a ulong with bit N set for feature N.
/// </summary>
internal static class VirtioFeatureBits
{
    public const int VIRTIO_NET_F_CSUM = 0;
    public const int VIRTIO_NET_F_GUEST_CSUM = 1;
    public const int VIRTIO_NET_F_MTU = 3;
    public const int VIRTIO_NET_F_MAC = 5;
    public const int VIRTIO_NET_F_MRG_RXBUF = 15;
    public const int VIRTIO_NET_F_STATUS = 16;
    public const int VIRTIO_NET_F_CTRL_VQ = 17;
    public const int VIRTIO_NET_F_MQ = 22;
    public const int VHOST_F_LOG_ALL = 26;
    public const int VIRTIO_F_ANY_LAYOUT = 27;
    public const int VIRTIO_RING_F_INDIRECT_DESC = 28;
    public const int VIRTIO_RING_F_EVENT_IDX = 29;

    /// <summary>Reserved bit 30, reused by vhost-user to announce protocol features (vhost-user.rst).</summary>
    public const int VHOST_USER_F_PROTOCOL_FEATURES = 30;

    public const int VIRTIO_F_VERSION_1 = 32;
    public const int VIRTIO_F_ACCESS_PLATFORM = 33;
    public const int VIRTIO_F_RING_PACKED = 34;
    public const int VIRTIO_F_IN_ORDER = 35;

    /// <summary>The mask with bit <paramref name="bit"/> set.</summary>
    public static ulong Bit(int bit) => 1UL << bit;

    /// <summary>True when <paramref name="features"/> has bit <paramref name="bit"/>.</summary>
    public static bool Has(ulong features, int bit) => (features & (1UL << bit)) != 0;

    private static readonly (int Bit, string Name)[] s_names =
    [
        (VIRTIO_NET_F_CSUM, "CSUM"), (VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM"), (VIRTIO_NET_F_MTU, "MTU"),
        (VIRTIO_NET_F_MAC, "MAC"), (VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF"), (VIRTIO_NET_F_STATUS, "STATUS"),
        (VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ"), (VIRTIO_NET_F_MQ, "MQ"), (VHOST_F_LOG_ALL, "LOG_ALL"),
        (VIRTIO_F_ANY_LAYOUT, "ANY_LAYOUT"), (VIRTIO_RING_F_INDIRECT_DESC, "INDIRECT_DESC"),
        (VIRTIO_RING_F_EVENT_IDX, "EVENT_IDX"), (VHOST_USER_F_PROTOCOL_FEATURES, "PROTOCOL_FEATURES"),
        (VIRTIO_F_VERSION_1, "VERSION_1"), (VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"),
        (VIRTIO_F_RING_PACKED, "RING_PACKED"), (VIRTIO_F_IN_ORDER, "IN_ORDER"),
    ];

    /// <summary>"VERSION_1|MRG_RXBUF|bit40" style text for logs and errors.</summary>
    public static string Describe(ulong features)
    {
        var parts = new List<string>();
        ulong named = 0;
        foreach ((int bit, string name) in s_names)
        {
            named |= 1UL << bit;
            if (Has(features, bit))
                parts.Add(name);
        }
        for (int bit = 0; bit < 64; bit++)
        {
            if ((features & ~named & (1UL << bit)) != 0)
                parts.Add("bit" + bit);
        }
        return parts.Count == 0 ? "none" : string.Join("|", parts);
    }
}

/// <summary>Device status bits (linux/virtio_config.h; virtio 1.2 section 2.1).</summary>
internal static class VirtioStatus
{
    public const byte VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
    public const byte VIRTIO_CONFIG_S_DRIVER = 2;
    public const byte VIRTIO_CONFIG_S_DRIVER_OK = 4;
    public const byte VIRTIO_CONFIG_S_FEATURES_OK = 8;
    public const byte VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
    public const byte VIRTIO_CONFIG_S_FAILED = 0x80;
}

/// <summary>Descriptor and ring flags (linux/virtio_ring.h; virtio 1.2 sections 2.7 and 2.8).</summary>
internal static class VringFlags
{
    public const ushort VRING_DESC_F_NEXT = 1;
    public const ushort VRING_DESC_F_WRITE = 2;
    public const ushort VRING_DESC_F_INDIRECT = 4;

    /// <summary>Bit number (not mask) of the packed-ring AVAIL flag.</summary>
    public const int VRING_PACKED_DESC_F_AVAIL = 7;

    /// <summary>Bit number (not mask) of the packed-ring USED flag.</summary>
    public const int VRING_PACKED_DESC_F_USED = 15;

    public const ushort VRING_USED_F_NO_NOTIFY = 1;
    public const ushort VRING_AVAIL_F_NO_INTERRUPT = 1;

    public const ushort VRING_PACKED_EVENT_FLAG_ENABLE = 0;
    public const ushort VRING_PACKED_EVENT_FLAG_DISABLE = 1;
    public const ushort VRING_PACKED_EVENT_FLAG_DESC = 2;

    /// <summary>Bit number of the wrap counter in a packed event suppression off_wrap field.</summary>
    public const int VRING_PACKED_EVENT_F_WRAP_CTR = 15;

    /// <summary>Mask of both packed AVAIL and USED bits.</summary>
    public const ushort PackedAvailUsedMask = (1 << VRING_PACKED_DESC_F_AVAIL) | (1 << VRING_PACKED_DESC_F_USED);

    /// <summary>Largest queue size the split ring allows (virtio 1.2 2.7: 32768) and packed ring index space.</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>
    /// vring_need_event (virtio_ring.h): true when the peer asked to be told once the index passes
    /// <paramref name="eventIdx"/>, i.e. eventIdx lies in [old, new) modulo 2^16.
    /// </summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);
}

/// <summary>virtio-net constants (linux/virtio_net.h; virtio 1.2 section 5.1).</summary>
internal static class VirtioNet
{
    public const ushort VIRTIO_NET_S_LINK_UP = 1;
    public const ushort VIRTIO_NET_S_ANNOUNCE = 2;

    /// <summary>struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.</summary>
    public const int HeaderSizeLegacy = 10;

    /// <summary>struct virtio_net_hdr_v1 / virtio_net_hdr_mrg_rxbuf: the above plus num_buffers.</summary>
    public const int HeaderSizeModern = 12;

    /// <summary>Offset of num_buffers in the 12-byte header.</summary>
    public const int NumBuffersOffset = 10;

    /// <summary>Virtqueue index of queue pair <paramref name="pair"/>'s receive queue (5.1.2: receiveq N is 2N).</summary>
    public static int RxVring(int pair) => 2 * pair;

    /// <summary>Virtqueue index of queue pair <paramref name="pair"/>'s transmit queue (transmitq N is 2N+1).</summary>
    public static int TxVring(int pair) => 2 * pair + 1;

    /// <summary>
    /// The header size the negotiated features imply: 12 bytes with VERSION_1 or MRG_RXBUF (5.1.6: num_buffers is
    /// present then), 10 for a legacy device without merged buffers.
    /// </summary>
    public static int HeaderSize(ulong features) =>
        VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_F_VERSION_1)
        || VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_NET_F_MRG_RXBUF)
            ? HeaderSizeModern
            : HeaderSizeLegacy;
}
