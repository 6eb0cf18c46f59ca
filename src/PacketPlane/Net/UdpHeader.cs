using System;
using System.Buffers.Binary;
using PacketPlane.Internal;

namespace PacketPlane.Net;

/// <summary>
/// A view of a UDP header (RFC 768; 8 bytes) at the start of a span that runs to the end of the IP payload.
/// Checksums include the IPv4 or IPv6 pseudo-header; a transmitted checksum of 0 means "none" for IPv4 and is
/// sent as 0xFFFF when the computation gives 0.
/// </summary>
public readonly ref struct UdpHeader
{
    /// <summary>Bytes in the header.</summary>
    public const int Length = 8;

    private readonly Span<byte> _bytes;

    /// <summary>Views the header at the start of <paramref name="segment"/> (header and payload).</summary>
    /// <exception cref="ArgumentException">Fewer than 8 bytes.</exception>
    public UdpHeader(Span<byte> segment)
    {
        if (segment.Length < Length)
            ThrowHelper.ThrowArgument(nameof(segment), $"a UDP header needs {Length} bytes, got {segment.Length}");
        _bytes = segment;
    }

    /// <summary>Views the header when the span holds it; false when it is too short.</summary>
    public static bool TryCreate(Span<byte> segment, out UdpHeader header)
    {
        header = segment.Length >= Length ? new UdpHeader(segment) : default;
        return segment.Length >= Length;
    }

    /// <summary>The span the view was created over.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Source port.</summary>
    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    /// <summary>Destination port.</summary>
    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>Length of header and data in bytes.</summary>
    public ushort DatagramLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>Checksum field, host order (0: no checksum, IPv4 only).</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }

    /// <summary>True when <see cref="DatagramLength"/> is at least 8 and fits in the span.</summary>
    public bool IsValid => DatagramLength >= Length && DatagramLength <= _bytes.Length;

    /// <summary>The data after the header, up to <see cref="DatagramLength"/>, clamped to the span.</summary>
    public Span<byte> Payload => _bytes[Length..Math.Clamp((int)DatagramLength, Length, _bytes.Length)];

    /// <summary>The checksum this datagram should carry over IPv4 (the field taken as zero).</summary>
    public ushort ComputeChecksum(Ipv4Header ip) => Finish(ip.PseudoHeaderSum(IpProtocol.Udp, SegmentLength));

    /// <summary>The checksum this datagram should carry over IPv6 (mandatory there, RFC 8200 section 8.1).</summary>
    public ushort ComputeChecksum(Ipv6Header ip) => Finish(ip.PseudoHeaderSum(IpProtocol.Udp, SegmentLength));

    /// <summary>Computes and stores the checksum over IPv4.</summary>
    public void UpdateChecksum(Ipv4Header ip) => Checksum = ComputeChecksum(ip);

    /// <summary>Computes and stores the checksum over IPv6.</summary>
    public void UpdateChecksum(Ipv6Header ip) => Checksum = ComputeChecksum(ip);

    /// <summary>True when the checksum is right, or absent (0) over IPv4.</summary>
    public bool IsChecksumValid(Ipv4Header ip) =>
        Checksum == 0 || Net.Checksum.Verify(Segment, ip.PseudoHeaderSum(IpProtocol.Udp, SegmentLength));

    /// <summary>True when the checksum is right over IPv6 (a zero checksum is invalid there).</summary>
    public bool IsChecksumValid(Ipv6Header ip) =>
        Checksum != 0 && Net.Checksum.Verify(Segment, ip.PseudoHeaderSum(IpProtocol.Udp, SegmentLength));

    /// <summary>
    /// Adjusts the checksum for an IPv4 address in the pseudo-header changing from <paramref name="oldAddress"/>
    /// to <paramref name="newAddress"/> (RFC 1624). An absent checksum (0) stays absent.
    /// </summary>
    public void AdjustChecksum(uint oldAddress, uint newAddress)
    {
        ushort c = Checksum;
        if (c == 0)
            return;
        c = Net.Checksum.Adjust(c, oldAddress, newAddress);
        Checksum = c == 0 ? (ushort)0xFFFF : c;
    }

    /// <summary>Adjusts the checksum for a 16-byte IPv6 address change in the pseudo-header (RFC 1624).</summary>
    public void AdjustChecksum(ReadOnlySpan<byte> oldAddress, ReadOnlySpan<byte> newAddress)
    {
        ushort c = Net.Checksum.Adjust(Checksum, oldAddress, newAddress);
        Checksum = c == 0 ? (ushort)0xFFFF : c;
    }

    /// <summary>Writes a header with a zero checksum; fill it with <see cref="UpdateChecksum(Ipv4Header)"/> once the payload is in place.</summary>
    public static void Write(Span<byte> destination, ushort sourcePort, ushort destinationPort, int payloadLength)
    {
        if ((uint)payloadLength > ushort.MaxValue - Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(payloadLength), $"a UDP payload is at most {ushort.MaxValue - Length} bytes, got {payloadLength}");
        var udp = new UdpHeader(destination)
        {
            SourcePort = sourcePort,
            DestinationPort = destinationPort,
            DatagramLength = (ushort)(Length + payloadLength),
            Checksum = 0,
        };
        _ = udp;
    }

    // The checksum covers the datagram as its length field says (RFC 768), bounded by the span.
    private int SegmentLength => Math.Clamp((int)DatagramLength, Length, _bytes.Length);

    private ReadOnlySpan<byte> Segment => _bytes[..SegmentLength];

    private ushort Finish(uint pseudoSum)
    {
        // Sum with the field removed: add its complement (see Ipv4Header.ComputeChecksum).
        uint sum = Net.Checksum.Sum(Segment, pseudoSum);
        ushort c = (ushort)~Net.Checksum.Fold((ulong)sum + (ushort)~Checksum);
        return c == 0 ? (ushort)0xFFFF : c;
    }
}

/// <summary>
/// A view of a TCP header (RFC 9293 section 3.1; 20 to 60 bytes) at the start of a span that runs to the end
/// of the IP payload.
/// </summary>
public readonly ref struct TcpHeader
{
    /// <summary>Bytes in a header without options.</summary>
    public const int MinLength = 20;

    /// <summary>FIN flag.</summary>
    public const byte FlagFin = 0x01;
    /// <summary>SYN flag.</summary>
    public const byte FlagSyn = 0x02;
    /// <summary>RST flag.</summary>
    public const byte FlagRst = 0x04;
    /// <summary>PSH flag.</summary>
    public const byte FlagPsh = 0x08;
    /// <summary>ACK flag.</summary>
    public const byte FlagAck = 0x10;
    /// <summary>URG flag.</summary>
    public const byte FlagUrg = 0x20;

    private readonly Span<byte> _bytes;

    /// <summary>Views the header at the start of <paramref name="segment"/> (header and payload).</summary>
    /// <exception cref="ArgumentException">Fewer than 20 bytes.</exception>
    public TcpHeader(Span<byte> segment)
    {
        if (segment.Length < MinLength)
            ThrowHelper.ThrowArgument(nameof(segment), $"a TCP header needs at least {MinLength} bytes, got {segment.Length}");
        _bytes = segment;
    }

    /// <summary>Views the header when the span holds the fixed part; false when it is too short.</summary>
    public static bool TryCreate(Span<byte> segment, out TcpHeader header)
    {
        header = segment.Length >= MinLength ? new TcpHeader(segment) : default;
        return segment.Length >= MinLength;
    }

    /// <summary>The span the view was created over.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Source port.</summary>
    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    /// <summary>Destination port.</summary>
    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>Sequence number.</summary>
    public uint SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[4..], value);
    }

    /// <summary>Acknowledgment number.</summary>
    public uint AcknowledgmentNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[8..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[8..], value);
    }

    /// <summary>Header length in bytes (data offset x 4).</summary>
    public int HeaderLength => (_bytes[12] >> 4) * 4;

    /// <summary>Data offset byte (high nibble: header length in 32-bit words).</summary>
    public byte DataOffset
    {
        get => _bytes[12];
        set => _bytes[12] = value;
    }

    /// <summary>Flags byte (CWR ECE URG ACK PSH RST SYN FIN).</summary>
    public byte Flags
    {
        get => _bytes[13];
        set => _bytes[13] = value;
    }

    /// <summary>Receive window.</summary>
    public ushort Window
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[14..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[14..], value);
    }

    /// <summary>Checksum field, host order.</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[16..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[16..], value);
    }

    /// <summary>Urgent pointer.</summary>
    public ushort UrgentPointer
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[18..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[18..], value);
    }

    /// <summary>True when the header length is at least 20 and fits in the span.</summary>
    public bool IsValid => HeaderLength >= MinLength && HeaderLength <= _bytes.Length;

    /// <summary>Option bytes, clamped to the span.</summary>
    public Span<byte> Options => _bytes[MinLength..Math.Clamp(HeaderLength, MinLength, _bytes.Length)];

    /// <summary>Data after the header (to the end of the span, which should end where the IP payload ends).</summary>
    public Span<byte> Payload => _bytes[Math.Clamp(HeaderLength, MinLength, _bytes.Length)..];

    /// <summary>The checksum this segment should carry over IPv4 (the field taken as zero). The segment is the whole span.</summary>
    public ushort ComputeChecksum(Ipv4Header ip) => Finish(ip.PseudoHeaderSum(IpProtocol.Tcp, _bytes.Length));

    /// <summary>The checksum this segment should carry over IPv6.</summary>
    public ushort ComputeChecksum(Ipv6Header ip) => Finish(ip.PseudoHeaderSum(IpProtocol.Tcp, _bytes.Length));

    /// <summary>Computes and stores the checksum over IPv4.</summary>
    public void UpdateChecksum(Ipv4Header ip) => Checksum = ComputeChecksum(ip);

    /// <summary>Computes and stores the checksum over IPv6.</summary>
    public void UpdateChecksum(Ipv6Header ip) => Checksum = ComputeChecksum(ip);

    /// <summary>True when the checksum is right over IPv4.</summary>
    public bool IsChecksumValid(Ipv4Header ip) => Net.Checksum.Verify(_bytes, ip.PseudoHeaderSum(IpProtocol.Tcp, _bytes.Length));

    /// <summary>True when the checksum is right over IPv6.</summary>
    public bool IsChecksumValid(Ipv6Header ip) => Net.Checksum.Verify(_bytes, ip.PseudoHeaderSum(IpProtocol.Tcp, _bytes.Length));

    /// <summary>Adjusts the checksum for an IPv4 address change in the pseudo-header (RFC 1624).</summary>
    public void AdjustChecksum(uint oldAddress, uint newAddress) =>
        Checksum = Net.Checksum.Adjust(Checksum, oldAddress, newAddress);

    /// <summary>Adjusts the checksum for a 16-byte IPv6 address change in the pseudo-header (RFC 1624).</summary>
    public void AdjustChecksum(ReadOnlySpan<byte> oldAddress, ReadOnlySpan<byte> newAddress) =>
        Checksum = Net.Checksum.Adjust(Checksum, oldAddress, newAddress);

    /// <summary>Writes a 20-byte header without options and with a zero checksum.</summary>
    public static void Write(Span<byte> destination, ushort sourcePort, ushort destinationPort, uint sequence,
        uint acknowledgment, byte flags, ushort window = 65535)
    {
        var tcp = new TcpHeader(destination)
        {
            SourcePort = sourcePort,
            DestinationPort = destinationPort,
            SequenceNumber = sequence,
            AcknowledgmentNumber = acknowledgment,
            DataOffset = 5 << 4,
            Flags = flags,
            Window = window,
            Checksum = 0,
            UrgentPointer = 0,
        };
        _ = tcp;
    }

    private ushort Finish(uint pseudoSum)
    {
        uint sum = Net.Checksum.Sum(_bytes, pseudoSum);
        return (ushort)~Net.Checksum.Fold((ulong)sum + (ushort)~Checksum);
    }
}
