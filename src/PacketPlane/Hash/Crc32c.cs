using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace PacketPlane.Hash;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the CRC of iSCSI and SCTP, and DPDK's
/// <c>rte_hash_crc</c>. Uses the CPU's CRC32 instructions (SSE4.2 on x86-64, the CRC32 extension on Arm64) and
/// a slicing-by-8 table otherwise; both give identical results.
/// </summary>
/// <remarks>
/// <see cref="Compute"/> is the standard check-value form (initial value and final XOR 0xFFFFFFFF; "123456789"
/// gives 0xE3069283). <see cref="Append(uint, ReadOnlySpan{byte})"/> is the raw update with neither, so <c>Append(initValue, data)</c>
/// equals DPDK's <c>rte_hash_crc(data, length, initValue)</c>, the hash l3fwd's exact-match table uses.
/// </remarks>
public static class Crc32c
{
    private const uint Polynomial = 0x82F6_3B78;

    // table[k][b]: the CRC contribution of byte b followed by k zero bytes (slicing-by-8).
    private static readonly uint[] s_table = BuildTable();

    /// <summary>True when the hardware CRC32C instructions are used.</summary>
    public static bool IsHardwareAccelerated => Sse42.IsSupported || Crc32.IsSupported;

    /// <summary>The standard CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(uint.MaxValue, data);

    /// <summary>
    /// Continues a raw CRC-32C over <paramref name="data"/> (no pre- or post-inversion), as
    /// <c>rte_hash_crc(data, len, crc)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Append(uint crc, ReadOnlySpan<byte> data) =>
        Append(crc, ref MemoryMarshal.GetReference(data), (nuint)data.Length);

    /// <summary>Raw CRC of 4 bytes (a little-endian word), as <c>rte_hash_crc_4byte</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Append(uint crc, uint data)
    {
        if (Sse42.IsSupported)
            return Sse42.Crc32(crc, data);
        if (Crc32.IsSupported)
            return Crc32.ComputeCrc32C(crc, data);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, data);
        return AppendSoftware(crc, bytes);
    }

    /// <summary>Raw CRC of 8 bytes (a little-endian word), as <c>rte_hash_crc_8byte</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Append(uint crc, ulong data)
    {
        if (Sse42.X64.IsSupported)
            return (uint)Sse42.X64.Crc32(crc, data);
        if (Crc32.Arm64.IsSupported)
            return Crc32.Arm64.ComputeCrc32C(crc, data);
        return Append(Append(crc, (uint)data), (uint)(data >> 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Append(uint crc, ref byte data, nuint length)
    {
        if (Sse42.X64.IsSupported || Crc32.Arm64.IsSupported)
            return AppendHardware(crc, ref data, length);
        return AppendSoftware(crc, MemoryMarshal.CreateReadOnlySpan(ref data, (int)length));
    }

    /// <summary>The instruction path; 8 bytes per step, then 4, 2, 1, as rte_hash_crc does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint AppendHardware(uint crc, ref byte data, nuint length)
    {
        nuint offset = 0;
        for (; offset + 8 <= length; offset += 8)
            crc = Step64(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref data, offset)));
        if (offset + 4 <= length)
        {
            crc = Step32(crc, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref data, offset)));
            offset += 4;
        }
        if (offset + 2 <= length)
        {
            crc = Step16(crc, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref data, offset)));
            offset += 2;
        }
        if (offset < length)
            crc = Step8(crc, Unsafe.Add(ref data, offset));
        return crc;
    }

    /// <summary>The table path: slicing-by-8, then byte at a time. Public through <see cref="Append(uint, ReadOnlySpan{byte})"/> on CPUs without CRC32C.</summary>
    internal static uint AppendSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = s_table;
        while (data.Length >= 8)
        {
            uint low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7 * 256 + (low & 0xFF)] ^ t[6 * 256 + ((low >> 8) & 0xFF)]
                ^ t[5 * 256 + ((low >> 16) & 0xFF)] ^ t[4 * 256 + (low >> 24)]
                ^ t[3 * 256 + (high & 0xFF)] ^ t[2 * 256 + ((high >> 8) & 0xFF)]
                ^ t[1 * 256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
            data = data[8..];
        }
        foreach (byte b in data)
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step64(uint crc, ulong value) =>
        Sse42.X64.IsSupported ? (uint)Sse42.X64.Crc32(crc, value) : Crc32.Arm64.ComputeCrc32C(crc, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step32(uint crc, uint value) =>
        Sse42.IsSupported ? Sse42.Crc32(crc, value) : Crc32.ComputeCrc32C(crc, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step16(uint crc, ushort value) =>
        Sse42.IsSupported ? Sse42.Crc32(crc, value) : Crc32.ComputeCrc32C(crc, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step8(uint crc, byte value) =>
        Sse42.IsSupported ? Sse42.Crc32(crc, value) : Crc32.ComputeCrc32C(crc, value);

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint b = 0; b < 256; b++)
        {
            uint crc = b;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            table[b] = crc;
        }
        for (int k = 1; k < 8; k++)
        {
            for (int b = 0; b < 256; b++)
            {
                uint previous = table[(k - 1) * 256 + b];
                table[k * 256 + b] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }
        return table;
    }
}
