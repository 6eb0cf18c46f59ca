using System;
using PacketPlane.Internal;

namespace PacketPlane.Hash;

/// <summary>
/// A Toeplitz hash for one key, precomputed: for every input byte position and byte value the XOR of the key
/// windows its set bits select, so hashing costs one table load per input byte instead of eight conditional
/// XORs. Gives exactly <see cref="Toeplitz.Compute"/>'s result. 1 KiB of table per input byte (36 KiB for IPv6
/// with ports).
/// </summary>
public sealed class ToeplitzHasher
{
    private readonly uint[] _table;

    /// <summary>Precomputes the tables for inputs of up to <paramref name="maxInputLength"/> bytes (default: key length - 4).</summary>
    /// <exception cref="ArgumentException">The key is shorter than maxInputLength + 4.</exception>
    public ToeplitzHasher(ReadOnlySpan<byte> key, int maxInputLength = -1)
    {
        if (maxInputLength < 0)
            maxInputLength = Math.Max(0, key.Length - 4);
        Toeplitz.CheckKey(key, maxInputLength);
        MaxInputLength = maxInputLength;
        _table = new uint[maxInputLength * 256];
        Span<byte> single = stackalloc byte[maxInputLength];
        for (int position = 0; position < maxInputLength; position++)
        {
            // Each set bit contributes independently, so a byte's entry is the XOR of its bits' windows.
            for (int bit = 0; bit < 8; bit++)
            {
                single.Clear();
                single[position] = (byte)(0x80 >> bit);
                uint window = Toeplitz.Compute(key, single[..(position + 1)]);
                for (int value = 0; value < 256; value++)
                {
                    if ((value & (0x80 >> bit)) != 0)
                        _table[position * 256 + value] ^= window;
                }
            }
        }
    }

    /// <summary>Longest input these tables cover.</summary>
    public int MaxInputLength { get; }

    /// <summary>The Toeplitz hash of <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">The input is longer than <see cref="MaxInputLength"/>.</exception>
    public uint Compute(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInputLength)
            ThrowHelper.ThrowArgument(nameof(input), $"input of {input.Length} bytes is longer than the {MaxInputLength} bytes these tables cover");
        uint[] table = _table;
        uint result = 0;
        for (int i = 0; i < input.Length; i++)
            result ^= table[i * 256 + input[i]];
        return result;
    }
}
