using System;
using System.Buffers.Binary;
using PacketPlane.Net;
using Xunit;

namespace PacketPlane.Tests.Net;

public class ChecksumTests
{
    [Fact]
    public void Rfc1071_worked_example_sums_to_ddf2()
    {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2; the checksum is its complement.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.Equal(0xddf2u, Checksum.Sum(data));
        Assert.Equal((ushort)0x220d, Checksum.Compute(data));
    }

    [Fact]
    public void Published_ipv4_header_example_has_checksum_b861()
    {
        // The IPv4 header example used in many textbooks (and Wikipedia's "IPv4 header checksum" article).
        byte[] header = Convert.FromHexString("450000730000400040110000c0a80001c0a800c7");
        var ip = new Ipv4Header(header);
        Assert.Equal((ushort)0xb861, ip.ComputeChecksum());
        ip.UpdateChecksum();
        Assert.True(ip.IsChecksumValid);
        header[1] ^= 1;
        Assert.False(ip.IsChecksumValid);
    }

    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (int n in new[] { 0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 127, 128, 129, 1500, 1501, 9000, 65535 })
            data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Every_path_matches_the_reference(int length)
    {
        var random = new Random(length);
        byte[] buffer = new byte[length + 64];
        for (int round = 0; round < 20; round++)
        {
            random.NextBytes(buffer);
            int offset = random.Next(0, 33); // unaligned starts too
            ReadOnlySpan<byte> data = buffer.AsSpan(offset, length);
            uint initial = round % 3 == 0 ? 0u : (uint)random.Next();
            uint expected = Checksum.SumReference(data, initial);
            Assert.Equal(expected, Checksum.SumScalar(data, initial));
            Assert.Equal(expected, Checksum.SumVector128(data, initial));
            Assert.Equal(expected, Checksum.SumVector256(data, initial));
            Assert.Equal(expected, Checksum.Sum(data, initial));
        }
    }

    [Fact]
    public void Vector_paths_match_the_reference_on_all_ones_data_past_the_lane_spill_block()
    {
        // All-0xFF data drives every lane to its maximum each step: 3 MiB crosses the 1 MiB spill block several
        // times, which would expose a lane overflow.
        byte[] data = new byte[3 * 1024 * 1024 + 7];
        data.AsSpan().Fill(0xFF);
        uint expected = Checksum.SumReference(data);
        Assert.Equal(expected, Checksum.SumVector128(data));
        Assert.Equal(expected, Checksum.SumVector256(data));
        Assert.Equal(expected, Checksum.SumScalar(data));
    }

    [Fact]
    public void Random_lengths_and_contents_agree_across_paths()
    {
        var random = new Random(1234);
        byte[] buffer = new byte[10_000];
        for (int i = 0; i < 2_000; i++)
        {
            int length = random.Next(0, 9_000);
            int offset = random.Next(0, buffer.Length - length);
            random.NextBytes(buffer.AsSpan(offset, length));
            ReadOnlySpan<byte> data = buffer.AsSpan(offset, length);
            uint expected = Checksum.SumReference(data);
            Assert.Equal(expected, Checksum.SumVector256(data));
            Assert.Equal(expected, Checksum.SumVector128(data));
            Assert.Equal(expected, Checksum.SumScalar(data));
        }
    }

    [Fact]
    public void Sums_chain_across_an_even_split()
    {
        var random = new Random(7);
        byte[] data = new byte[1000];
        random.NextBytes(data);
        for (int split = 0; split <= data.Length; split += 2)
            Assert.Equal(Checksum.Sum(data), Checksum.Sum(data.AsSpan(split), Checksum.Sum(data.AsSpan(0, split))));
    }

    [Fact]
    public void Incremental_ttl_decrement_matches_a_full_recompute()
    {
        var random = new Random(99);
        byte[] header = new byte[20];
        for (int i = 0; i < 100_000; i++)
        {
            random.NextBytes(header);
            header[0] = 0x45;
            header[8] = (byte)random.Next(1, 256);
            var ip = new Ipv4Header(header);
            ip.UpdateChecksum();
            byte ttl = ip.TimeToLive;
            Assert.Equal(ttl - 1, ip.DecrementTimeToLive());
            Assert.True(ip.IsChecksumValid, $"TTL {ttl} header {Convert.ToHexString(header)}");
            Assert.Equal(ip.ComputeChecksum(), ip.HeaderChecksum);
        }
    }

    [Fact]
    public void Incremental_address_rewrite_matches_a_full_recompute_for_ip_and_l4()
    {
        var random = new Random(5);
        byte[] frame = new UdpFrame { FrameLength = 200 }.ToArray();
        for (int i = 0; i < 20_000; i++)
        {
            var ip = new Ipv4Header(frame.AsSpan(14));
            var udp = new UdpHeader(ip.Payload);
            uint oldSrc = ip.SourceAddress, newSrc = (uint)random.NextInt64(0, 1L << 32);
            uint oldDst = ip.DestinationAddress, newDst = (uint)random.NextInt64(0, 1L << 32);
            ip.RewriteSourceAddress(newSrc);
            udp.AdjustChecksum(oldSrc, newSrc);
            ip.RewriteDestinationAddress(newDst);
            udp.AdjustChecksum(oldDst, newDst);
            Assert.True(ip.IsChecksumValid);
            Assert.Equal(ip.ComputeChecksum(), ip.HeaderChecksum);
            Assert.True(udp.IsChecksumValid(ip));
            Assert.Equal(udp.ComputeChecksum(ip), udp.Checksum);
        }
    }

    [Fact]
    public void Incremental_ipv6_address_rewrite_matches_a_full_recompute()
    {
        var random = new Random(6);
        byte[] frame = new UdpFrame
        {
            SourceAddress = System.Net.IPAddress.Parse("2001:db8::1"),
            DestinationAddress = System.Net.IPAddress.Parse("2001:db8::2"),
            FrameLength = 300,
        }.ToArray();
        byte[] newAddress = new byte[16];
        byte[] oldAddress = new byte[16];
        for (int i = 0; i < 5_000; i++)
        {
            var ip = new Ipv6Header(frame.AsSpan(14));
            var udp = new UdpHeader(ip.Payload);
            random.NextBytes(newAddress);
            ip.DestinationAddress.CopyTo(oldAddress);
            newAddress.CopyTo(ip.DestinationAddress);
            udp.AdjustChecksum(oldAddress, newAddress);
            Assert.True(udp.IsChecksumValid(ip));
            Assert.Equal(udp.ComputeChecksum(ip), udp.Checksum);
        }
    }

    [Fact]
    public void Rfc1624_adjust_of_a_single_word_matches_recompute_for_every_old_and_new_pair_sampled()
    {
        var random = new Random(11);
        byte[] data = new byte[40];
        for (int i = 0; i < 50_000; i++)
        {
            random.NextBytes(data);
            ushort checksum = Checksum.Compute(data);
            int at = random.Next(0, 20) * 2;
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at));
            ushort newWord = (ushort)random.Next(0, 65536);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), newWord);
            ushort adjusted = Checksum.Adjust(checksum, oldWord, newWord);
            // Both are valid encodings of the same sum: the data plus the checksum must verify.
            Assert.Equal(Checksum.Compute(data), adjusted);
        }
    }
}
