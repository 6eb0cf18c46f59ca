using System;
using System.Buffers.Binary;

namespace PacketPlane.IntegrationTests.Infrastructure;

/// <summary>
/// Deterministic test frames, byte-identical to rawsock.py's: dst 02:00:00:00:00:02, src 02:00:00:00:00:01,
/// EtherType 0x88b5, a 4-byte big-endian sequence number, then a body derived from the number and a seed.
/// </summary>
public static class TestFrames
{
    /// <summary>IEEE 802 local experimental EtherType: no kernel protocol handles it.</summary>
    public const ushort EtherType = 0x88B5;

    /// <summary>Writes frame <paramref name="index"/> of <paramref name="size"/> bytes into <paramref name="destination"/>.</summary>
    public static void Build(Span<byte> destination, int index, int size, int seed)
    {
        ReadOnlySpan<byte> header = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xB5];
        header.CopyTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[14..], (uint)index);
        for (int j = 0; j < size - 18; j++)
            destination[18 + j] = (byte)((index * 31 + j * 7 + seed) & 0xFF);
    }

    /// <summary>Frame <paramref name="index"/> as a new array.</summary>
    public static byte[] Build(int index, int size, int seed)
    {
        var f = new byte[size];
        Build(f, index, size, seed);
        return f;
    }

    /// <summary>The sequence number of a test frame, or -1 when the bytes are not one.</summary>
    public static long SequenceOf(ReadOnlySpan<byte> frame) =>
        frame.Length >= 18 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == EtherType
            ? BinaryPrimitives.ReadUInt32BigEndian(frame[14..])
            : -1;

    /// <summary>Path of rawsock.py next to the test assembly.</summary>
    public static string RawSockScript => System.IO.Path.Combine(AppContext.BaseDirectory, "Infrastructure", "rawsock.py");
}
