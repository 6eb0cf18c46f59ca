using System.Runtime.InteropServices;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

// The ring structures of linux/virtio_ring.h. Virtio 1.x rings are little-endian; PacketPlane runs on
// little-endian hosts only (x86-64, arm64), so fields are read and written as they are.

/// <summary>struct vring_desc: one split-ring descriptor (16 bytes, 16-byte aligned table).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct VringDesc
{
    public ulong Addr;
    public uint Len;
    public ushort Flags;
    public ushort Next;
}

/// <summary>struct vring_used_elem: one used-ring entry (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
internal struct VringUsedElem
{
    public uint Id;
    public uint Len;
}

/// <summary>The fixed head of struct vring_avail (flags, idx); ring[size] and used_event follow.</summary>
[StructLayout(LayoutKind.Sequential, Size = 4)]
internal struct VringAvailHeader
{
    public ushort Flags;
    public ushort Idx;
}

/// <summary>The fixed head of struct vring_used (flags, idx); ring[size] and avail_event follow.</summary>
[StructLayout(LayoutKind.Sequential, Size = 4)]
internal struct VringUsedHeader
{
    public ushort Flags;
    public ushort Idx;
}

/// <summary>struct vring_packed_desc: one packed-ring descriptor (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct VringPackedDesc
{
    public ulong Addr;
    public uint Len;
    public ushort Id;
    public ushort Flags;
}

/// <summary>struct vring_packed_desc_event: packed-ring event suppression (4 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 4)]
internal struct VringPackedEvent
{
    public ushort OffWrap;
    public ushort Flags;
}
