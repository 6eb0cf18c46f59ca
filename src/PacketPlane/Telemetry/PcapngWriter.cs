using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace PacketPlane.Telemetry;

/// <summary>
/// Writes pcapng (draft-ietf-opsawg-pcapng): one Section Header Block, an Interface Description Block per
/// interface (Ethernet, nanosecond timestamps through if_tsresol = 9), Enhanced Packet Blocks with the
/// direction in epb_flags and the queue in epb_queue, and Interface Statistics Blocks. Little-endian, as the
/// byte-order magic declares. Not thread-safe: one writer thread owns it.
/// </summary>
internal sealed class PcapngWriter
{
    // Block types (pcapng section 4 and 11.1).
    private const uint SectionHeaderBlock = 0x0A0D0D0A;
    private const uint InterfaceDescriptionBlock = 0x00000001;
    private const uint InterfaceStatisticsBlock = 0x00000005;
    private const uint EnhancedPacketBlock = 0x00000006;
    private const uint ByteOrderMagic = 0x1A2B3C4D;

    // Option codes.
    private const ushort opt_endofopt = 0;
    private const ushort opt_comment = 1;
    private const ushort shb_hardware = 2;
    private const ushort shb_os = 3;
    private const ushort shb_userappl = 4;
    private const ushort if_name = 2;
    private const ushort if_description = 3;
    private const ushort if_tsresol = 9;
    private const ushort epb_flags = 2;
    private const ushort epb_queue = 6;
    private const ushort isb_starttime = 2;
    private const ushort isb_endtime = 3;
    private const ushort isb_ifrecv = 4;
    private const ushort isb_ifdrop = 5;
    private const ushort isb_filteraccept = 6;

    /// <summary>LINKTYPE_ETHERNET.</summary>
    public const ushort LinkTypeEthernet = 1;

    /// <summary>epb_flags direction bits: inbound.</summary>
    public const uint FlagInbound = 1;

    /// <summary>epb_flags direction bits: outbound.</summary>
    public const uint FlagOutbound = 2;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[1 << 16];
    private int _used;
    private int _interfaces;

    public PcapngWriter(Stream stream) => _stream = stream;

    /// <summary>Interfaces described so far.</summary>
    public int InterfaceCount => _interfaces;

    /// <summary>Bytes handed to the stream so far.</summary>
    public long BytesWritten { get; private set; }

    public void WriteSectionHeader(string application, string? hardware = null, string? os = null)
    {
        int start = BeginBlock(SectionHeaderBlock);
        PutU32(ByteOrderMagic);
        PutU16(1); // major version
        PutU16(0); // minor version
        PutU64(ulong.MaxValue); // section length: -1, not known
        if (hardware is not null)
            PutStringOption(shb_hardware, hardware);
        PutStringOption(shb_os, os ?? Environment.OSVersion.VersionString);
        PutStringOption(shb_userappl, application);
        EndOptions();
        EndBlock(start);
    }

    /// <summary>Describes an Ethernet interface; returns its interface id (the order of description).</summary>
    public int WriteInterface(string name, string description, int snaplen)
    {
        int start = BeginBlock(InterfaceDescriptionBlock);
        PutU16(LinkTypeEthernet);
        PutU16(0);
        PutU32((uint)snaplen);
        PutStringOption(if_name, name);
        PutStringOption(if_description, description);
        PutOptionHeader(if_tsresol, 1);
        PutPadded([9]); // 10^-9 s: nanoseconds
        EndOptions();
        EndBlock(start);
        return _interfaces++;
    }

    /// <summary>One packet: <paramref name="data"/> as captured (up to snaplen), <paramref name="originalLength"/> on the wire.</summary>
    public void WritePacket(int interfaceId, ulong timestampNs, ReadOnlySpan<byte> data, int originalLength, uint flags, int queue)
    {
        Reserve(64 + data.Length);
        int start = BeginBlock(EnhancedPacketBlock);
        PutU32((uint)interfaceId);
        PutTimestamp(timestampNs);
        PutU32((uint)data.Length);
        PutU32((uint)originalLength);
        PutPadded(data);
        PutOptionHeader(epb_flags, 4);
        PutU32(flags);
        if (queue >= 0)
        {
            PutOptionHeader(epb_queue, 4);
            PutU32((uint)queue);
        }
        EndOptions();
        EndBlock(start);
    }

    /// <summary>Counters of one interface at the end of the capture.</summary>
    public void WriteStatistics(int interfaceId, ulong startNs, ulong endNs, ulong received, ulong dropped, ulong accepted, string? comment)
    {
        int start = BeginBlock(InterfaceStatisticsBlock);
        PutU32((uint)interfaceId);
        PutTimestamp(endNs);
        if (comment is not null)
            PutStringOption(opt_comment, comment);
        PutOptionHeader(isb_starttime, 8);
        PutTimestamp(startNs);
        PutOptionHeader(isb_endtime, 8);
        PutTimestamp(endNs);
        PutOptionHeader(isb_ifrecv, 8);
        PutU64(received);
        PutOptionHeader(isb_ifdrop, 8);
        PutU64(dropped);
        PutOptionHeader(isb_filteraccept, 8);
        PutU64(accepted);
        EndOptions();
        EndBlock(start);
    }

    /// <summary>Hands buffered blocks to the stream and flushes it.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            _stream.Write(_buffer, 0, _used);
            BytesWritten += _used;
            _used = 0;
        }
        _stream.Flush();
    }

    /// <summary>Moves buffered blocks to the stream once the buffer is mostly full.</summary>
    public void FlushIfFull()
    {
        if (_used > _buffer.Length / 2)
            Flush();
    }

    private int BeginBlock(uint type)
    {
        Reserve(256);
        int start = _used;
        PutU32(type);
        PutU32(0); // total length, patched by EndBlock
        return start;
    }

    private void EndBlock(int start)
    {
        int total = _used - start + 4;
        PutU32((uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(start + 4), (uint)total);
    }

    private void EndOptions() => PutOptionHeader(opt_endofopt, 0);

    private void PutTimestamp(ulong ns)
    {
        PutU32((uint)(ns >> 32));
        PutU32((uint)ns);
    }

    private void PutStringOption(ushort code, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        int length = Math.Min(bytes.Length, ushort.MaxValue - 4);
        PutOptionHeader(code, (ushort)length);
        PutPadded(bytes.AsSpan(0, length));
    }

    private void PutOptionHeader(ushort code, ushort length)
    {
        PutU16(code);
        PutU16(length);
    }

    private void PutPadded(ReadOnlySpan<byte> data)
    {
        Reserve(data.Length + 4);
        data.CopyTo(_buffer.AsSpan(_used));
        _used += data.Length;
        int pad = (4 - (data.Length & 3)) & 3;
        _buffer.AsSpan(_used, pad).Clear();
        _used += pad;
    }

    private void PutU16(ushort v)
    {
        Reserve(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_used), v);
        _used += 2;
    }

    private void PutU32(uint v)
    {
        Reserve(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), v);
        _used += 4;
    }

    private void PutU64(ulong v)
    {
        Reserve(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_used), v);
        _used += 8;
    }

    private void Reserve(int bytes)
    {
        if (_used + bytes <= _buffer.Length)
            return;
        // Grow rather than flush: a block being built must stay contiguous so EndBlock can patch its length.
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _used + bytes));
    }
}
