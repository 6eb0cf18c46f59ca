using System;
using System.Buffers.Binary;
using PacketPlane.Internal;

namespace PacketPlane.Net;

/// <summary>
/// A view of an ARP packet for Ethernet and IPv4 (RFC 826; hardware type 1, protocol 0x0800, lengths 6 and 4:
/// 28 bytes). Addresses of protocol type IPv4 are host-order numbers, as in <see cref="Ipv4Header"/>.
/// </summary>
public readonly ref struct ArpHeader
{
    /// <summary>Bytes in an Ethernet/IPv4 ARP packet.</summary>
    public const int Length = 28;

    /// <summary>Hardware type Ethernet (1).</summary>
    public const ushort HardwareTypeEthernet = 1;

    /// <summary>ARP request (1).</summary>
    public const ushort OperationRequest = 1;

    /// <summary>ARP reply (2).</summary>
    public const ushort OperationReply = 2;

    private readonly Span<byte> _bytes;

    /// <summary>Views the ARP packet at the start of <paramref name="bytes"/>.</summary>
    public ArpHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
            ThrowHelper.ThrowArgument(nameof(bytes), $"an Ethernet/IPv4 ARP packet needs {Length} bytes, got {bytes.Length}");
        _bytes = bytes;
    }

    /// <summary>Hardware type (1 for Ethernet).</summary>
    public ushort HardwareType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    /// <summary>Protocol type (an EtherType, 0x0800 for IPv4).</summary>
    public ushort ProtocolType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>Hardware address length (6).</summary>
    public byte HardwareLength
    {
        get => _bytes[4];
        set => _bytes[4] = value;
    }

    /// <summary>Protocol address length (4).</summary>
    public byte ProtocolLength
    {
        get => _bytes[5];
        set => _bytes[5] = value;
    }

    /// <summary>Operation: <see cref="OperationRequest"/> or <see cref="OperationReply"/>.</summary>
    public ushort Operation
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }

    /// <summary>True when the lengths and types are Ethernet/IPv4, the only layout this view describes.</summary>
    public bool IsEthernetIpv4 => HardwareType == HardwareTypeEthernet && ProtocolType == EtherType.Ipv4
        && HardwareLength == 6 && ProtocolLength == 4;

    /// <summary>Sender hardware address.</summary>
    public MacAddress SenderHardwareAddress
    {
        get => new(_bytes.Slice(8, 6));
        set => value.CopyTo(_bytes[8..]);
    }

    /// <summary>Sender IPv4 address, host order.</summary>
    public uint SenderProtocolAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[14..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[14..], value);
    }

    /// <summary>Target hardware address.</summary>
    public MacAddress TargetHardwareAddress
    {
        get => new(_bytes.Slice(18, 6));
        set => value.CopyTo(_bytes[18..]);
    }

    /// <summary>Target IPv4 address, host order.</summary>
    public uint TargetProtocolAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[24..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[24..], value);
    }

    /// <summary>Writes an Ethernet/IPv4 ARP packet (28 bytes) at the start of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, ushort operation, MacAddress senderMac, uint senderIp, MacAddress targetMac, uint targetIp)
    {
        var arp = new ArpHeader(destination)
        {
            HardwareType = HardwareTypeEthernet,
            ProtocolType = EtherType.Ipv4,
            HardwareLength = 6,
            ProtocolLength = 4,
            Operation = operation,
            SenderHardwareAddress = senderMac,
            SenderProtocolAddress = senderIp,
            TargetHardwareAddress = targetMac,
            TargetProtocolAddress = targetIp,
        };
        _ = arp;
    }
}
