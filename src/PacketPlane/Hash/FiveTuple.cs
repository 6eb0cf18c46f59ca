using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using PacketPlane.Internal;

namespace PacketPlane.Hash;

/// <summary>
/// An IPv4 5-tuple as a 16-byte hash key, laid out like DPDK l3fwd's <c>union ipv4_5tuple_host</c>: the IPv4
/// header from its TTL field on (TTL and checksum zeroed) followed by the L4 ports, so a packet's key is one
/// 16-byte load and a mask. Fields are stored in network byte order; the accessors speak host order.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public readonly struct Ipv4FiveTuple : IEquatable<Ipv4FiveTuple>
{
    /// <summary>Bytes from the start of an IPv4 header to where the key begins (the TTL field).</summary>
    public const int HeaderOffset = 8;

    [FieldOffset(1)] private readonly byte _protocol;
    [FieldOffset(4)] private readonly uint _source;
    [FieldOffset(8)] private readonly uint _destination;
    [FieldOffset(12)] private readonly ushort _sourcePort;
    [FieldOffset(14)] private readonly ushort _destinationPort;

    /// <summary>Builds a key from host-order values.</summary>
    public Ipv4FiveTuple(uint sourceAddress, uint destinationAddress, ushort sourcePort, ushort destinationPort, byte protocol)
        : this(protocol, ToNetwork(sourceAddress), ToNetwork(destinationAddress), ToNetwork(sourcePort), ToNetwork(destinationPort))
    {
    }

    /// <summary>From fields already in network byte order.</summary>
    private Ipv4FiveTuple(byte protocol, uint source, uint destination, ushort sourcePort, ushort destinationPort)
    {
        this = default;
        _protocol = protocol;
        _source = source;
        _destination = destination;
        _sourcePort = sourcePort;
        _destinationPort = destinationPort;
    }

    /// <summary>Source address, host order.</summary>
    public uint SourceAddress => ToNetwork(_source);

    /// <summary>Destination address, host order.</summary>
    public uint DestinationAddress => ToNetwork(_destination);

    /// <summary>Source port, host order.</summary>
    public ushort SourcePort => ToNetwork(_sourcePort);

    /// <summary>Destination port, host order.</summary>
    public ushort DestinationPort => ToNetwork(_destinationPort);

    /// <summary>IP protocol number (6 TCP, 17 UDP).</summary>
    public byte Protocol => _protocol;

    /// <summary>
    /// The key of a packet, from its IPv4 header (with options, if IHL says so) and the first 4 bytes of the L4
    /// header that follows: l3fwd's load-and-mask when IHL is 5.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer bytes than the header plus 4.</exception>
    public static Ipv4FiveTuple FromIpv4Header(ReadOnlySpan<byte> ipv4Header)
    {
        int ihl = ipv4Header.IsEmpty ? 0 : (ipv4Header[0] & 0x0F) * 4;
        if (ihl < 20 || ipv4Header.Length < ihl + 4)
            ThrowHelper.ThrowArgument(nameof(ipv4Header), $"an IPv4 5-tuple needs the header (IHL {ihl} bytes, at least 20) plus 4 bytes of ports; got {ipv4Header.Length} bytes");
        if (ihl == 20)
        {
            // Keep only the protocol byte of the first word (TTL and checksum are not part of the flow).
            Vector128<byte> mask = Vector128.Create(0, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
            Vector128<byte> key = Vector128.Create(ipv4Header.Slice(HeaderOffset, 16)) & mask;
            return Unsafe.As<Vector128<byte>, Ipv4FiveTuple>(ref key);
        }
        return new Ipv4FiveTuple(ipv4Header[9],
            MemoryMarshal.Read<uint>(ipv4Header[12..]), MemoryMarshal.Read<uint>(ipv4Header[16..]),
            MemoryMarshal.Read<ushort>(ipv4Header[ihl..]), MemoryMarshal.Read<ushort>(ipv4Header[(ihl + 2)..]));
    }

    /// <inheritdoc/>
    public bool Equals(Ipv4FiveTuple other) => AsVector(this) == AsVector(other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Ipv4FiveTuple other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => AsVector(this).GetHashCode();

    /// <summary>Equal keys.</summary>
    public static bool operator ==(Ipv4FiveTuple left, Ipv4FiveTuple right) => left.Equals(right);

    /// <summary>Different keys.</summary>
    public static bool operator !=(Ipv4FiveTuple left, Ipv4FiveTuple right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{new System.Net.IPAddress(Bytes(4, 4))}:{SourcePort} -> {new System.Net.IPAddress(Bytes(8, 4))}:{DestinationPort} proto {Protocol}";

    private static uint ToNetwork(uint value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static ushort ToNetwork(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static Vector128<byte> AsVector(Ipv4FiveTuple key) => Unsafe.As<Ipv4FiveTuple, Vector128<byte>>(ref key);

    private byte[] Bytes(int offset, int length)
    {
        Ipv4FiveTuple copy = this;
        return MemoryMarshal.AsBytes(new ReadOnlySpan<Ipv4FiveTuple>(ref copy)).Slice(offset, length).ToArray();
    }
}

/// <summary>
/// An IPv6 5-tuple as a 48-byte hash key, laid out like DPDK l3fwd's <c>union ipv6_5tuple_host</c>: the IPv6
/// header from its payload-length field on (length and hop limit zeroed), the L4 ports, and 8 zero bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public readonly struct Ipv6FiveTuple : IEquatable<Ipv6FiveTuple>
{
    /// <summary>Bytes from the start of an IPv6 header to where the key begins (the payload length).</summary>
    public const int HeaderOffset = 4;

    private const int SourceOffset = 4;
    private const int DestinationOffset = 20;

    [FieldOffset(0)] private readonly Vector128<byte> _first;
    [FieldOffset(16)] private readonly Vector128<byte> _second;
    [FieldOffset(32)] private readonly Vector128<byte> _third;

    private Ipv6FiveTuple(Vector128<byte> first, Vector128<byte> second, Vector128<byte> third)
    {
        _first = first;
        _second = second;
        _third = third;
    }

    /// <summary>Builds a key from 16-byte addresses (network order) and host-order ports.</summary>
    /// <exception cref="ArgumentException">An address is not 16 bytes.</exception>
    public Ipv6FiveTuple(ReadOnlySpan<byte> sourceAddress, ReadOnlySpan<byte> destinationAddress, ushort sourcePort, ushort destinationPort, byte protocol)
    {
        if (sourceAddress.Length != 16 || destinationAddress.Length != 16)
            ThrowHelper.ThrowArgument(nameof(sourceAddress), "IPv6 addresses are 16 bytes");
        Span<byte> bytes = stackalloc byte[48];
        bytes.Clear();
        bytes[2] = protocol;
        sourceAddress.CopyTo(bytes[SourceOffset..]);
        destinationAddress.CopyTo(bytes[DestinationOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[36..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[38..], destinationPort);
        this = MemoryMarshal.Read<Ipv6FiveTuple>(bytes);
    }

    /// <summary>Source address.</summary>
    public System.Net.IPAddress SourceAddress => new(Bytes(SourceOffset, 16));

    /// <summary>Destination address.</summary>
    public System.Net.IPAddress DestinationAddress => new(Bytes(DestinationOffset, 16));

    /// <summary>Source port, host order.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Bytes(36, 2));

    /// <summary>Destination port, host order.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Bytes(38, 2));

    /// <summary>Next-header (protocol) number.</summary>
    public byte Protocol => Bytes(2, 1)[0];

    /// <summary>The key of a packet from its 40-byte IPv6 header and the 4 port bytes that follow (no extension headers, as l3fwd).</summary>
    /// <exception cref="ArgumentException">Fewer than 44 bytes.</exception>
    public static Ipv6FiveTuple FromIpv6Header(ReadOnlySpan<byte> ipv6Header)
    {
        if (ipv6Header.Length < 44)
            ThrowHelper.ThrowArgument(nameof(ipv6Header), $"an IPv6 5-tuple needs the 40-byte header plus 4 bytes of ports; got {ipv6Header.Length} bytes");
        // The 44 bytes from offset 4 as three 16-byte pieces, masked as l3fwd's mask1/mask2 do. The last piece is
        // the 8 bytes at 36 (end of the destination, then the ports) widened with zeros: one 8-byte load, no copy,
        // and nothing read past byte 44 (a 64-byte frame holds only 50 bytes of IPv6 packet).
        Vector128<byte> keepProtocol = Vector128.Create(0, 0, 0xFF, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
        return new Ipv6FiveTuple(
            Vector128.Create(ipv6Header.Slice(HeaderOffset, 16)) & keepProtocol,
            Vector128.Create(ipv6Header.Slice(20, 16)),
            Vector128.CreateScalar(MemoryMarshal.Read<ulong>(ipv6Header.Slice(36, 8))).AsByte());
    }

    /// <inheritdoc/>
    public bool Equals(Ipv6FiveTuple other) => _first == other._first && _second == other._second && _third == other._third;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Ipv6FiveTuple other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_first, _second, _third);

    /// <summary>Equal keys.</summary>
    public static bool operator ==(Ipv6FiveTuple left, Ipv6FiveTuple right) => left.Equals(right);

    /// <summary>Different keys.</summary>
    public static bool operator !=(Ipv6FiveTuple left, Ipv6FiveTuple right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() =>
        $"[{SourceAddress}]:{SourcePort} -> [{DestinationAddress}]:{DestinationPort} proto {Protocol}";

    private byte[] Bytes(int offset, int length)
    {
        Ipv6FiveTuple copy = this;
        return MemoryMarshal.AsBytes(new ReadOnlySpan<Ipv6FiveTuple>(ref copy)).Slice(offset, length).ToArray();
    }
}
