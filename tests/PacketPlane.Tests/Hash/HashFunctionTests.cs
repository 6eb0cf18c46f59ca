using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using PacketPlane.Hash;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Hash;

public class Crc32cTests
{
    [Fact]
    public void Standard_check_value_of_123456789_is_E3069283_in_hardware_and_software()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE306_9283u, Crc32c.Compute(check));
        Assert.Equal(0xE306_9283u, ~Crc32c.AppendSoftware(uint.MaxValue, check));
        if (Crc32c.IsHardwareAccelerated)
            Assert.Equal(0xE306_9283u, ~Crc32c.AppendHardware(uint.MaxValue, ref MemoryMarshal.GetArrayDataReference(check), (nuint)check.Length));
    }

    [Fact]
    public void Hardware_and_software_agree_on_every_length_and_alignment()
    {
        Assert.True(Crc32c.IsHardwareAccelerated, "this x86-64 machine has SSE4.2; the hardware path must be in use");
        var random = new Random(3);
        byte[] data = new byte[300];
        random.NextBytes(data);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length + offset <= data.Length; length++)
            {
                uint seed = (uint)random.Next();
                ReadOnlySpan<byte> slice = data.AsSpan(offset, length);
                uint software = Crc32c.AppendSoftware(seed, slice);
                uint hardware = Crc32c.AppendHardware(seed, ref MemoryMarshal.GetReference(slice), (nuint)length);
                Assert.Equal(software, hardware);
                Assert.Equal(software, Crc32c.Append(seed, slice));
            }
        }
    }

    [Fact]
    public void Word_forms_equal_the_byte_form()
    {
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(eight, 0x0123_4567_89AB_CDEF);
        Assert.Equal(Crc32c.Append(7, eight), Crc32c.Append(7, 0x0123_4567_89AB_CDEFUL));
        Assert.Equal(Crc32c.Append(7, eight[..4]), Crc32c.Append(7, 0x89AB_CDEFu));
    }

    [Fact]
    public void Raw_form_matches_dpdk_rte_hash_crc()
    {
        byte[] key = DpdkHashVectors.Key();
        foreach (var v in DpdkHashVectors.Parse(DpdkHashVectors.Output))
        {
            Assert.Equal(v.Crc, Crc32c.Append(0xFFFF_FFFF, key.AsSpan(0, v.Length)));
            Assert.Equal(v.Crc, Crc32c.AppendSoftware(0xFFFF_FFFF, key.AsSpan(0, v.Length)));
        }
    }
}

public class JhashTests(ITestOutputHelper output)
{
    [Fact]
    public void Matches_dpdk_rte_jhash_known_answers_for_lengths_0_to_64()
    {
        AssertMatches(DpdkHashVectors.Output);
        Assert.Equal(65, DpdkHashVectors.Parse(DpdkHashVectors.Output).Count());
    }

    /// <summary>Compiles the C program against the installed DPDK headers now and checks its fresh output.</summary>
    [Fact]
    public void Matches_rte_jhash_compiled_from_the_installed_dpdk_headers_at_test_time()
    {
        const string header = "/usr/include/dpdk/rte_jhash.h";
        if (!File.Exists(header) || !File.Exists("/usr/bin/gcc"))
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                "CI=true but gcc or libdpdk-dev is missing (apt-get install gcc libdpdk-dev)");
            output.WriteLine($"gcc or {header} missing (apt-get install gcc libdpdk-dev); only the stored answers were checked");
            return;
        }
        string dir = Directory.CreateTempSubdirectory("jhash").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "jv.c"), DpdkHashVectors.CSource);
            Run("/bin/sh", $"-c \"gcc -O2 $(pkg-config --cflags libdpdk) jv.c -o jv -lrte_eal\"", dir);
            string[] fresh = Run(Path.Combine(dir, "jv"), "", dir).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(DpdkHashVectors.Output, fresh);
            AssertMatches(fresh);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertMatches(string[] vectors)
    {
        byte[] key = DpdkHashVectors.Key();
        foreach (var v in DpdkHashVectors.Parse(vectors))
        {
            ReadOnlySpan<byte> k = key.AsSpan(0, v.Length);
            Assert.Equal(v.Jhash0, Jhash.Compute(k));
            Assert.Equal(v.JhashSeeded, Jhash.Compute(k, 0xDEAD_BEEF));
            uint primary = 0x1234_5678, secondary = 0x9ABC_DEF0;
            Jhash.Compute2(k, ref primary, ref secondary);
            Assert.Equal(v.TwoHashesPrimary, primary);
            Assert.Equal(v.TwoHashesSecondary, secondary);
        }
        string[] b32 = vectors.Single(l => l.StartsWith("32b", StringComparison.Ordinal)).Split(' ');
        Assert.Equal(DpdkHashVectors.Hex(b32[1]), Jhash.Compute32b(MemoryMarshal.Cast<byte, uint>(key.AsSpan(0, 64)), 7));
        string[] words = vectors.Single(l => l.StartsWith("words", StringComparison.Ordinal)).Split(' ');
        Assert.Equal(DpdkHashVectors.Hex(words[1]), Jhash.ThreeWords(1, 2, 3, 4));
        Assert.Equal(DpdkHashVectors.Hex(words[2]), Jhash.TwoWords(5, 6, 7));
        Assert.Equal(DpdkHashVectors.Hex(words[3]), Jhash.OneWord(8, 9));
    }

    private static string Run(string file, string arguments, string directory)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed: {stderr}");
        return stdout;
    }
}

/// <summary>
/// Microsoft's RSS verification suite: "Verifying the RSS Hash Calculation", Windows driver documentation,
/// https://learn.microsoft.com/en-us/windows-hardware/drivers/network/verifying-the-rss-hash-calculation
/// (source: github.com/MicrosoftDocs/windows-driver-docs, windows-driver-docs-pr/network/verifying-the-rss-hash-calculation.md).
/// The hash input is source address, destination address, then source port, destination port
/// ("RSS Hashing Functions", same documentation set); the tables list destination first.
/// </summary>
public class ToeplitzTests
{
    public static TheoryData<string, int, string, int, uint, uint> Ipv4Suite => new()
    {
        // destination, dst port, source, src port, IPv4 only, IPv4 with TCP
        { "161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178 },
        { "65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea },
        { "12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a },
        { "209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f },
        { "202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2 },
    };

    public static TheoryData<string, int, string, int, uint, uint> Ipv6Suite => new()
    {
        { "3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d },
        { "ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf },
        { "fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985, 0x02d1feef },
    };

    [Fact]
    public void Default_key_is_the_verification_key()
    {
        Assert.Equal(Convert.FromHexString("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"),
            Toeplitz.DefaultKey.ToArray());
    }

    [Theory]
    [MemberData(nameof(Ipv4Suite))]
    public void Ipv4_and_ipv4_tcp_match_the_verification_suite(string destination, int dstPort, string source, int srcPort, uint ipOnly, uint withTcp)
    {
        uint src = BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(source).GetAddressBytes());
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(destination).GetAddressBytes());
        Assert.Equal(ipOnly, Toeplitz.HashIpv4(Toeplitz.DefaultKey, src, dst));
        Assert.Equal(withTcp, Toeplitz.HashIpv4(Toeplitz.DefaultKey, src, dst, (ushort)srcPort, (ushort)dstPort));
        var hasher = new ToeplitzHasher(Toeplitz.DefaultKey);
        byte[] input = [.. IPAddress.Parse(source).GetAddressBytes(), .. IPAddress.Parse(destination).GetAddressBytes(),
            (byte)(srcPort >> 8), (byte)srcPort, (byte)(dstPort >> 8), (byte)dstPort];
        Assert.Equal(ipOnly, hasher.Compute(input.AsSpan(0, 8)));
        Assert.Equal(withTcp, hasher.Compute(input));
    }

    [Theory]
    [MemberData(nameof(Ipv6Suite))]
    public void Ipv6_and_ipv6_tcp_match_the_verification_suite(string destination, int dstPort, string source, int srcPort, uint ipOnly, uint withTcp)
    {
        byte[] src = IPAddress.Parse(source).GetAddressBytes();
        byte[] dst = IPAddress.Parse(destination).GetAddressBytes();
        Assert.Equal(ipOnly, Toeplitz.HashIpv6(Toeplitz.DefaultKey, src, dst));
        Assert.Equal(withTcp, Toeplitz.HashIpv6(Toeplitz.DefaultKey, src, dst, (ushort)srcPort, (ushort)dstPort));
        var hasher = new ToeplitzHasher(Toeplitz.DefaultKey);
        byte[] input = [.. src, .. dst, (byte)(srcPort >> 8), (byte)srcPort, (byte)(dstPort >> 8), (byte)dstPort];
        Assert.Equal(ipOnly, hasher.Compute(input.AsSpan(0, 32)));
        Assert.Equal(withTcp, hasher.Compute(input));
    }

    [Fact]
    public void Table_driven_hasher_equals_the_bitwise_definition_on_random_input()
    {
        var random = new Random(9);
        byte[] key = new byte[52];
        random.NextBytes(key);
        var hasher = new ToeplitzHasher(key);
        Assert.Equal(48, hasher.MaxInputLength);
        byte[] input = new byte[48];
        for (int i = 0; i < 2000; i++)
        {
            random.NextBytes(input);
            int length = random.Next(49);
            Assert.Equal(Toeplitz.Compute(key, input.AsSpan(0, length)), hasher.Compute(input.AsSpan(0, length)));
        }
        Assert.Throws<ArgumentException>(() => Toeplitz.Compute(key.AsSpan(0, 10), input.AsSpan(0, 8)));
        Assert.Throws<ArgumentException>(() => hasher.Compute(new byte[49]));
    }
}
