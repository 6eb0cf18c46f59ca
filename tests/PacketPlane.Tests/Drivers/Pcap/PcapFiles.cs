using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace PacketPlane.Tests.Drivers.Pcap;

/// <summary>One record of a test capture.</summary>
internal sealed record PcapTestRecord(byte[] Data, ulong TimestampNs, uint? OriginalLength = null);

/// <summary>
/// Writes and reads pcap files byte by byte from the format description (pcap-savefile(5)), independently of the
/// driver's own reader and writer, so tests compare the driver against the format and not against itself.
/// </summary>
internal static class PcapFiles
{
    public static string TempPath(string name) =>
        Path.Combine(Path.GetTempPath(), $"pp-{Environment.ProcessId}-{name}-{Guid.NewGuid():N}.pcap");

    public static void Write(string path, IEnumerable<PcapTestRecord> records, bool nanosecond = false, bool bigEndian = false,
        uint snapLength = 65535, uint linkType = 1)
    {
        using var stream = File.Create(path);
        Span<byte> header = stackalloc byte[24];
        Put32(header, nanosecond ? 0xA1B23C4Du : 0xA1B2C3D4u, bigEndian);
        Put16(header[4..], 2, bigEndian);
        Put16(header[6..], 4, bigEndian);
        Put32(header[8..], 0, bigEndian);
        Put32(header[12..], 0, bigEndian);
        Put32(header[16..], snapLength, bigEndian);
        Put32(header[20..], linkType, bigEndian);
        stream.Write(header);
        Span<byte> rh = stackalloc byte[16];
        foreach (PcapTestRecord r in records)
        {
            ulong fraction = nanosecond ? r.TimestampNs % 1_000_000_000 : r.TimestampNs % 1_000_000_000 / 1000;
            Put32(rh, (uint)(r.TimestampNs / 1_000_000_000), bigEndian);
            Put32(rh[4..], (uint)fraction, bigEndian);
            Put32(rh[8..], (uint)r.Data.Length, bigEndian);
            Put32(rh[12..], r.OriginalLength ?? (uint)r.Data.Length, bigEndian);
            stream.Write(rh);
            stream.Write(r.Data);
        }
    }

    /// <summary>Reads a pcap file written by anything; returns the magic and the records.</summary>
    public static (uint Magic, uint SnapLength, List<PcapTestRecord> Records) Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        bool big = magic is 0xD4C3B2A1 or 0x4D3CB2A1;
        bool nano = magic is 0xA1B23C4D or 0x4D3CB2A1;
        uint snap = Get32(file.AsSpan(16), big);
        var records = new List<PcapTestRecord>();
        int offset = 24;
        while (offset + 16 <= file.Length)
        {
            uint sec = Get32(file.AsSpan(offset), big);
            uint frac = Get32(file.AsSpan(offset + 4), big);
            int caplen = (int)Get32(file.AsSpan(offset + 8), big);
            uint len = Get32(file.AsSpan(offset + 12), big);
            records.Add(new PcapTestRecord(file.AsSpan(offset + 16, caplen).ToArray(), sec * 1_000_000_000UL + (nano ? frac : frac * 1000UL), len));
            offset += 16 + caplen;
        }
        if (offset != file.Length)
            throw new InvalidDataException($"{path}: {file.Length - offset} stray bytes after the last record");
        return (magic, snap, records);
    }

    public static byte[] Frame(int length, byte seed)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = (byte)(seed + i);
        return data;
    }

    private static void Put16(Span<byte> b, ushort v, bool big)
    {
        if (big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
    }

    private static void Put32(Span<byte> b, uint v, bool big)
    {
        if (big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
    }

    private static uint Get32(ReadOnlySpan<byte> b, bool big) =>
        big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
}
