using System;
using System.Buffers.Binary;
using PacketPlane.Internal;

namespace PacketPlane.Hash;

/// <summary>
/// The Toeplitz hash NICs use for receive-side scaling (RSS), as Microsoft's RSS specification defines it: for
/// every set bit of the input, left to right, XOR in the 32 key bits starting at that bit position. With the same
/// key and the same input layout it predicts the queue a NIC picks (DPDK's <c>rte_softrss</c>).
/// </summary>
/// <remarks>
/// Input layouts (all fields in network byte order, as in the packet): IPv4 is source address, destination
/// address (8 bytes); IPv4 with TCP/UDP adds source port, destination port (12 bytes); IPv6 is 32 bytes and 36
/// with ports. The key must be at least 4 bytes longer than the input; the usual RSS key is 40 bytes.
/// </remarks>
public static class Toeplitz
{
    /// <summary>
    /// The 40-byte key of Microsoft's RSS verification suite, which is also the default RSS key of many NIC
    /// drivers.
    /// </summary>
    public static ReadOnlySpan<byte> DefaultKey =>
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// <summary>The hash of <paramref name="input"/> under <paramref name="key"/>, a bit at a time (the specification's loop).</summary>
    /// <exception cref="ArgumentException">The key is shorter than input + 4 bytes.</exception>
    public static uint Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        CheckKey(key, input.Length);
        // window holds key bits [8i, 8i + 64), most significant first; for bit j (0 = most significant) of input
        // byte i the key bits [8i + j, 8i + j + 32) are its bits 63 - j down to 32 - j.
        ulong window = 0;
        for (int k = 0; k < 8; k++)
            window = (window << 8) | KeyByte(key, k);
        uint result = 0;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            for (int j = 0; j < 8; j++)
            {
                if ((b & (0x80 >> j)) != 0)
                    result ^= (uint)(window >> (32 - j));
            }
            window = (window << 8) | KeyByte(key, i + 8);
        }
        return result;
    }

    /// <summary>RSS hash of an IPv4 source/destination pair (NDIS_HASH_IPV4). Addresses in host byte order.</summary>
    public static uint HashIpv4(ReadOnlySpan<byte> key, uint sourceAddress, uint destinationAddress)
    {
        Span<byte> input = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(input, sourceAddress);
        BinaryPrimitives.WriteUInt32BigEndian(input[4..], destinationAddress);
        return Compute(key, input);
    }

    /// <summary>RSS hash of an IPv4 TCP/UDP 4-tuple (NDIS_HASH_TCP_IPV4). Addresses and ports in host byte order.</summary>
    public static uint HashIpv4(ReadOnlySpan<byte> key, uint sourceAddress, uint destinationAddress, ushort sourcePort, ushort destinationPort)
    {
        Span<byte> input = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(input, sourceAddress);
        BinaryPrimitives.WriteUInt32BigEndian(input[4..], destinationAddress);
        BinaryPrimitives.WriteUInt16BigEndian(input[8..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(input[10..], destinationPort);
        return Compute(key, input);
    }

    /// <summary>RSS hash of an IPv6 source/destination pair (NDIS_HASH_IPV6). Addresses are 16 bytes, network order.</summary>
    public static uint HashIpv6(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sourceAddress, ReadOnlySpan<byte> destinationAddress)
    {
        Span<byte> input = stackalloc byte[32];
        CopyAddress(sourceAddress, input);
        CopyAddress(destinationAddress, input[16..]);
        return Compute(key, input);
    }

    /// <summary>RSS hash of an IPv6 TCP/UDP 4-tuple (NDIS_HASH_TCP_IPV6). Ports in host byte order.</summary>
    public static uint HashIpv6(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sourceAddress, ReadOnlySpan<byte> destinationAddress,
        ushort sourcePort, ushort destinationPort)
    {
        Span<byte> input = stackalloc byte[36];
        CopyAddress(sourceAddress, input);
        CopyAddress(destinationAddress, input[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[32..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(input[34..], destinationPort);
        return Compute(key, input);
    }

    internal static void CheckKey(ReadOnlySpan<byte> key, int inputLength)
    {
        if (key.Length < inputLength + 4)
            ThrowHelper.ThrowArgument(nameof(key), $"a Toeplitz key must be at least 4 bytes longer than the input: {key.Length}-byte key, {inputLength}-byte input");
    }

    private static byte KeyByte(ReadOnlySpan<byte> key, int index) => index < key.Length ? key[index] : (byte)0;

    private static void CopyAddress(ReadOnlySpan<byte> address, Span<byte> destination)
    {
        if (address.Length != 16)
            ThrowHelper.ThrowArgument(nameof(address), $"an IPv6 address is 16 bytes, got {address.Length}");
        address.CopyTo(destination);
    }
}
