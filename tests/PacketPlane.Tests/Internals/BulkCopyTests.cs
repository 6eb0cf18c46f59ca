using System;
using PacketPlane.Internal;
using Xunit;

namespace PacketPlane.Tests.Internals;

/// <summary>
/// BulkCopy moves ring slots and mempool cache entries 32 bytes at a time with a last, overlapping move, and pops
/// the mempool cache four pointers at a time through a lane permute. A wrong tail, a wrong overlap or a wrong lane
/// order corrupts handles silently, so every length is checked byte for byte, with sentinels on both sides of the
/// destination to catch a write outside it.
/// </summary>
public class BulkCopyTests
{
    private const byte Sentinel = 0xA5;
    private const int Guard = 64;

    [Theory]
    [InlineData(false)] // through pointers (the span helper pins), as pools and drivers call it
    [InlineData(true)] // between managed references, as rings copy to and from a caller's span
    public void Forward_copies_every_length_from_0_to_520_exactly_and_writes_nothing_around_the_destination(bool byReference)
    {
        var source = new byte[520 + 31];
        for (int i = 0; i < source.Length; i++)
            source[i] = (byte)(i * 7 + 1);
        for (int length = 0; length <= 520; length++)
        {
            // Misalign source and destination differently (the moves are unaligned loads and stores).
            int srcOffset = length % 31, dstOffset = (length * 5) % 32;
            var buffer = new byte[Guard + dstOffset + length + Guard];
            Array.Fill(buffer, Sentinel);
            // Inside the destination, the complement of what should arrive: a byte left uncopied always shows.
            for (int i = 0; i < length; i++)
                buffer[Guard + dstOffset + i] = (byte)~source[srcOffset + i];
            if (byReference)
                BulkCopy.Forward(ref buffer[Guard + dstOffset], ref source[srcOffset], (nuint)length);
            else
                BulkCopy.Forward(buffer.AsSpan(Guard + dstOffset, length), source.AsSpan(srcOffset, length));
            for (int i = 0; i < Guard + dstOffset; i++)
                Assert.True(buffer[i] == Sentinel, $"length {length}: byte {i - Guard - dstOffset} before the destination was written");
            for (int i = 0; i < length; i++)
                Assert.True(buffer[Guard + dstOffset + i] == source[srcOffset + i], $"length {length}: byte {i} is wrong");
            for (int i = Guard + dstOffset + length; i < buffer.Length; i++)
                Assert.True(buffer[i] == Sentinel, $"length {length}: byte {i - Guard - dstOffset - length} past the destination was written");
        }
    }

    [Fact]
    public void Forward_refuses_a_destination_shorter_than_the_source() =>
        Assert.Throws<ArgumentException>(() => BulkCopy.Forward(new byte[3], new byte[4]));

    [Fact]
    public void PopReversed_matches_the_reference_loop_for_every_count_from_0_to_70()
    {
        const int depth = 70;
        for (int n = 0; n <= depth; n++)
        {
            // A stack deeper than n (so a read below the popped part would fetch a wrong, recognisable value),
            // laid out after some guard entries.
            var stackMemory = new nint[Guard + depth + 3];
            for (int i = 0; i < stackMemory.Length; i++)
                stackMemory[i] = unchecked((nint)(0x1000_0000_0000L + i * 0x40L));
            ReadOnlySpan<nint> stack = stackMemory.AsSpan(Guard, depth);
            var expected = new nint[n];
            for (int i = 0; i < n; i++)
                expected[i] = stack[stack.Length - 1 - i]; // the reference: most recently pushed first

            var output = new nint[Guard + n + Guard];
            Array.Fill(output, unchecked((nint)0x5EA5_5EA5_5EA5_5EA5L));
            BulkCopy.PopReversed(output.AsSpan(Guard, n), stack);

            for (int i = 0; i < Guard; i++)
                Assert.True(output[i] == unchecked((nint)0x5EA5_5EA5_5EA5_5EA5L), $"n={n}: entry {i - Guard} before the destination was written");
            Assert.Equal(expected, output.AsSpan(Guard, n).ToArray());
            for (int i = Guard + n; i < output.Length; i++)
                Assert.True(output[i] == unchecked((nint)0x5EA5_5EA5_5EA5_5EA5L), $"n={n}: entry {i - Guard - n} past the destination was written");
        }
    }

    [Fact]
    public void PopReversed_refuses_to_pop_more_than_the_stack_holds() =>
        Assert.Throws<ArgumentException>(() => BulkCopy.PopReversed(new nint[5], new nint[4]));
}
