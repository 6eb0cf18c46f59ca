namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// Where the three parts of one virtqueue live: descriptor area, driver area (split: available ring; packed:
/// driver event suppression) and device area (split: used ring; packed: device event suppression). These are the
/// three addresses vhost-user SET_VRING_ADDR and the PCI queue_desc/queue_driver/queue_device registers carry.
/// </summary>
internal readonly unsafe struct VringLayout
{
    /// <summary>Each area starts on its own cache line, so the side writing one area never bounces the other's line.</summary>
    private const int AreaAlign = 64;

    public VringLayout(nint desc, nint driver, nint device, int size, bool packed)
    {
        Desc = desc;
        Driver = driver;
        Device = device;
        Size = size;
        Packed = packed;
    }

    /// <summary>Descriptor table (split) or descriptor ring (packed).</summary>
    public nint Desc { get; }

    /// <summary>Available ring (split) or driver event suppression structure (packed).</summary>
    public nint Driver { get; }

    /// <summary>Used ring (split) or device event suppression structure (packed).</summary>
    public nint Device { get; }

    /// <summary>Queue size (entries).</summary>
    public int Size { get; }

    /// <summary>True for a packed ring.</summary>
    public bool Packed { get; }

    /// <summary>Bytes a ring of <paramref name="size"/> entries needs, a multiple of 64.</summary>
    public static long Bytes(int size, bool packed)
    {
        long desc = Align(16L * size);
        if (packed)
            return desc + 2 * AreaAlign;
        long avail = Align(4 + 2L * size + 2);   // flags, idx, ring[size], used_event (virtio 1.2 2.7.6)
        long used = Align(4 + 8L * size + 2);    // flags, idx, ring[size], avail_event (2.7.8)
        return desc + avail + used;
    }

    /// <summary>Lays a ring of <paramref name="size"/> entries out at <paramref name="baseAddress"/> (64-byte aligned).</summary>
    public static VringLayout At(nint baseAddress, int size, bool packed)
    {
        nint desc = baseAddress;
        nint driver = baseAddress + (nint)Align(16L * size);
        nint device = packed ? driver + AreaAlign : driver + (nint)Align(4 + 2L * size + 2);
        return new VringLayout(desc, driver, device, size, packed);
    }

    /// <summary>Zeroes the ring's memory (a fresh ring: nothing available, nothing used, indexes 0).</summary>
    public void Clear() => new System.Span<byte>((void*)Desc, (int)Bytes(Size, Packed)).Clear();

    /// <summary>True for 1..32768 entries and a power of two (split rings need one; packed rings accept any size, but we keep one rule).</summary>
    public static bool IsValidSize(int size) => size > 0 && size <= Spec.VringFlags.MaxQueueSize && (size & (size - 1)) == 0;

    private static long Align(long n) => (n + AreaAlign - 1) & ~(long)(AreaAlign - 1);
}
