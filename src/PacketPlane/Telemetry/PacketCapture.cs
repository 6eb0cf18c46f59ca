using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Ring;

namespace PacketPlane.Telemetry;

/// <summary>Settings of a <see cref="PacketCapture"/>.</summary>
public sealed record CaptureOptions
{
    /// <summary>Bytes kept of each packet (the rest is cut; the file records the length on the wire). Default 2048, at most 65535.</summary>
    public int Snaplen { get; init; } = 2048;

    /// <summary>
    /// Packets that may wait between the datapath and the writer thread. When it is full, further packets are
    /// dropped and counted (<see cref="CaptureStatistics.Dropped"/>); the datapath never waits. Default 4096.
    /// </summary>
    public int RingSize { get; init; } = 4096;

    /// <summary>Leave the stream open when the capture ends (only for <see cref="PacketCapture.Start(Stream, CaptureOptions?)"/>).</summary>
    public bool LeaveOpen { get; init; }

    /// <summary>Application name written into the file's section header (shb_userappl).</summary>
    public string Application { get; init; } = "PacketPlane";
}

/// <summary>Counts of a capture, summed over its ports.</summary>
/// <param name="Seen">Packets that passed an enabled port, queue and direction.</param>
/// <param name="FilteredOut">Of those, packets the filter did not keep.</param>
/// <param name="Dropped">Packets kept by the filter but lost because the ring or its buffers were full.</param>
/// <param name="Captured">Packets copied into the ring.</param>
/// <param name="Written">Packets written to the file.</param>
public readonly record struct CaptureStatistics(long Seen, long FilteredOut, long Dropped, long Captured, long Written);

/// <summary>
/// A capture to a pcapng file, switched on and off per port, queue and direction while the ports run (what
/// DPDK needs dumpcap and a secondary process for). The datapath copies matching packets into a bounded ring
/// and never blocks; a background thread writes them with nanosecond timestamps, one interface per port,
/// direction flags and queue numbers, readable by Wireshark and tshark.
/// </summary>
/// <example>
/// <code>
/// using var capture = PacketCapture.Start("/tmp/port0.pcapng");
/// capture.Enable(port, CaptureDirection.Rx, queue: 0, CaptureFilter.Parse("udp and port 53"));
/// ...
/// capture.Disable(port);
/// </code>
/// </example>
public sealed class PacketCapture : IDisposable
{
    /// <summary>Queue number meaning "every queue of the port".</summary>
    public const int AllQueues = -1;

    private static readonly object s_portLock = new();
    private static int s_sessionCounter;

    private readonly CaptureOptions _options;
    private readonly Stream _stream;
    private readonly PcapngWriter _writer;
    private readonly MbufPool _pool;
    private readonly Ring<nint> _ring;
    private readonly Thread _thread;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<ushort, CaptureTap> _taps = new();
    private readonly Dictionary<ushort, int> _interfaceIds = new(); // writer thread only
    private readonly long _startTimestamp;
    private readonly ulong _startUnixNs;
    private long _written;
    private int _flushRequested;
    private int _stopRequested;
    private int _disposed;
    private Exception? _writerFailure;

    private PacketCapture(Stream stream, CaptureOptions options, string description)
    {
        _options = options;
        _stream = stream;
        _log = Log.For("PacketPlane.Telemetry.Capture");
        Description = description;
        int id = Interlocked.Increment(ref s_sessionCounter);
        // Buffers hold the captured bytes only: no headroom, data room = snaplen.
        _pool = MbufPool.Create($"capture{id}", options.RingSize + 64, cacheSize: 0, dataRoomSize: options.Snaplen,
            options: new MbufPoolOptions { Headroom = 0 });
        try
        {
            _ring = Ring<nint>.Create(options.RingSize, RingFlags.ExactSize, $"capture{id}");
        }
        catch
        {
            _pool.Dispose();
            throw;
        }
        _startTimestamp = Stopwatch.GetTimestamp();
        _startUnixNs = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        _writer = new PcapngWriter(stream);
        _writer.WriteSectionHeader(options.Application, hardware: null, os: $"Linux {Environment.OSVersion.Version}");
        _writer.Flush();
        _thread = new Thread(WriterLoop) { IsBackground = true, Name = $"capture-{id}" };
        _thread.Start();
        Eal.Current?.Own(this, Eal.TeardownStage.Ports);
    }

    /// <summary>Where the capture goes (file path, or "stream").</summary>
    public string Description { get; }

    /// <summary>The settings.</summary>
    public CaptureOptions Options => _options;

    /// <summary>Counts so far.</summary>
    public CaptureStatistics Statistics
    {
        get
        {
            long seen = 0, filtered = 0, dropped = 0, captured = 0;
            foreach (CaptureTap tap in _taps.Values)
            {
                seen += tap.Seen;
                filtered += tap.FilteredOut;
                dropped += tap.Dropped;
                captured += tap.Captured;
            }
            return new CaptureStatistics(seen, filtered, dropped, captured, Interlocked.Read(ref _written));
        }
    }

    /// <summary>Starts a capture into a new pcapng file at <paramref name="path"/> (replaced if it exists).</summary>
    /// <exception cref="IOException">The file cannot be created.</exception>
    public static PacketCapture Start(string path, CaptureOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new CaptureOptions();
        Validate(options);
        FileStream file = new(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        try
        {
            return new PacketCapture(file, options with { LeaveOpen = false }, path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Starts a capture into <paramref name="stream"/>.</summary>
    public static PacketCapture Start(Stream stream, CaptureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new CaptureOptions();
        Validate(options);
        return new PacketCapture(stream, options, "stream");
    }

    /// <summary>
    /// Captures <paramref name="direction"/> of <paramref name="queue"/> (or every queue) of <paramref name="port"/>,
    /// keeping what <paramref name="filter"/> matches (one filter per port: the latest given applies to all of
    /// the port's enabled queues; null keeps the current one, or everything). Takes effect at the next burst.
    /// </summary>
    /// <exception cref="PacketPlaneException">The port is being captured by another <see cref="PacketCapture"/>, or this one has ended.</exception>
    public void Enable(EthDev port, CaptureDirection direction = CaptureDirection.Both, int queue = AllQueues, CaptureFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(port);
        CheckDirection(direction);
        if (Volatile.Read(ref _disposed) != 0)
            throw new PacketPlaneException($"capture to {Description} has ended; start a new PacketCapture");
        lock (s_portLock)
        {
            CaptureTap? current = port.CaptureTap;
            _taps.TryGetValue(port.PortId, out CaptureTap? mine);
            if (current is not null && !ReferenceEquals(current, mine))
                throw new PacketPlaneException($"{port} is already captured by another PacketCapture; disable it there first");
            CaptureTap tap = _taps.GetOrAdd(port.PortId, _ => new CaptureTap(port.PortId, port.Name,
                $"PacketPlane port {port.PortId} ({port.Name}, driver {port.Driver.Name})", _pool, _ring, _options.Snaplen));
            if (filter is not null)
                tap.SetFilter(filter);
            tap.SetEnabled(direction, queue, on: true);
            port.SetCaptureTap(tap);
        }
        _log.LogInformation(LogEvents.CaptureStarted, "capture to {File}: {Port} {Direction} queue {Queue} on, filter {Filter}",
            Description, port, direction, queue < 0 ? "all" : queue, filter?.ToString() ?? "(unchanged)");
    }

    /// <summary>Stops capturing <paramref name="direction"/> of <paramref name="queue"/> (or every queue) of <paramref name="port"/>.</summary>
    public void Disable(EthDev port, CaptureDirection direction = CaptureDirection.Both, int queue = AllQueues)
    {
        ArgumentNullException.ThrowIfNull(port);
        CheckDirection(direction);
        lock (s_portLock)
        {
            if (!_taps.TryGetValue(port.PortId, out CaptureTap? tap))
                return;
            tap.SetEnabled(direction, queue, on: false);
            if (!tap.AnyEnabled && ReferenceEquals(port.CaptureTap, tap))
                port.SetCaptureTap(null);
        }
        _log.LogInformation(LogEvents.CaptureStopped, "capture to {File}: {Port} {Direction} queue {Queue} off", Description, port, direction,
            queue < 0 ? "all" : queue);
    }

    /// <summary>
    /// Waits until every packet captured so far is in the file, and flushes it (so another program can read it
    /// while the capture goes on). Returns false on timeout.
    /// </summary>
    public bool Flush(TimeSpan? timeout = null)
    {
        long target = Statistics.Captured;
        long deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        while (Interlocked.Read(ref _written) < target && _thread.IsAlive)
        {
            if (Environment.TickCount64 > deadline)
                return false;
            Thread.Sleep(1);
        }
        Interlocked.Exchange(ref _flushRequested, 1); // pairs with the Exchange in WriterLoop
        while (Volatile.Read(ref _flushRequested) != 0 && _thread.IsAlive)
        {
            if (Environment.TickCount64 > deadline)
                return false;
            Thread.Sleep(1);
        }
        return true;
    }

    /// <summary>
    /// Ends the capture: removes the taps from the ports, writes what is queued, an interface statistics block per
    /// port (packets seen, dropped, kept), and closes the file. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        bool tapsIdle = true;
        lock (s_portLock)
        {
            foreach (CaptureTap tap in _taps.Values)
            {
                EthDev? port = EthDev.All.FirstOrDefault(p => p.PortId == tap.PortId);
                if (port is not null && ReferenceEquals(port.CaptureTap, tap))
                    port.SetCaptureTap(null);
                tapsIdle &= tap.Close(TimeSpan.FromSeconds(2));
            }
        }
        Interlocked.Exchange(ref _stopRequested, 1);
        _thread.Join();
        if (!_options.LeaveOpen)
            _stream.Dispose();
        Eal.Current?.Disown(this);
        if (tapsIdle)
        {
            _ring.Dispose();
            _pool.Dispose();
        }
        else
        {
            // An lcore is still inside a burst after 2 s: leave the buffers mapped rather than free them under it.
            _log.LogError(LogEvents.CaptureStopped, "capture to {File}: a burst did not leave the capture tap in time; its buffers stay allocated", Description);
        }
        CaptureStatistics s = Statistics;
        _log.LogInformation(LogEvents.CaptureStopped, "capture to {File} closed: {Written} packets written, {Dropped} dropped, {Filtered} filtered out{Failure}",
            Description, s.Written, s.Dropped, s.FilteredOut, _writerFailure is null ? "" : $"; writing failed: {_writerFailure.Message}");
    }

    /// <inheritdoc/>
    public override string ToString() => $"PacketCapture to {Description}";

    private void WriterLoop()
    {
        var batch = new nint[64];
        long lastFlush = Environment.TickCount64;
        try
        {
            while (true)
            {
                bool stopping = Volatile.Read(ref _stopRequested) != 0;
                int n = WriteBatch(batch);
                if (n > 0)
                    continue;
                if (Interlocked.Exchange(ref _flushRequested, 0) != 0 || Environment.TickCount64 - lastFlush > 200)
                {
                    _writer.Flush();
                    lastFlush = Environment.TickCount64;
                }
                if (stopping)
                    break;
                Thread.Sleep(1);
            }
            WriteStatistics();
            _writer.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            _writerFailure = e;
            _log.LogError(LogEvents.CaptureStopped, e, "capture to {File}: writing failed; captured packets are dropped from now on", Description);
            DiscardQueued(batch);
        }
    }

    private int WriteBatch(nint[] batch)
    {
        int n = _ring.DequeueBurst(batch);
        for (int i = 0; i < n; i++)
        {
            CapturedPacket p = CapturedPacket.Read(batch[i]);
            int ifId = InterfaceFor(p.Port);
            uint flags = p.Direction == CaptureDirection.Rx ? PcapngWriter.FlagInbound : PcapngWriter.FlagOutbound;
            _writer.WritePacket(ifId, ToUnixNs(p.Timestamp), p.Data, p.WireLength, flags, p.Queue);
        }
        if (n > 0)
        {
            CapturedPacket.Release(_pool, batch.AsSpan(0, n));
            Interlocked.Add(ref _written, n);
            _writer.FlushIfFull();
        }
        return n;
    }

    private void DiscardQueued(nint[] batch)
    {
        int n;
        while ((n = _ring.DequeueBurst(batch)) > 0)
            CapturedPacket.Release(_pool, batch.AsSpan(0, n));
        // Wait for the stop request so Dispose still finds the ring drained.
        while (Volatile.Read(ref _stopRequested) == 0)
        {
            Thread.Sleep(5);
            while ((n = _ring.DequeueBurst(batch)) > 0)
                CapturedPacket.Release(_pool, batch.AsSpan(0, n));
        }
    }

    private int InterfaceFor(ushort port)
    {
        if (_interfaceIds.TryGetValue(port, out int id))
            return id;
        string name = _taps.TryGetValue(port, out CaptureTap? tap) ? tap.PortName : $"port{port}";
        string description = tap?.Description ?? $"PacketPlane port {port}";
        id = _writer.WriteInterface(name, description, _options.Snaplen);
        _interfaceIds[port] = id;
        return id;
    }

    private void WriteStatistics()
    {
        ulong end = ToUnixNs((ulong)Stopwatch.GetTimestamp());
        foreach (CaptureTap tap in _taps.Values.OrderBy(t => t.PortId))
        {
            int id = InterfaceFor(tap.PortId);
            string comment = $"seen {tap.Seen}, filtered out {tap.FilteredOut}, dropped {tap.Dropped} (ring full), filter: {tap.Filter?.ToString() ?? "(all packets)"}";
            _writer.WriteStatistics(id, _startUnixNs, end, (ulong)tap.Seen, (ulong)tap.Dropped, (ulong)tap.Captured, comment);
        }
    }

    private ulong ToUnixNs(ulong timestamp)
    {
        long elapsed = (long)timestamp - _startTimestamp;
        long ns = Stopwatch.Frequency == 1_000_000_000 ? elapsed : (long)((Int128)elapsed * 1_000_000_000 / Stopwatch.Frequency);
        return _startUnixNs + (ulong)Math.Max(0, ns);
    }

    private static void Validate(CaptureOptions options)
    {
        if (options.Snaplen < 64 || options.Snaplen > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), $"capture snaplen {options.Snaplen} must be between 64 and {ushort.MaxValue}");
        if (options.RingSize < 1 || options.RingSize > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(options), $"capture ring size {options.RingSize} must be between 1 and {1 << 20}");
    }

    private static void CheckDirection(CaptureDirection direction)
    {
        if ((direction & ~CaptureDirection.Both) != 0 || direction == 0)
            throw new ArgumentOutOfRangeException(nameof(direction), $"capture direction {direction} must be Rx, Tx or Both");
    }
}
