using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// The pieces of guest memory one or more descriptor chains describe, translated into our address space: where the
/// backend copies packets from (the frontend's TX buffers) or into (its RX buffers). Native scratch owned by one
/// queue; the datapath fills and reuses it without allocating.
/// </summary>
internal unsafe struct SegmentList
{
    /// <summary>Most segments gathered for one packet; a longer packet is dropped as malformed.</summary>
    public const int Capacity = 256;

    public byte** Ptr;
    public uint* Len;
    public int Count;

    public static SegmentList Allocate() => new()
    {
        Ptr = (byte**)NativeMemory.Alloc(Capacity, (nuint)sizeof(nint)),
        Len = (uint*)NativeMemory.Alloc(Capacity, sizeof(uint)),
    };

    public void Free()
    {
        NativeMemory.Free(Ptr);
        NativeMemory.Free(Len);
        Ptr = null;
        Len = null;
    }
}

/// <summary>Walks descriptor chains the frontend supplied, validating every field it reads exactly once.</summary>
internal static unsafe class GuestChains
{
    /// <summary>
    /// Appends the segments of the split chain starting at <paramref name="head"/>. Returns the descriptor count, or
    /// -1 when the chain is malformed: an index out of range, a loop, an indirect descriptor (not offered), the
    /// wrong direction (<paramref name="writable"/>: the device writes it), an address outside guest memory, too
    /// many segments.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapSplit(VringDesc* table, int size, GuestMemory mem, ushort head, bool writable,
        ref SegmentList segs, out uint capacity)
    {
        capacity = 0;
        ushort idx = head;
        int n = 0;
        ushort wantWrite = writable ? VringFlags.VRING_DESC_F_WRITE : (ushort)0;
        while (true)
        {
            VringDesc d = table[idx];   // one read of the descriptor: the frontend may change it meanwhile
            if (++n > size || (d.Flags & VringFlags.VRING_DESC_F_INDIRECT) != 0
                || (d.Flags & VringFlags.VRING_DESC_F_WRITE) != wantWrite || segs.Count >= SegmentList.Capacity)
                return -1;
            byte* p = mem.GpaToHost(d.Addr, d.Len);
            if (p == null || capacity + d.Len < capacity)
                return -1;
            segs.Ptr[segs.Count] = p;
            segs.Len[segs.Count++] = d.Len;
            capacity += d.Len;
            if ((d.Flags & VringFlags.VRING_DESC_F_NEXT) == 0)
                return n;
            idx = d.Next;
            if (idx >= size)
                return -1;
        }
    }

    /// <summary>
    /// Appends the segments of the packed chain whose head is <paramref name="offset"/> positions after the ring's
    /// next available one. Returns the descriptor count (the buffer id is in the last descriptor), or -1 when
    /// malformed as for <see cref="MapSplit"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapPacked(ref DevicePackedRing ring, GuestMemory mem, int offset, bool writable,
        ref SegmentList segs, out uint capacity, out ushort id)
    {
        capacity = 0;
        id = 0;
        int n = 0;
        int size = ring.Size;
        ushort wantWrite = writable ? VringFlags.VRING_DESC_F_WRITE : (ushort)0;
        VringPackedDesc* table = ring.Descriptors;
        while (true)
        {
            if (n >= size || segs.Count >= SegmentList.Capacity)
                return -1;
            VringPackedDesc d = table[ring.PositionAfterAvail(offset + n)];
            n++;
            if ((d.Flags & VringFlags.VRING_DESC_F_INDIRECT) != 0 || (d.Flags & VringFlags.VRING_DESC_F_WRITE) != wantWrite)
                return -1;
            byte* p = mem.GpaToHost(d.Addr, d.Len);
            if (p == null || capacity + d.Len < capacity)
                return -1;
            segs.Ptr[segs.Count] = p;
            segs.Len[segs.Count++] = d.Len;
            capacity += d.Len;
            if ((d.Flags & VringFlags.VRING_DESC_F_NEXT) == 0)
            {
                id = d.Id;
                return id < size ? n : -1;
            }
        }
    }
}
