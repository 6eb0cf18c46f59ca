using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Pcap;

/// <summary>
/// Writes packets as a nanosecond-resolution pcap file (what DPDK's tx_pcap writes, so tshark and Wireshark read
/// it). Records collect in a 1 MiB buffer written with pwrite when full and at <see cref="Flush"/> (the device
/// flushes at stop and close). Chained packets are written whole, up to the snap length.
/// </summary>
internal sealed unsafe class PcapWriter : IDisposable
{
    private const int BufferSize = 1 << 20;

    private readonly SafeFileHandle _file;
    private readonly int _fd;
    private readonly uint _snapLength;
    private byte* _buffer;
    private int _used;
    private int _recordsBuffered;
    private long _fileOffset;

    private PcapWriter(string path, SafeFileHandle file, uint snapLength)
    {
        Path = path;
        _file = file;
        _fd = (int)file.DangerousGetHandle();
        _snapLength = snapLength;
        _buffer = (byte*)NativeMemory.Alloc(BufferSize);
    }

    public string Path { get; }

    /// <summary>Records that could not be written (disk full, I/O error).</summary>
    public ulong LostRecords { get; private set; }

    /// <summary>errno of the last failed write, 0 if none.</summary>
    public int LastError { get; private set; }

    /// <summary>Records written to the file or waiting in the buffer.</summary>
    public ulong RecordsWritten { get; private set; }

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the file header.</summary>
    /// <exception cref="DeviceArgumentException">The directory does not exist, no permission, or the header write failed.</exception>
    public static PcapWriter Create(string path, uint snapLength, string what)
    {
        SafeFileHandle file = OpenFile(path, what);
        var writer = new PcapWriter(path, file, snapLength);
        PcapFormat.WriteGlobalHeader(new Span<byte>(writer._buffer, PcapFormat.GlobalHeaderLength), snapLength);
        writer._used = PcapFormat.GlobalHeaderLength;
        if (!writer.Flush())
        {
            int errno = writer.LastError;
            writer.Dispose();
            throw new DeviceArgumentException($"{what}: writing the pcap header to {System.IO.Path.GetFullPath(path)} failed: {Libc.Describe(errno)}");
        }
        return writer;
    }

    /// <summary>Appends one packet (all segments) with <paramref name="timestampNs"/>. Never throws.</summary>
    public void Append(Mbuf* m, ulong timestampNs)
    {
        uint length = m->PktLen;
        uint captured = Math.Min(length, _snapLength);
        int need = PcapFormat.RecordHeaderLength + (int)captured;
        if (_used + need > BufferSize)
            Flush();
        byte* record = _buffer + _used;
        PcapFormat.WriteRecordHeader(new Span<byte>(record, PcapFormat.RecordHeaderLength), timestampNs, captured, length);
        byte* dst = record + PcapFormat.RecordHeaderLength;
        uint left = captured;
        for (Mbuf* seg = m; seg != null && left > 0; seg = seg->Next)
        {
            uint n = Math.Min(seg->DataLen, left);
            Buffer.MemoryCopy(seg->BufAddr + seg->DataOff, dst, n, n);
            dst += n;
            left -= n;
        }
        // A chain shorter than its pkt_len (a malformed mbuf) is padded rather than written short.
        if (left > 0)
            new Span<byte>(dst, (int)left).Clear();
        _used += need;
        _recordsBuffered++;
        RecordsWritten++;
    }

    /// <summary>Writes the buffered records to the file. False (and the records counted as lost) on a write error.</summary>
    public bool Flush()
    {
        int done = 0;
        while (done < _used)
        {
            nint n = Libc.pwrite(_fd, _buffer + done, (nuint)(_used - done), _fileOffset + done);
            if (n < 0 && Libc.LastErrno == Libc.EINTR)
                continue;
            if (n <= 0)
            {
                LastError = n < 0 ? Libc.LastErrno : Libc.ENOSPC;
                LostRecords += (ulong)_recordsBuffered;
                // Keep the file consistent: the next records go where this batch would have started.
                _used = 0;
                _recordsBuffered = 0;
                return false;
            }
            done += (int)n;
        }
        _fileOffset += _used;
        _used = 0;
        _recordsBuffered = 0;
        return true;
    }

    /// <summary>Frees the buffer and closes the file (flush first).</summary>
    public void Dispose()
    {
        if (_buffer != null)
        {
            NativeMemory.Free(_buffer);
            _buffer = null;
        }
        _file.Dispose();
    }

    private static SafeFileHandle OpenFile(string path, string what)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            return File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (DirectoryNotFoundException)
        {
            throw new DeviceArgumentException($"{what}: the directory {System.IO.Path.GetDirectoryName(full)} does not exist; create it (mkdir -p) or write the capture elsewhere");
        }
        catch (UnauthorizedAccessException)
        {
            throw new DeviceArgumentException($"{what}: permission denied creating {full}; choose a writable directory");
        }
        catch (IOException e)
        {
            throw new DeviceArgumentException($"{what}: cannot create {full}: {e.Message}");
        }
    }
}
