using System;
using System.Buffers.Binary;
using PacketPlane.Internal;

namespace PacketPlane.Net;

/// <summary>
/// A view of an IPv6 fixed header (RFC 8200 section 3; 40 bytes) at the start of a span that may extend to the
/// end of the packet. Addresses are 16-byte spans in wire order. Variable parts (<see cref="Payload"/>) are
/// clamped to the span; <see cref="WalkExtensionHeaders"/> finds the upper-layer header.
/// </summary>
public readonly ref struct Ipv6Header
{
    /// <summary>Bytes in the fixed header.</summary>
    public const int Length = 40;

    private readonly Span<byte> _bytes;

    /// <summary>Views the header at the start of <paramref name="bytes"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than 40 bytes.</exception>
    public Ipv6Header(Span<byte> bytes)
    {
        if (bytes.Length < Length)
            ThrowHelper.ThrowArgument(nameof(bytes), $"an IPv6 header needs {Length} bytes, got {bytes.Length}");
        _bytes = bytes;
    }

    /// <summary>Views the header when the span holds it; false when it is too short.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv6Header header)
    {
        header = bytes.Length >= Length ? new Ipv6Header(bytes) : default;
        return bytes.Length >= Length;
    }

    /// <summary>The span the view was created over.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Version (6 for a valid header).</summary>
    public int Version => _bytes[0] >> 4;

    /// <summary>Version, traffic class and flow label as one word.</summary>
    public uint VersionClassFlow
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes, value);
    }

    /// <summary>Traffic class (DSCP and ECN).</summary>
    public byte TrafficClass => (byte)(VersionClassFlow >> 20);

    /// <summary>Flow label (20 bits).</summary>
    public uint FlowLabel => VersionClassFlow & 0xF_FFFF;

    /// <summary>Payload length: bytes after the fixed header, extension headers included.</summary>
    public ushort PayloadLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>Type of the header after this one (<see cref="IpProtocol"/>).</summary>
    public byte NextHeader
    {
        get => _bytes[6];
        set => _bytes[6] = value;
    }

    /// <summary>Hop limit.</summary>
    public byte HopLimit
    {
        get => _bytes[7];
        set => _bytes[7] = value;
    }

    /// <summary>Source address, 16 bytes in wire order (writable in place).</summary>
    public Span<byte> SourceAddress => _bytes.Slice(8, 16);

    /// <summary>Destination address, 16 bytes in wire order (writable in place).</summary>
    public Span<byte> DestinationAddress => _bytes.Slice(24, 16);

    /// <summary>True when the version is 6 and the payload length fits in the span.</summary>
    public bool IsValid => Version == 6 && Length + PayloadLength <= _bytes.Length;

    /// <summary>The payload (extension headers and upper layer), clamped to the span; Ethernet padding excluded.</summary>
    public Span<byte> Payload => _bytes[Length..Math.Min(_bytes.Length, Length + PayloadLength)];

    /// <summary>Decrements the hop limit (IPv6 has no header checksum); returns the new value, leaving 0 alone.</summary>
    public byte DecrementHopLimit()
    {
        byte h = _bytes[7];
        if (h == 0)
            return 0;
        _bytes[7] = (byte)(h - 1);
        return (byte)(h - 1);
    }

    /// <summary>
    /// Walks the extension headers in <see cref="Payload"/> (RFC 8200 section 4: hop-by-hop, routing, fragment,
    /// destination options; RFC 4302 authentication header) to the upper-layer header. False when a header is
    /// truncated, longer than the payload, or the chain is longer than <see cref="Ipv6Extensions.MaxHeaders"/>.
    /// </summary>
    public bool WalkExtensionHeaders(out Ipv6Extensions extensions) =>
        Ipv6Extensions.TryWalk(Payload, NextHeader, out extensions);

    /// <summary>Sum of the pseudo-header for an upper-layer checksum over this header's addresses.</summary>
    public uint PseudoHeaderSum(byte protocol, int l4Length) =>
        Checksum.PseudoHeaderSum(SourceAddress, DestinationAddress, protocol, l4Length);

    /// <summary>Writes a 40-byte fixed header at the start of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, ReadOnlySpan<byte> source, ReadOnlySpan<byte> dest, byte nextHeader,
        int payloadLength, byte hopLimit = 64, byte trafficClass = 0, uint flowLabel = 0)
    {
        if (source.Length != 16 || dest.Length != 16)
            ThrowHelper.ThrowArgument(nameof(source), $"IPv6 addresses are 16 bytes, got {source.Length} and {dest.Length}");
        if ((uint)payloadLength > ushort.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(payloadLength), $"an IPv6 payload is at most {ushort.MaxValue} bytes without a jumbogram option, got {payloadLength}");
        var ip = new Ipv6Header(destination)
        {
            VersionClassFlow = (6u << 28) | ((uint)trafficClass << 20) | (flowLabel & 0xF_FFFF),
            PayloadLength = (ushort)payloadLength,
            NextHeader = nextHeader,
            HopLimit = hopLimit,
        };
        source.CopyTo(ip.SourceAddress);
        dest.CopyTo(ip.DestinationAddress);
    }
}

/// <summary>What a walk over IPv6 extension headers found (see <see cref="Ipv6Header.WalkExtensionHeaders"/>).</summary>
public readonly struct Ipv6Extensions
{
    /// <summary>
    /// Most extension headers walked before giving up. RFC 8200 section 4.1 allows each type once (destination
    /// options twice), so a legitimate chain has at most 7 including AH; 8 leaves room and stops loops.
    /// </summary>
    public const int MaxHeaders = 8;

    /// <summary>Bytes of extension headers after the fixed header.</summary>
    public int Length { get; init; }

    /// <summary>Extension headers walked.</summary>
    public int Count { get; init; }

    /// <summary>
    /// The first header that is not a walkable extension: the upper-layer protocol (TCP, UDP, ICMPv6), or ESP,
    /// or <see cref="IpProtocol.NoNextHeader"/>.
    /// </summary>
    public byte UpperLayerProtocol { get; init; }

    /// <summary>A fragment header was present.</summary>
    public bool HasFragmentHeader { get; init; }

    /// <summary>Fragment offset in bytes (0 without a fragment header).</summary>
    public int FragmentOffset { get; init; }

    /// <summary>M flag of the fragment header.</summary>
    public bool MoreFragments { get; init; }

    /// <summary>
    /// True for a real fragment: a fragment header with a non-zero offset or the M flag. An "atomic fragment"
    /// (offset 0, M clear) is processed as a whole packet (RFC 6946 section 4).
    /// </summary>
    public bool IsFragment => HasFragmentHeader && (FragmentOffset != 0 || MoreFragments);

    /// <summary>
    /// Walks the extension headers at the start of <paramref name="payload"/>, the first of type
    /// <paramref name="nextHeader"/>. Never reads outside <paramref name="payload"/>.
    /// </summary>
    public static bool TryWalk(ReadOnlySpan<byte> payload, byte nextHeader, out Ipv6Extensions extensions)
    {
        int offset = 0;
        int count = 0;
        bool hasFragment = false;
        int fragmentOffset = 0;
        bool more = false;
        byte next = nextHeader;
        extensions = default;
        while (IsExtension(next))
        {
            // Hop-by-hop options may only follow the fixed header (RFC 8200 section 4.3).
            if (count == MaxHeaders || payload.Length - offset < 8 || (next == IpProtocol.HopByHop && count > 0))
                return false;
            ReadOnlySpan<byte> h = payload[offset..];
            int length = next switch
            {
                // RFC 8200 section 4.5: fixed 8 bytes.
                IpProtocol.Fragment => 8,
                // RFC 4302 section 2.2: payload length is in 32-bit words, minus 2.
                IpProtocol.Ah => (h[1] + 2) * 4,
                // RFC 8200 sections 4.3, 4.4, 4.6: length in 8-octet units, not counting the first 8 octets.
                _ => (h[1] + 1) * 8,
            };
            if (length > payload.Length - offset)
                return false;
            if (next == IpProtocol.Fragment)
            {
                // A second fragment header is malformed (RFC 8200 section 4.1: at most once).
                if (hasFragment)
                    return false;
                ushort offsetWord = BinaryPrimitives.ReadUInt16BigEndian(h[2..]);
                hasFragment = true;
                fragmentOffset = (offsetWord >> 3) * 8;
                more = (offsetWord & 1) != 0;
            }
            next = h[0];
            offset += length;
            count++;
            // Past a fragment header with a non-zero offset come data bytes, not headers.
            if (hasFragment && fragmentOffset != 0)
                break;
        }
        extensions = new Ipv6Extensions
        {
            Length = offset,
            Count = count,
            UpperLayerProtocol = next,
            HasFragmentHeader = hasFragment,
            FragmentOffset = fragmentOffset,
            MoreFragments = more,
        };
        return true;
    }

    /// <summary>True for the extension header types the walk steps over.</summary>
    public static bool IsExtension(byte nextHeader) => nextHeader is IpProtocol.HopByHop or IpProtocol.Routing
        or IpProtocol.Fragment or IpProtocol.DestinationOptions or IpProtocol.Ah;
}
