using System;
using System.Buffers.Binary;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// Deterministic frames for the NIC model tests: frame i has a length between 60 and 1514 bytes that varies with i,
/// destination 02:00:00:00:00:02, source 02:00:00:00:00:01, EtherType 0x88B5, the index, then bytes derived from
/// the index and a seed. Builders write into spans so the million-frame loops allocate nothing.
/// </summary>
internal static class ModelFrames
{
    public static int LengthOf(long index) => 60 + (int)(index * 37 % 1455);

    public static int Build(long index, Span<byte> frame, int seed)
    {
        int length = LengthOf(index);
        ReadOnlySpan<byte> header = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xB5];
        header.CopyTo(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame[14..], (uint)index);
        for (int j = 18; j < length; j++)
            frame[j] = (byte)(index * 31 + j * 7 + seed);
        return length;
    }

    public static long TotalBytes(long count)
    {
        long total = 0;
        for (long i = 0; i < count; i++)
            total += LengthOf(i);
        return total;
    }

    /// <summary>
    /// An IPv4/UDP (or TCP) frame of flow <paramref name="flow"/>: addresses 10.99.x.y and ports derived from the
    /// flow number, so flows spread over RSS queues.
    /// </summary>
    public static byte[] Ipv4Flow(int flow, byte protocol = 17, int payload = 32)
    {
        int l4 = protocol == 6 ? 20 : 8;
        var f = new byte[14 + 20 + l4 + payload];
        ReadOnlySpan<byte> eth = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
        eth.CopyTo(f);
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + l4 + payload));
        ip[8] = 64;
        ip[9] = protocol;
        ip[12] = 10; ip[13] = 99; ip[14] = (byte)(flow >> 8); ip[15] = (byte)flow;
        ip[16] = 10; ip[17] = 99; ip[18] = 200; ip[19] = (byte)(flow * 7);
        BinaryPrimitives.WriteUInt16BigEndian(ip[20..], (ushort)(1024 + flow * 13));
        BinaryPrimitives.WriteUInt16BigEndian(ip[22..], (ushort)(4000 + flow % 97));
        return f;
    }

    /// <summary>An IPv6/TCP frame of flow <paramref name="flow"/>.</summary>
    public static byte[] Ipv6Flow(int flow, byte protocol = 6)
    {
        int l4 = protocol == 6 ? 20 : 8;
        var f = new byte[14 + 40 + l4 + 16];
        ReadOnlySpan<byte> eth = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xDD];
        eth.CopyTo(f);
        Span<byte> ip = f.AsSpan(14);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(l4 + 16));
        ip[6] = protocol;
        ip[7] = 64;
        ip[8] = 0xfd; ip[9] = 0x99; ip[22] = (byte)(flow >> 8); ip[23] = (byte)flow;
        ip[24] = 0xfd; ip[25] = 0x99; ip[38] = 0x20; ip[39] = (byte)(flow * 3);
        BinaryPrimitives.WriteUInt16BigEndian(ip[40..], (ushort)(2000 + flow * 11));
        BinaryPrimitives.WriteUInt16BigEndian(ip[42..], (ushort)(443 + flow % 5));
        return f;
    }
}
