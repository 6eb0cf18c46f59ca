using System;
using System.Collections.Concurrent;

namespace PacketPlane.DeviceModels.Common;

/// <summary>
/// What a model's port is cabled to. Both calls come from the model's thread. Frames carry no FCS (the model adds
/// and strips it as the MAC would).
/// </summary>
public interface IEthernetWire
{
    /// <summary>A frame the device put on the wire.</summary>
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>
    /// The next frame arriving from the wire, copied into <paramref name="buffer"/>; returns its length, or 0 when
    /// nothing is waiting. The model only asks when its receive packet buffer has room, so a wire that generates
    /// frames on demand never loses one.
    /// </summary>
    int Receive(Span<byte> buffer);
}

/// <summary>A wire to nowhere: nothing arrives, transmitted frames vanish.</summary>
public sealed class NullWire : IEthernetWire
{
    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
    }

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer) => 0;
}

/// <summary>A wire with queues on both ends, for tests that send and collect a few frames.</summary>
public sealed class QueueWire : IEthernetWire
{
    /// <summary>Frames waiting to arrive at the device.</summary>
    public ConcurrentQueue<byte[]> Inbound { get; } = new();

    /// <summary>Frames the device transmitted.</summary>
    public ConcurrentQueue<byte[]> Outbound { get; } = new();

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame) => Outbound.Enqueue(frame.ToArray());

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer)
    {
        if (!Inbound.TryDequeue(out byte[]? f))
            return 0;
        f.CopyTo(buffer);
        return f.Length;
    }
}

/// <summary>
/// A wire for long runs without allocation: it generates inbound frames on demand from a builder (frame i of
/// <see cref="InboundCount"/>) and checks every outbound frame byte for byte against the builder's frame for its
/// running index, counting mismatches.
/// </summary>
public sealed class SequenceWire : IEthernetWire
{
    private readonly FrameBuilder _inbound;
    private readonly FrameBuilder _expectedOutbound;
    private readonly byte[] _scratch = new byte[16384];
    private long _nextIn;
    private long _nextOut;
    private long _mismatches;

    /// <summary>Writes frame <c>index</c> into the span and returns its length.</summary>
    public delegate int FrameBuilder(long index, Span<byte> frame);

    /// <summary>Creates the wire.</summary>
    public SequenceWire(long inboundCount, FrameBuilder inbound, FrameBuilder expectedOutbound)
    {
        InboundCount = inboundCount;
        _inbound = inbound;
        _expectedOutbound = expectedOutbound;
    }

    /// <summary>Frames the wire will deliver in total.</summary>
    public long InboundCount { get; set; }

    /// <summary>
    /// While false nothing arrives (the far end has not started sending). A test opens the tap once the port is up,
    /// so no frame is lost to a queue that is not enabled yet.
    /// </summary>
    public bool Sending { get; set; } = true;

    /// <summary>Frames delivered so far.</summary>
    public long Delivered => System.Threading.Interlocked.Read(ref _nextIn);

    /// <summary>Frames the device transmitted.</summary>
    public long Transmitted => System.Threading.Interlocked.Read(ref _nextOut);

    /// <summary>Transmitted frames that differed from the expected bytes.</summary>
    public long Mismatches => System.Threading.Interlocked.Read(ref _mismatches);

    /// <summary>The first mismatch, described.</summary>
    public string? FirstMismatch { get; private set; }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        long i = _nextOut;
        int len = _expectedOutbound(i, _scratch);
        if (!frame.SequenceEqual(_scratch.AsSpan(0, len)))
        {
            System.Threading.Interlocked.Increment(ref _mismatches);
            FirstMismatch ??= $"outbound frame {i}: {frame.Length} bytes, expected {len}; first bytes {Convert.ToHexString(frame[..Math.Min(24, frame.Length)])}";
        }
        System.Threading.Interlocked.Exchange(ref _nextOut, i + 1);
    }

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer)
    {
        long i = _nextIn;
        if (i >= InboundCount || !Sending)
            return 0;
        int len = _inbound(i, buffer);
        System.Threading.Interlocked.Exchange(ref _nextIn, i + 1);
        return len;
    }
}
