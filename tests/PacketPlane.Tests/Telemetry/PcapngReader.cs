using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace PacketPlane.Tests.Telemetry;

/// <summary>A minimal pcapng reader for the tests: blocks and the options they carry, parsed independently of the writer.</summary>
internal sealed class PcapngReader
{
    public sealed record Interface(ushort LinkType, uint Snaplen, string? Name, string? Description, byte? TsResol);
    public sealed record PacketBlock(uint InterfaceId, ulong Timestamp, uint CapturedLength, uint OriginalLength, byte[] Data, uint? Flags, uint? Queue);
    public sealed record Statistics(uint InterfaceId, ulong? Received, ulong? Dropped, ulong? Accepted, string? Comment);

    public List<Interface> Interfaces { get; } = new();
    public List<PacketBlock> Packets { get; } = new();
    public List<Statistics> Stats { get; } = new();
    public string? Application { get; private set; }

    public static PcapngReader Parse(byte[] file)
    {
        var r = new PcapngReader();
        int at = 0;
        bool sawHeader = false;
        while (at < file.Length)
        {
            if (file.Length - at < 12)
                throw new FormatException($"truncated block at {at}");
            uint type = U32(file, at);
            int length = (int)U32(file, at + 4);
            if (length < 12 || length % 4 != 0 || at + length > file.Length)
                throw new FormatException($"bad block length {length} at {at}");
            if (U32(file, at + length - 4) != (uint)length)
                throw new FormatException($"trailing length mismatch at {at}");
            ReadOnlySpan<byte> body = file.AsSpan(at + 8, length - 12);
            switch (type)
            {
                case 0x0A0D0D0A:
                    if (U32(body, 0) != 0x1A2B3C4D)
                        throw new FormatException("byte-order magic");
                    if (BinaryPrimitives.ReadUInt16LittleEndian(body[4..]) != 1)
                        throw new FormatException("major version");
                    r.Application = Options(body[16..]).GetValueOrDefault((ushort)4) is byte[] app ? Encoding.UTF8.GetString(app) : null;
                    sawHeader = true;
                    break;
                case 1:
                {
                    var o = Options(body[8..]);
                    r.Interfaces.Add(new Interface(BinaryPrimitives.ReadUInt16LittleEndian(body), U32(body, 4),
                        Str(o, 2), Str(o, 3), o.TryGetValue(9, out byte[]? ts) ? ts[0] : null));
                    break;
                }
                case 6:
                {
                    uint cap = U32(body, 12);
                    int padded = (int)((cap + 3) & ~3u);
                    var o = Options(body[(20 + padded)..]);
                    r.Packets.Add(new PacketBlock(U32(body, 0), ((ulong)U32(body, 4) << 32) | U32(body, 8), cap, U32(body, 16),
                        body.Slice(20, (int)cap).ToArray(), o.TryGetValue(2, out byte[]? f) ? U32(f, 0) : null, o.TryGetValue(6, out byte[]? q) ? U32(q, 0) : null));
                    break;
                }
                case 5:
                {
                    var o = Options(body[12..]);
                    r.Stats.Add(new Statistics(U32(body, 0), U64(o, 4), U64(o, 5), U64(o, 6), Str(o, 1)));
                    break;
                }
                default:
                    throw new FormatException($"unexpected block type 0x{type:x}");
            }
            if (!sawHeader)
                throw new FormatException("first block is not a section header");
            at += length;
        }
        return r;
    }

    private static Dictionary<ushort, byte[]> Options(ReadOnlySpan<byte> s)
    {
        var d = new Dictionary<ushort, byte[]>();
        int at = 0;
        while (at + 4 <= s.Length)
        {
            ushort code = BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
            ushort len = BinaryPrimitives.ReadUInt16LittleEndian(s[(at + 2)..]);
            if (code == 0)
                return d;
            d[code] = s.Slice(at + 4, len).ToArray();
            at += 4 + ((len + 3) & ~3);
        }
        throw new FormatException("options without opt_endofopt");
    }

    private static string? Str(Dictionary<ushort, byte[]> o, ushort code) => o.TryGetValue(code, out byte[]? v) ? Encoding.UTF8.GetString(v) : null;
    private static ulong? U64(Dictionary<ushort, byte[]> o, ushort code) => o.TryGetValue(code, out byte[]? v) ? BinaryPrimitives.ReadUInt64LittleEndian(v) : null;
    private static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
}
