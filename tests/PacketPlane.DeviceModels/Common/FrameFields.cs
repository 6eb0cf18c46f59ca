using System;
using System.Buffers.Binary;

namespace PacketPlane.DeviceModels.Common;

/// <summary>What a NIC's parser finds in a frame: enough for filtering and RSS (no VLAN tags, no IPv6 extension headers).</summary>
public readonly struct FrameFields
{
    /// <summary>Layer 3 found.</summary>
    public enum L3Kind
    {
        /// <summary>Not IP.</summary>
        None,
        /// <summary>IPv4.</summary>
        Ipv4,
        /// <summary>IPv6.</summary>
        Ipv6,
    }

    /// <summary>Layer 4 found (only in unfragmented packets).</summary>
    public enum L4Kind
    {
        /// <summary>None or not parsed.</summary>
        None,
        /// <summary>TCP.</summary>
        Tcp,
        /// <summary>UDP.</summary>
        Udp,
        /// <summary>SCTP.</summary>
        Sctp,
    }

    /// <summary>Layer 3.</summary>
    public L3Kind L3 { get; init; }

    /// <summary>Layer 4.</summary>
    public L4Kind L4 { get; init; }

    /// <summary>IPv4 header with options.</summary>
    public bool Ipv4Options { get; init; }

    /// <summary>A fragment (more-fragments set or non-zero offset).</summary>
    public bool Fragment { get; init; }

    /// <summary>Offset of the source address (12 bytes into IPv4, 8 into IPv6) from the frame start.</summary>
    public int AddressOffset { get; init; }

    /// <summary>Length of one address (4 or 16).</summary>
    public int AddressLength { get; init; }

    /// <summary>Offset of the L4 header from the frame start.</summary>
    public int L4Offset { get; init; }

    /// <summary>True for a broadcast destination.</summary>
    public bool Broadcast { get; init; }

    /// <summary>True for a multicast destination (broadcast included).</summary>
    public bool Multicast { get; init; }

    /// <summary>Parses <paramref name="frame"/> (starting at the destination MAC, no CRC).</summary>
    public static FrameFields Parse(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14)
            return default;
        bool multicast = (frame[0] & 1) != 0;
        bool broadcast = frame[..6].IndexOfAnyExcept((byte)0xFF) < 0;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var none = new FrameFields { Broadcast = broadcast, Multicast = multicast };
        if (type == 0x0800 && frame.Length >= 34 && frame[14] >> 4 == 4)
        {
            int ihl = (frame[14] & 0xF) * 4;
            ushort frag = BinaryPrimitives.ReadUInt16BigEndian(frame[20..]);
            bool fragment = (frag & 0x3FFF) != 0;
            byte proto = frame[23];
            return new FrameFields
            {
                Broadcast = broadcast,
                Multicast = multicast,
                L3 = L3Kind.Ipv4,
                Ipv4Options = ihl > 20,
                Fragment = fragment,
                AddressOffset = 14 + 12,
                AddressLength = 4,
                L4Offset = 14 + ihl,
                L4 = fragment || frame.Length < 14 + ihl + 4 ? L4Kind.None : Protocol(proto),
            };
        }
        if (type == 0x86DD && frame.Length >= 54 && frame[14] >> 4 == 6)
        {
            byte next = frame[14 + 6];
            return new FrameFields
            {
                Broadcast = broadcast,
                Multicast = multicast,
                L3 = L3Kind.Ipv6,
                AddressOffset = 14 + 8,
                AddressLength = 16,
                L4Offset = 54,
                Fragment = next == 44,
                L4 = frame.Length < 58 ? L4Kind.None : Protocol(next),
            };
        }
        return none;
    }

    private static L4Kind Protocol(byte p) => p switch
    {
        6 => L4Kind.Tcp,
        17 => L4Kind.Udp,
        132 => L4Kind.Sctp,
        _ => L4Kind.None,
    };

    /// <summary>
    /// The RSS hash input (datasheet 7.1.2.8.1): source and destination address, then source and destination port
    /// when <paramref name="withPorts"/>. Returns the bytes written.
    /// </summary>
    public int RssInput(ReadOnlySpan<byte> frame, bool withPorts, Span<byte> input)
    {
        int n = AddressLength * 2;
        frame.Slice(AddressOffset, n).CopyTo(input);
        if (withPorts)
        {
            frame.Slice(L4Offset, 4).CopyTo(input[n..]);
            n += 4;
        }
        return n;
    }
}
