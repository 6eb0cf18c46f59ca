using System;
using System.Buffers.Binary;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.Tests.Pci;

/// <summary>What RSS should do with a frame, from the reference Toeplitz (independent of the drivers).</summary>
internal static class RssExpectation
{
    /// <summary>The hash of an IPv4 or IPv6 frame with TCP/UDP ports (4-tuple) under <paramref name="key"/>.</summary>
    public static uint FourTupleHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> frame)
    {
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        Span<byte> input = stackalloc byte[36];
        if (type == 0x0800)
        {
            int ihl = (frame[14] & 0xF) * 4;
            frame.Slice(26, 8).CopyTo(input);
            frame.Slice(14 + ihl, 4).CopyTo(input[8..]);
            return Toeplitz.Hash(key, input[..12]);
        }
        frame.Slice(22, 32).CopyTo(input);
        frame.Slice(54, 4).CopyTo(input[32..]);
        return Toeplitz.Hash(key, input);
    }
}
