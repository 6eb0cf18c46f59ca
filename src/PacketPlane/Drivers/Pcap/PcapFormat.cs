using System;
using System.Buffers.Binary;

namespace PacketPlane.Drivers.Pcap;

/// <summary>
/// The classic libpcap file format (pcap-savefile(5); draft-ietf-opsawg-pcap): a 24-byte global header, then
/// records of a 16-byte header and the captured bytes. The magic number gives the byte order and the timestamp
/// resolution. Records are limited to 262144 bytes, libpcap's MAXIMUM_SNAPLEN.
/// </summary>
internal readonly record struct PcapFormat(bool Swapped, bool Nanosecond, uint SnapLength, uint LinkType)
{
    /// <summary>Global header bytes.</summary>
    public const int GlobalHeaderLength = 24;

    /// <summary>Record header bytes.</summary>
    public const int RecordHeaderLength = 16;

    /// <summary>Magic of a microsecond file, as written by a host of the file's byte order.</summary>
    public const uint MagicMicroseconds = 0xA1B2C3D4;

    /// <summary>Magic of a nanosecond file.</summary>
    public const uint MagicNanoseconds = 0xA1B23C4D;

    /// <summary>Largest record libpcap accepts (MAXIMUM_SNAPLEN).</summary>
    public const uint MaxRecordLength = 262144;

    /// <summary>LINKTYPE_ETHERNET / DLT_EN10MB.</summary>
    public const uint LinkTypeEthernet = 1;

    /// <summary>Snap length records are checked against: the header's, or the maximum when it is 0 or larger (as libpcap).</summary>
    public uint EffectiveSnapLength => SnapLength == 0 || SnapLength > MaxRecordLength ? MaxRecordLength : SnapLength;

    /// <summary>Reads a global header; null when the magic is none of the four pcap magics.</summary>
    public static PcapFormat? TryParse(ReadOnlySpan<byte> header, out uint magic, out ushort major, out ushort minor)
    {
        magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        major = minor = 0;
        bool swapped;
        bool nano;
        // The magic was written in the writer's order: read little-endian, it tells which order that was.
        switch (magic)
        {
            case MagicMicroseconds: swapped = !BitConverter.IsLittleEndian; nano = false; break;
            case MagicNanoseconds: swapped = !BitConverter.IsLittleEndian; nano = true; break;
            case 0xD4C3B2A1: swapped = BitConverter.IsLittleEndian; nano = false; break;
            case 0x4D3CB2A1: swapped = BitConverter.IsLittleEndian; nano = true; break;
            default: return null;
        }
        bool big = BitConverter.IsLittleEndian == swapped;
        major = Read16(header[4..], big);
        minor = Read16(header[6..], big);
        uint snap = Read32(header[16..], big);
        uint link = Read32(header[20..], big);
        return new PcapFormat(swapped, nano, snap, link);
    }

    /// <summary>True when the file's multi-byte fields are big-endian.</summary>
    public bool BigEndian => BitConverter.IsLittleEndian == Swapped;

    /// <summary>Reads a record header: timestamp in nanoseconds since the epoch, captured and original lengths.</summary>
    public void ReadRecordHeader(ReadOnlySpan<byte> header, out ulong timestampNs, out uint capturedLength, out uint originalLength)
    {
        bool big = BigEndian;
        uint seconds = Read32(header, big);
        uint fraction = Read32(header[4..], big);
        capturedLength = Read32(header[8..], big);
        originalLength = Read32(header[12..], big);
        timestampNs = seconds * 1_000_000_000UL + (Nanosecond ? fraction : fraction * 1_000UL);
    }

    /// <summary>Writes the global header of a nanosecond, little-endian Ethernet file (what DPDK's tx_pcap writes on x86).</summary>
    public static void WriteGlobalHeader(Span<byte> header, uint snapLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, MagicNanoseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);   // thiszone: UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
    }

    /// <summary>Writes a record header in the little-endian nanosecond format of <see cref="WriteGlobalHeader"/>.</summary>
    public static void WriteRecordHeader(Span<byte> header, ulong timestampNs, uint capturedLength, uint originalLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(timestampNs / 1_000_000_000UL));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(timestampNs % 1_000_000_000UL));
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], capturedLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], originalLength);
    }

    private static ushort Read16(ReadOnlySpan<byte> b, bool big) =>
        big ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private static uint Read32(ReadOnlySpan<byte> b, bool big) =>
        big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
}
