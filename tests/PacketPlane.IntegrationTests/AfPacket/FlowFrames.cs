using System;
using System.Buffers.Binary;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// Deterministic IPv4/UDP test frames spread over many flows (the UDP source port cycles through
/// <c>flows</c> values), so the kernel's flow hash spreads them over PACKET_FANOUT members and TAP queues.
/// 10.99.1.1 to 10.99.2.1, destination port 9 (discard); the payload starts with a 4-byte sequence number.
/// </summary>
public static class FlowFrames
{
    /// <summary>Offset of the sequence number: Ethernet 14 + IPv4 20 + UDP 8.</summary>
    public const int SequenceOffset = 42;

    /// <summary>UDP source port of flow 0.</summary>
    public const ushort FirstSourcePort = 20000;

    /// <summary>Frame <paramref name="index"/> of <paramref name="size"/> bytes (at least 46).</summary>
    public static byte[] Build(int index, int size, int flows)
    {
        var f = new byte[size];
        ReadOnlySpan<byte> eth = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
        eth.CopyTo(f);
        Span<byte> ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(size - 14));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)index);
        ip[8] = 64;
        ip[9] = 17;
        ReadOnlySpan<byte> addresses = [10, 99, 1, 1, 10, 99, 2, 1];
        addresses.CopyTo(ip[12..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Ipv4Checksum(ip));
        Span<byte> udp = f.AsSpan(34, 8);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(FirstSourcePort + index % flows));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 9);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(size - 34));
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(SequenceOffset), (uint)index);
        for (int j = SequenceOffset + 4; j < size; j++)
            f[j] = (byte)(index * 13 + j);
        return f;
    }

    /// <summary>The sequence number of a flow frame, or -1 when the bytes are not one.</summary>
    public static long SequenceOf(ReadOnlySpan<byte> frame) =>
        frame.Length >= SequenceOffset + 4 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 17
            && BinaryPrimitives.ReadUInt16BigEndian(frame[36..]) == 9
            ? BinaryPrimitives.ReadUInt32BigEndian(frame[SequenceOffset..])
            : -1;

    private static ushort Ipv4Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
