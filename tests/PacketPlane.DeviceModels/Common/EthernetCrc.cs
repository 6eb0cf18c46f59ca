using System;

namespace PacketPlane.DeviceModels.Common;

/// <summary>The Ethernet frame check sequence (IEEE 802.3 CRC-32, reflected, polynomial 0xEDB88320).</summary>
public static class EthernetCrc
{
    private static readonly uint[] s_table = Build();

    /// <summary>The FCS of <paramref name="frame"/>, to be sent least significant byte first.</summary>
    public static uint Compute(ReadOnlySpan<byte> frame)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in frame)
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }
}
