using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PacketPlane.Internal;

namespace PacketPlane.Net;

/// <summary>
/// A view of an Ethernet II header (IEEE 802.3 clause 3.1.1: destination, source, EtherType; 14 bytes) at the
/// start of a span. Reads and writes go straight to the packet bytes, multi-byte fields in network order.
/// </summary>
/// <example><code>
/// var eth = new EthernetHeader(packet.Data);
/// if (eth.EtherType == EtherType.Ipv4) { var ip = new Ipv4Header(eth.Payload); ... }
/// </code></example>
public readonly ref struct EthernetHeader
{
    /// <summary>Bytes in the header.</summary>
    public const int Length = 14;

    /// <summary>Smallest frame on the wire without the 4-byte FCS (64 - 4); shorter frames are padded to it.</summary>
    public const int MinFrameLength = 60;

    private readonly Span<byte> _bytes;

    /// <summary>Views the header at the start of <paramref name="frame"/>, which may extend past it.</summary>
    /// <exception cref="ArgumentException">Fewer than 14 bytes.</exception>
    public EthernetHeader(Span<byte> frame)
    {
        if (frame.Length < Length)
            ThrowHelper.ThrowArgument(nameof(frame), $"an Ethernet header needs {Length} bytes, got {frame.Length}");
        _bytes = frame;
    }

    /// <summary>Views the header when <paramref name="frame"/> holds one; false when it is too short.</summary>
    public static bool TryCreate(Span<byte> frame, out EthernetHeader header)
    {
        header = frame.Length >= Length ? new EthernetHeader(frame) : default;
        return frame.Length >= Length;
    }

    /// <summary>The span the view was created over (header and what follows).</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Destination address (bytes 0-5).</summary>
    public MacAddress Destination
    {
        get => new(_bytes[..6]);
        set => value.CopyTo(_bytes);
    }

    /// <summary>Source address (bytes 6-11).</summary>
    public MacAddress Source
    {
        get => new(_bytes.Slice(6, 6));
        set => value.CopyTo(_bytes[6..]);
    }

    /// <summary>The type field at bytes 12-13 (a VLAN TPID when the frame is tagged), host order.</summary>
    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[12..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[12..], value);
    }

    /// <summary>Everything after the 14-byte header (a VLAN tag first when <see cref="EtherType"/> is a TPID).</summary>
    public Span<byte> Payload => _bytes[Length..];

    /// <summary>Exchanges source and destination in place (testpmd's macswap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SwapAddresses()
    {
        // Read both 6-byte addresses as 12 bytes: one 8-byte and one 4-byte load, then write them swapped.
        ulong d = BinaryPrimitives.ReadUInt64LittleEndian(_bytes);
        uint s = BinaryPrimitives.ReadUInt32LittleEndian(_bytes[8..]);
        // d = D0..D5 S0 S1, s = S2..S5 (little-endian: byte 0 in the low bits).
        ulong newFirst = (d >> 48) | ((ulong)s << 16) | ((d & 0xFFFF) << 48);
        uint newLast = (uint)((d >> 16) & 0xFFFF_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(_bytes, newFirst);
        BinaryPrimitives.WriteUInt32LittleEndian(_bytes[8..], newLast);
    }

    /// <summary>Writes a 14-byte header at the start of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, MacAddress dst, MacAddress src, ushort etherType)
    {
        var eth = new EthernetHeader(destination);
        eth.Destination = dst;
        eth.Source = src;
        eth.EtherType = etherType;
    }
}

/// <summary>
/// A view of an IEEE 802.1Q tag's last 4 bytes (TCI, then the encapsulated EtherType), i.e. what follows an
/// EtherType of 0x8100 / 0x88A8 in <see cref="EthernetHeader.Payload"/>.
/// </summary>
public readonly ref struct VlanHeader
{
    /// <summary>Bytes after the TPID: TCI and inner EtherType.</summary>
    public const int Length = 4;

    private readonly Span<byte> _bytes;

    /// <summary>Views the tag at the start of <paramref name="bytes"/>.</summary>
    public VlanHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
            ThrowHelper.ThrowArgument(nameof(bytes), $"a VLAN tag needs {Length} bytes, got {bytes.Length}");
        _bytes = bytes;
    }

    /// <summary>Tag control information: priority (3 bits), drop eligible (1), VLAN id (12).</summary>
    public ushort Tci
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    /// <summary>VLAN identifier, 0-4095.</summary>
    public int VlanId => Tci & 0x0FFF;

    /// <summary>Priority code point, 0-7.</summary>
    public int Priority => Tci >> 13;

    /// <summary>Drop eligible indicator.</summary>
    public bool DropEligible => (Tci & 0x1000) != 0;

    /// <summary>The EtherType of what the tag encapsulates, host order.</summary>
    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>Everything after the tag.</summary>
    public Span<byte> Payload => _bytes[Length..];
}
