using System;
using PacketPlane.DeviceModels.Common;
using Xunit;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// The device models' Toeplitz, which the RSS tests trust as their reference, reproduces the RSS verification
/// suite Intel publishes in the 82599 datasheet (7.1.2.8.3, the Microsoft RSS test vectors).
/// </summary>
public class ToeplitzReferenceTests
{
    public static readonly byte[] MicrosoftKey =
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    [Theory]
    // destination, source, destination port, source port, IPv4-only hash, IPv4 with TCP ports hash
    [InlineData("161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2u, 0x51ccc178u)]
    [InlineData("65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262au, 0xc626b0eau)]
    [InlineData("12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5deu, 0x5c2b394au)]
    [InlineData("209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176u, 0xafc7327fu)]
    [InlineData("202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5u, 0x10e828a2u)]
    public void Matches_the_published_IPv4_vectors(string dst, string src, int dstPort, int srcPort, uint ipHash, uint tcpHash)
    {
        byte[] input = new byte[12];
        System.Net.IPAddress.Parse(src).GetAddressBytes().CopyTo(input, 0);
        System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(input, 4);
        input[8] = (byte)(srcPort >> 8);
        input[9] = (byte)srcPort;
        input[10] = (byte)(dstPort >> 8);
        input[11] = (byte)dstPort;
        Assert.Equal(ipHash, Toeplitz.Hash(MicrosoftKey, input.AsSpan(0, 8)));
        Assert.Equal(tcpHash, Toeplitz.Hash(MicrosoftKey, input));
    }

    [Theory]
    [InlineData("3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5u, 0x40207d3du)]
    [InlineData("ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461cu, 0xdde51bbfu)]
    [InlineData("fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985u, 0x02d1feefu)]
    public void Matches_the_published_IPv6_vectors(string dst, string src, int dstPort, int srcPort, uint ipHash, uint tcpHash)
    {
        byte[] input = new byte[36];
        System.Net.IPAddress.Parse(src).GetAddressBytes().CopyTo(input, 0);
        System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(input, 16);
        input[32] = (byte)(srcPort >> 8);
        input[33] = (byte)srcPort;
        input[34] = (byte)(dstPort >> 8);
        input[35] = (byte)dstPort;
        Assert.Equal(ipHash, Toeplitz.Hash(MicrosoftKey, input.AsSpan(0, 32)));
        Assert.Equal(tcpHash, Toeplitz.Hash(MicrosoftKey, input));
    }
}
