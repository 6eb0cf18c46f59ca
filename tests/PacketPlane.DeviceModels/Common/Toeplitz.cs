using System;

namespace PacketPlane.DeviceModels.Common;

/// <summary>
/// The Toeplitz hash exactly as the Intel datasheets give it in pseudo-code (82599 datasheet 7.1.2.8.1; the
/// X710 uses the same function): for each bit of the input, left to right, when the bit is 1 XOR the left-most
/// 32 bits of the key into the result, then shift the key left by one bit. Written bit by bit on purpose: it is the
/// reference the drivers' RSS results are checked against, so it must be obviously the datasheet's algorithm, not
/// fast. Independent of PacketPlane's own Toeplitz.
/// </summary>
public static class Toeplitz
{
    /// <summary>Hash of <paramref name="input"/> under <paramref name="key"/> (the key must be at least input + 4 bytes).</summary>
    public static uint Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        if (key.Length < input.Length + 4)
            throw new ArgumentException($"a {key.Length}-byte key cannot hash {input.Length} bytes (needs input + 4)");
        uint result = 0;
        for (int bit = 0; bit < input.Length * 8; bit++)
        {
            if ((input[bit / 8] & (0x80 >> (bit % 8))) != 0)
                result ^= LeftMost32(key, bit);
        }
        return result;
    }

    /// <summary>The 32 key bits starting at bit <paramref name="offset"/> (bit 0 is the MSB of key[0]).</summary>
    private static uint LeftMost32(ReadOnlySpan<byte> key, int offset)
    {
        uint v = 0;
        for (int i = 0; i < 32; i++)
        {
            int b = offset + i;
            v = (v << 1) | (uint)((key[b / 8] >> (7 - b % 8)) & 1);
        }
        return v;
    }
}
