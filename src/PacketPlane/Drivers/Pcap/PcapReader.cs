using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PacketPlane.Ethdev;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Pcap;

/// <summary>One record of a pcap file: the captured bytes stay valid until the next read.</summary>
internal readonly unsafe struct PcapRecord(byte* data, uint capturedLength, uint originalLength, ulong timestampNs)
{
    public readonly byte* Data = data;
    public readonly uint CapturedLength = capturedLength;
    public readonly uint OriginalLength = originalLength;
    public readonly ulong TimestampNs = timestampNs;
}

/// <summary>What reading the next record found.</summary>
internal enum PcapReadStatus
{
    Ok,
    End,
    TruncatedHeader,
    TruncatedData,
    BeyondSnapLength,
    BeyondMaximum,
    IoError,
}

/// <summary>
/// Reads records of a pcap file: either streamed through a 1 MiB window with pread (rx_pcap), or from the whole
/// file loaded into memory once (infinite_rx, which replays it). <see cref="Open"/> walks every record first, so
/// a damaged file is refused at open with the record number and byte offset; reads on the datapath never throw
/// and treat anything unexpected (the file changed underneath) as the end.
/// </summary>
internal sealed unsafe class PcapReader : IDisposable
{
    private const int WindowSize = 1 << 20;
    private const long MaxWholeFile = 1L << 30;

    private readonly SafeFileHandle _file;
    private readonly int _fd;
    private readonly bool _whole;
    private readonly uint _snapLimit;
    private byte* _buffer;
    private int _capacity;
    private int _valid;
    private int _pos;
    private long _bufferFileOffset;
    private bool _headersNative;

    /// <summary>
    /// What each 16-byte record header of a loaded file becomes once the file has been checked: native byte order,
    /// the timestamp already in nanoseconds. The replay loop then reads two fields instead of swapping and scaling
    /// four per packet (perf put the record parse at a quarter of net_pcap's receive cost in L3Fwd's demo).
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = PcapFormat.RecordHeaderLength)]
    private struct NativeRecordHeader
    {
        public ulong TimestampNs;
        public uint CapturedLength;
        public uint OriginalLength;
    }

    private PcapReader(string path, SafeFileHandle file, PcapFormat format, bool whole)
    {
        Path = path;
        _file = file;
        _fd = (int)file.DangerousGetHandle();
        Format = format;
        _whole = whole;
        _snapLimit = format.EffectiveSnapLength;
    }

    public string Path { get; }

    public PcapFormat Format { get; }

    /// <summary>Records in the file (counted at open).</summary>
    public long RecordCount { get; private set; }

    /// <summary>Largest captured length of any record.</summary>
    public uint MaxCapturedLength { get; private set; }

    /// <summary>True when the whole file is in memory.</summary>
    public bool IsLoaded => _whole;

    /// <summary>File offset of the next record's header.</summary>
    public long Position => _bufferFileOffset + _pos;

    /// <summary>
    /// Opens and checks <paramref name="path"/>. <paramref name="what"/> names the device argument in errors
    /// ("net_pcap0: rx_pcap=in.pcap").
    /// </summary>
    /// <exception cref="DeviceArgumentException">Missing or unreadable file, not a pcap, not Ethernet, a damaged record.</exception>
    public static PcapReader Open(string path, bool loadWhole, string what)
    {
        SafeFileHandle file = OpenFile(path, what);
        PcapReader? reader = null;
        try
        {
            long length = RandomAccess.GetLength(file);
            PcapFormat format = ReadGlobalHeader(file, length, what);
            if (loadWhole && length > MaxWholeFile)
                throw new DeviceArgumentException($"{what}: infinite_rx loads the file into memory and it is {length >> 20} MiB, over the {MaxWholeFile >> 20} MiB limit; replay a shorter capture (editcap -c)");
            reader = new PcapReader(path, file, format, loadWhole);
            reader.AllocateBuffer(loadWhole ? (int)(length - PcapFormat.GlobalHeaderLength) : WindowSize);
            reader.Rewind();
            reader.Validate(what);
            reader.Rewind();
            if (loadWhole)
                reader.RewriteHeadersNative();
            return reader;
        }
        catch
        {
            if (reader is not null)
                reader.Dispose();
            else
                file.Dispose();
            throw;
        }
    }

    /// <summary>Goes back to the first record.</summary>
    public void Rewind()
    {
        if (_whole)
        {
            _pos = 0;
            if (_valid == 0 && _capacity > 0)
                _valid = ReadAt(PcapFormat.GlobalHeaderLength, _buffer, _capacity);
            _bufferFileOffset = PcapFormat.GlobalHeaderLength;
            return;
        }
        Seek(PcapFormat.GlobalHeaderLength);
    }

    /// <summary>Continues reading at file offset <paramref name="position"/> (a value of <see cref="Position"/>).</summary>
    public void Seek(long position)
    {
        if (position >= _bufferFileOffset && position <= _bufferFileOffset + _valid)
        {
            _pos = (int)(position - _bufferFileOffset);
            return;
        }
        _bufferFileOffset = position;
        _pos = 0;
        _valid = 0;
    }

    /// <summary>Reads the next record. Allocation-free; never throws.</summary>
    public PcapReadStatus Next(out PcapRecord record)
    {
        if (_headersNative)
        {
            if (_pos >= _valid)
            {
                record = default;
                return PcapReadStatus.End;
            }
            record = NextLoaded();
            return PcapReadStatus.Ok;
        }
        record = default;
        if (_valid - _pos < PcapFormat.RecordHeaderLength)
        {
            Refill();
            int left = _valid - _pos;
            if (left == 0)
                return PcapReadStatus.End;
            if (left < PcapFormat.RecordHeaderLength)
                return left < 0 ? PcapReadStatus.IoError : PcapReadStatus.TruncatedHeader;
        }
        Format.ReadRecordHeader(new ReadOnlySpan<byte>(_buffer + _pos, PcapFormat.RecordHeaderLength),
            out ulong timestamp, out uint captured, out uint original);
        if (captured > PcapFormat.MaxRecordLength)
            return PcapReadStatus.BeyondMaximum;
        if (captured > _snapLimit)
            return PcapReadStatus.BeyondSnapLength;
        if (_valid - _pos - PcapFormat.RecordHeaderLength < captured)
        {
            Refill();
            if (_valid - _pos - PcapFormat.RecordHeaderLength < captured)
                return PcapReadStatus.TruncatedData;
        }
        record = new PcapRecord(_buffer + _pos + PcapFormat.RecordHeaderLength, captured, original, timestamp);
        _pos += PcapFormat.RecordHeaderLength + (int)captured;
        return PcapReadStatus.Ok;
    }

    /// <summary>
    /// The next record of a loaded file (<see cref="IsLoaded"/>), going back to the first after the last: the
    /// infinite_rx replay. Only for a file with at least one record (<see cref="RecordCount"/>); every record was
    /// checked at open and the copy in memory cannot change, so there is nothing left to fail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PcapRecord NextLoaded()
    {
        if (_pos >= _valid)
            _pos = 0;
        NativeRecordHeader* header = (NativeRecordHeader*)(_buffer + _pos);
        _pos += PcapFormat.RecordHeaderLength + (int)header->CapturedLength;
        return new PcapRecord((byte*)(header + 1), header->CapturedLength, header->OriginalLength, header->TimestampNs);
    }

    /// <summary>Rewrites every record header of the loaded, validated file in place as a <see cref="NativeRecordHeader"/>.</summary>
    private void RewriteHeadersNative()
    {
        for (int pos = 0; pos < _valid;)
        {
            Format.ReadRecordHeader(new ReadOnlySpan<byte>(_buffer + pos, PcapFormat.RecordHeaderLength),
                out ulong timestamp, out uint captured, out uint original);
            NativeRecordHeader* header = (NativeRecordHeader*)(_buffer + pos);
            header->TimestampNs = timestamp;
            header->CapturedLength = captured;
            header->OriginalLength = original;
            pos += PcapFormat.RecordHeaderLength + (int)captured;
        }
        _headersNative = true;
    }

    /// <summary>Frees the buffer and closes the file.</summary>
    public void Dispose()
    {
        if (_buffer != null)
        {
            NativeMemory.Free(_buffer);
            _buffer = null;
            _capacity = _valid = _pos = 0;
        }
        _file.Dispose();
    }

    private void Validate(string what)
    {
        long count = 0;
        uint max = 0;
        while (true)
        {
            long offset = Position;
            PcapReadStatus status = Next(out PcapRecord r);
            if (status == PcapReadStatus.End)
                break;
            if (status != PcapReadStatus.Ok)
                throw new DeviceArgumentException($"{what}: {Describe(status, count + 1, offset)}");
            count++;
            max = Math.Max(max, r.CapturedLength);
        }
        RecordCount = count;
        MaxCapturedLength = max;
    }

    private string Describe(PcapReadStatus status, long record, long offset)
    {
        long fileLength = RandomAccess.GetLength(_file);
        long left = fileLength - offset;
        uint captured = 0;
        if (left >= PcapFormat.RecordHeaderLength)
        {
            Span<byte> header = stackalloc byte[PcapFormat.RecordHeaderLength];
            RandomAccess.Read(_file, header, offset);
            Format.ReadRecordHeader(header, out _, out captured, out _);
        }
        string where = $"record {record} at byte offset {offset}";
        return status switch
        {
            PcapReadStatus.TruncatedHeader => $"{where}: the file ends {left} bytes into the 16-byte record header; the capture was cut short (keep the first {offset} bytes, or re-capture)",
            PcapReadStatus.TruncatedData => $"{where} says it holds {captured} captured bytes but only {left - PcapFormat.RecordHeaderLength} remain in the file; the capture was cut short (keep the first {offset} bytes, or re-capture)",
            PcapReadStatus.BeyondSnapLength => $"{where} says it holds {captured} captured bytes, more than the file's snap length {Format.SnapLength}; the record length is corrupt",
            PcapReadStatus.BeyondMaximum => $"{where} says it holds {captured} captured bytes, more than the {PcapFormat.MaxRecordLength} any pcap record may hold; the record length is corrupt",
            _ => $"{where}: the file could not be read ({Libc.Describe(Libc.LastErrno)})",
        };
    }

    private void AllocateBuffer(int size)
    {
        _capacity = size;
        _buffer = size == 0 ? null : (byte*)NativeMemory.Alloc((nuint)size);
    }

    /// <summary>Moves the unread bytes to the front of the window and reads more after them.</summary>
    private void Refill()
    {
        if (_whole || _buffer == null)
            return;
        int keep = _valid - _pos;
        if (keep > 0 && _pos > 0)
            Buffer.MemoryCopy(_buffer + _pos, _buffer, _capacity, keep);
        _bufferFileOffset += _pos;
        _pos = 0;
        _valid = keep;
        int got = ReadAt(_bufferFileOffset + _valid, _buffer + _valid, _capacity - _valid);
        if (got > 0)
            _valid += got;
    }

    /// <summary>Reads up to <paramref name="count"/> bytes at <paramref name="offset"/>; returns how many (0 at the end, -1 on error).</summary>
    private int ReadAt(long offset, byte* destination, int count)
    {
        int total = 0;
        while (total < count)
        {
            nint n = Libc.pread(_fd, destination + total, (nuint)(count - total), offset + total);
            if (n < 0)
            {
                if (Libc.LastErrno == Libc.EINTR)
                    continue;
                return total > 0 ? total : -1;
            }
            if (n == 0)
                break;
            total += (int)n;
        }
        return total;
    }

    private static SafeFileHandle OpenFile(string path, string what)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (FileNotFoundException)
        {
            throw new DeviceArgumentException($"{what}: no such file ({System.IO.Path.GetFullPath(path)}); give the path of an existing pcap file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new DeviceArgumentException($"{what}: no such directory ({System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))}); give the path of an existing pcap file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new DeviceArgumentException($"{what}: permission denied reading {System.IO.Path.GetFullPath(path)}; make the file readable by this user (chmod o+r) or run as its owner");
        }
        catch (IOException e)
        {
            throw new DeviceArgumentException($"{what}: cannot open {System.IO.Path.GetFullPath(path)}: {e.Message}");
        }
    }

    private static PcapFormat ReadGlobalHeader(SafeFileHandle file, long length, string what)
    {
        if (length < PcapFormat.GlobalHeaderLength)
            throw new DeviceArgumentException($"{what}: the file is {length} bytes, shorter than the 24-byte pcap file header; it is not a pcap file or was cut short");
        Span<byte> header = stackalloc byte[PcapFormat.GlobalHeaderLength];
        RandomAccess.Read(file, header, 0);
        PcapFormat? format = PcapFormat.TryParse(header, out uint magic, out ushort major, out ushort minor);
        if (format is null)
        {
            string hint = magic == 0x0A0D0D0A
                ? "it is a pcapng file; convert it with: editcap -F pcap IN.pcapng OUT.pcap"
                : "pcap files start with a1b2c3d4 (microsecond) or a1b23c4d (nanosecond) in either byte order";
            throw new DeviceArgumentException($"{what}: bad magic number 0x{magic:x8} at byte offset 0; {hint}");
        }
        if (major != 2)
            throw new DeviceArgumentException($"{what}: pcap format version {major}.{minor} is not supported (version 2.x is)");
        if (format.Value.LinkType != PcapFormat.LinkTypeEthernet)
            throw new DeviceArgumentException($"{what}: link type {format.Value.LinkType} is not Ethernet (1); net_pcap replays Ethernet captures only");
        return format.Value;
    }
}
