using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Internal;

namespace PacketPlane.Net;

/// <summary>
/// A view of an IPv4 header (RFC 791 section 3.1) at the start of a span that may extend to the end of the
/// packet. Addresses are host-order numbers (198.18.0.1 is 0xC6120001). The constructor checks only that the
/// 20 fixed bytes are present; <see cref="IsValid"/> checks the version and lengths against the span, and
/// everything variable-length (<see cref="Options"/>, <see cref="Payload"/>) is clamped to the span, so no
/// accessor reads outside it whatever the header claims.
/// </summary>
public readonly ref struct Ipv4Header
{
    /// <summary>Bytes in a header without options.</summary>
    public const int MinLength = 20;

    /// <summary>Bytes in the largest header (IHL 15).</summary>
    public const int MaxLength = 60;

    /// <summary>Don't Fragment flag in the flags/offset word.</summary>
    public const ushort FlagDontFragment = 0x4000;

    /// <summary>More Fragments flag in the flags/offset word.</summary>
    public const ushort FlagMoreFragments = 0x2000;

    /// <summary>Fragment offset bits (in 8-byte units) of the flags/offset word.</summary>
    public const ushort FragmentOffsetMask = 0x1FFF;

    private readonly Span<byte> _bytes;

    /// <summary>Views the header at the start of <paramref name="bytes"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than 20 bytes.</exception>
    public Ipv4Header(Span<byte> bytes)
    {
        if (bytes.Length < MinLength)
            ThrowHelper.ThrowArgument(nameof(bytes), $"an IPv4 header needs at least {MinLength} bytes, got {bytes.Length}");
        _bytes = bytes;
    }

    /// <summary>Views the header when the span holds the fixed part; false when it is too short.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv4Header header)
    {
        header = bytes.Length >= MinLength ? new Ipv4Header(bytes) : default;
        return bytes.Length >= MinLength;
    }

    /// <summary>The span the view was created over.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Version (4 for a valid header).</summary>
    public int Version => _bytes[0] >> 4;

    /// <summary>Version and IHL byte (0x45 for a header without options).</summary>
    public byte VersionIhl
    {
        get => _bytes[0];
        set => _bytes[0] = value;
    }

    /// <summary>Header length in bytes (IHL x 4), 20 to 60 for a valid header.</summary>
    public int HeaderLength => (_bytes[0] & 0x0F) * 4;

    /// <summary>Type of service / DSCP and ECN byte.</summary>
    public byte TypeOfService
    {
        get => _bytes[1];
        set => _bytes[1] = value;
    }

    /// <summary>Total length of the datagram (header and payload) in bytes.</summary>
    public ushort TotalLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>Identification.</summary>
    public ushort Identification
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>Flags (3 bits) and fragment offset (13 bits, 8-byte units) as one word.</summary>
    public ushort FlagsAndFragmentOffset
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }

    /// <summary>Don't Fragment.</summary>
    public bool DontFragment => (FlagsAndFragmentOffset & FlagDontFragment) != 0;

    /// <summary>More Fragments.</summary>
    public bool MoreFragments => (FlagsAndFragmentOffset & FlagMoreFragments) != 0;

    /// <summary>Fragment offset in bytes.</summary>
    public int FragmentOffset => (FlagsAndFragmentOffset & FragmentOffsetMask) * 8;

    /// <summary>True for any fragment (More Fragments set or a non-zero offset).</summary>
    public bool IsFragment => (FlagsAndFragmentOffset & (FlagMoreFragments | FragmentOffsetMask)) != 0;

    /// <summary>Time to live.</summary>
    public byte TimeToLive
    {
        get => _bytes[8];
        set => _bytes[8] = value;
    }

    /// <summary>Protocol of the payload (<see cref="IpProtocol"/>).</summary>
    public byte Protocol
    {
        get => _bytes[9];
        set => _bytes[9] = value;
    }

    /// <summary>Header checksum field, host order.</summary>
    public ushort HeaderChecksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[10..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[10..], value);
    }

    /// <summary>Source address, host order.</summary>
    public uint SourceAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[12..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[12..], value);
    }

    /// <summary>Destination address, host order.</summary>
    public uint DestinationAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[16..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[16..], value);
    }

    /// <summary>
    /// True when the header is one a router may process: version 4, IHL at least 5, the header within the span,
    /// and a total length that covers the header and fits in the span (RFC 1812 section 5.2.2, minus the
    /// checksum, which <see cref="IsChecksumValid"/> checks).
    /// </summary>
    public bool IsValid
    {
        get
        {
            int ihl = HeaderLength;
            int total = TotalLength;
            return Version == 4 && ihl >= MinLength && ihl <= _bytes.Length && total >= ihl && total <= _bytes.Length;
        }
    }

    /// <summary>Option bytes (between the fixed header and <see cref="HeaderLength"/>), clamped to the span.</summary>
    public Span<byte> Options => _bytes[MinLength..Math.Clamp(HeaderLength, MinLength, _bytes.Length)];

    /// <summary>
    /// The payload: from <see cref="HeaderLength"/> to <see cref="TotalLength"/> (Ethernet padding excluded),
    /// clamped to the span.
    /// </summary>
    public Span<byte> Payload
    {
        get
        {
            int start = Math.Clamp(HeaderLength, MinLength, _bytes.Length);
            int end = Math.Clamp((int)TotalLength, start, _bytes.Length);
            return _bytes[start..end];
        }
    }

    /// <summary>The checksum the header should carry (computed with the field taken as zero).</summary>
    public ushort ComputeChecksum()
    {
        ReadOnlySpan<byte> header = _bytes[..Math.Clamp(HeaderLength, MinLength, _bytes.Length)];
        // Summing the field itself and then removing it is the same as summing with a zero field.
        uint sum = header.Length == MinLength ? SumFixedHeader(header) : Checksum.Sum(header);
        ushort withoutField = Checksum.Fold((ulong)sum + (ushort)~HeaderChecksum);
        return (ushort)~withoutField;
    }

    /// <summary>Computes and stores the header checksum.</summary>
    public void UpdateChecksum() => HeaderChecksum = ComputeChecksum();

    /// <summary>True when the header (options included) sums to all ones (RFC 1071), i.e. its checksum is right.</summary>
    public bool IsChecksumValid
    {
        get
        {
            ReadOnlySpan<byte> header = _bytes[..Math.Clamp(HeaderLength, MinLength, _bytes.Length)];
            uint sum = header.Length == MinLength ? SumFixedHeader(header) : Checksum.Sum(header);
            return sum == 0xFFFF;
        }
    }

    /// <summary>
    /// Decrements the TTL and adjusts the checksum incrementally (RFC 1624; RFC 1812 section 5.3.1). Returns the
    /// new TTL. The caller drops the packet instead when the TTL is 1 or less (this leaves 0 alone).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte DecrementTimeToLive()
    {
        byte ttl = _bytes[8];
        if (ttl == 0)
            return 0;
        // TTL is the high byte of the TTL/protocol word, so the word drops by 0x0100.
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(_bytes[8..]);
        _bytes[8] = (byte)(ttl - 1);
        HeaderChecksum = Checksum.Adjust(HeaderChecksum, oldWord, (ushort)(oldWord - 0x0100));
        return (byte)(ttl - 1);
    }

    /// <summary>
    /// Rewrites the source address and adjusts the header checksum incrementally (RFC 1624). An L4 checksum
    /// covers the address through the pseudo-header: adjust it with <see cref="UdpHeader.AdjustChecksum(uint, uint)"/>
    /// or <see cref="TcpHeader.AdjustChecksum(uint, uint)"/>.
    /// </summary>
    public void RewriteSourceAddress(uint address)
    {
        uint old = SourceAddress;
        SourceAddress = address;
        HeaderChecksum = Checksum.Adjust(HeaderChecksum, old, address);
    }

    /// <summary>Rewrites the destination address and adjusts the header checksum incrementally (RFC 1624).</summary>
    public void RewriteDestinationAddress(uint address)
    {
        uint old = DestinationAddress;
        DestinationAddress = address;
        HeaderChecksum = Checksum.Adjust(HeaderChecksum, old, address);
    }

    /// <summary>Sum of the pseudo-header for an L4 checksum over this header's addresses and payload length.</summary>
    public uint PseudoHeaderSum(byte protocol, int l4Length) =>
        Checksum.PseudoHeaderSum(SourceAddress, DestinationAddress, protocol, l4Length);

    /// <summary>
    /// Writes a 20-byte header without options, with its checksum, at the start of <paramref name="destination"/>.
    /// </summary>
    public static void Write(Span<byte> destination, uint source, uint dest, byte protocol, int payloadLength,
        byte timeToLive = 64, ushort identification = 0, ushort flagsAndOffset = 0, byte typeOfService = 0)
    {
        if ((uint)payloadLength > ushort.MaxValue - MinLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(payloadLength), $"an IPv4 payload is at most {ushort.MaxValue - MinLength} bytes, got {payloadLength}");
        var ip = new Ipv4Header(destination)
        {
            VersionIhl = 0x45,
            TypeOfService = typeOfService,
            TotalLength = (ushort)(MinLength + payloadLength),
            Identification = identification,
            FlagsAndFragmentOffset = flagsAndOffset,
            TimeToLive = timeToLive,
            Protocol = protocol,
            HeaderChecksum = 0,
            SourceAddress = source,
            DestinationAddress = dest,
        };
        ip.HeaderChecksum = ip.ComputeChecksum();
    }

    /// <summary>Formats a host-order address as dotted decimal.</summary>
    public static string FormatAddress(uint address) =>
        $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}";

    /// <summary>Parses dotted decimal ("198.18.0.1") into a host-order address.</summary>
    public static uint ParseAddress(string text)
    {
        if (!System.Net.IPAddress.TryParse(text, out System.Net.IPAddress? ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new FormatException($"'{text}' is not an IPv4 address; expected dotted decimal such as 198.18.0.1");
        Span<byte> b = stackalloc byte[4];
        ip.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    /// <summary>The five 32-bit words of a fixed header summed in native order, then folded to network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SumFixedHeader(ReadOnlySpan<byte> h)
    {
        ref byte p = ref MemoryMarshal.GetReference(h);
        ulong sum = (ulong)Unsafe.ReadUnaligned<uint>(ref p)
            + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 4))
            + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 8))
            + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 12))
            + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 16));
        ushort native = Checksum.Fold(sum);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;
    }
}
