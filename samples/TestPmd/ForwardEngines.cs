using System;
using System.Runtime.InteropServices;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Samples.TestPmd;

/// <summary>A forwarding engine (testpmd's struct fwd_engine): one call per stream per loop iteration.</summary>
public abstract class ForwardEngine
{
    /// <summary>Receives, processes and sends one burst of <paramref name="stream"/>.</summary>
    public abstract void Forward(ForwardStream stream, Span<Packet> burst);

    /// <summary>Prepares a stream before forwarding starts (templates, MAC bytes).</summary>
    public virtual void Prepare(ForwardStream stream, TestPmdOptions options)
    {
    }

    /// <summary>The engine for <paramref name="mode"/>.</summary>
    public static ForwardEngine For(ForwardMode mode, MbufPool pool) => mode switch
    {
        ForwardMode.Io => new IoEngine(),
        ForwardMode.Mac => new MacEngine(),
        ForwardMode.MacSwap => new MacSwapEngine(),
        ForwardMode.RxOnly => new RxOnlyEngine(),
        _ => new TxOnlyEngine(pool),
    };

    /// <summary>Sends <paramref name="packets"/>, frees what the port refuses and counts both (testpmd's common tail).</summary>
    protected static void Send(ForwardStream stream, Span<Packet> packets)
    {
        int sent = stream.TxPort.TxBurst(stream.TxQueue, packets);
        stream.TxPackets += sent;
        if (sent < packets.Length)
        {
            stream.Dropped += packets.Length - sent;
            Packet.FreeBulk(packets[sent..]);
        }
    }
}

/// <summary>io: forward as received (io_forward).</summary>
public sealed class IoEngine : ForwardEngine
{
    /// <inheritdoc/>
    public override void Forward(ForwardStream stream, Span<Packet> burst)
    {
        int n = stream.RxPort.RxBurst(stream.RxQueue, burst);
        if (n == 0)
            return;
        stream.RxPackets += n;
        Send(stream, burst[..n]);
    }
}

/// <summary>mac: destination = peer, source = TX port's MAC (mac_fwd).</summary>
public sealed class MacEngine : ForwardEngine
{
    /// <inheritdoc/>
    public override void Prepare(ForwardStream stream, TestPmdOptions options)
    {
        Span<byte> macs = stackalloc byte[12];
        stream.Peer.CopyTo(macs);
        stream.TxPort.MacAddress.CopyTo(macs[6..]);
        stream.MacHead = MemoryMarshal.Read<ulong>(macs);
        stream.MacTail = MemoryMarshal.Read<uint>(macs[8..]);
    }

    /// <inheritdoc/>
    public override void Forward(ForwardStream stream, Span<Packet> burst)
    {
        int n = stream.RxPort.RxBurst(stream.RxQueue, burst);
        if (n == 0)
            return;
        stream.RxPackets += n;
        for (int i = 0; i < n; i++)
        {
            Span<byte> frame = burst[i].Data;
            if (frame.Length < 12)
                continue;
            MemoryMarshal.Write(frame, in stream.MacHead);
            MemoryMarshal.Write(frame[8..], in stream.MacTail);
        }
        Send(stream, burst[..n]);
    }
}

/// <summary>macswap: exchange source and destination MAC (macswap).</summary>
public sealed class MacSwapEngine : ForwardEngine
{
    /// <inheritdoc/>
    public override void Forward(ForwardStream stream, Span<Packet> burst)
    {
        int n = stream.RxPort.RxBurst(stream.RxQueue, burst);
        if (n == 0)
            return;
        stream.RxPackets += n;
        for (int i = 0; i < n; i++)
        {
            Span<byte> frame = burst[i].Data;
            if (frame.Length >= EthernetHeader.Length)
                new EthernetHeader(frame).SwapAddresses();
        }
        Send(stream, burst[..n]);
    }
}

/// <summary>rxonly: receive and free (rxonly).</summary>
public sealed class RxOnlyEngine : ForwardEngine
{
    /// <inheritdoc/>
    public override void Forward(ForwardStream stream, Span<Packet> burst)
    {
        int n = stream.RxPort.RxBurst(stream.RxQueue, burst);
        if (n == 0)
            return;
        stream.RxPackets += n;
        Packet.FreeBulk(burst[..n]);
    }
}

/// <summary>
/// txonly: allocate a burst, stamp the stream's UDP frame into it (source the TX port, destination the peer;
/// 198.18.0.1 to 198.18.0.2, UDP 9 to 9 as testpmd), send (pkt_burst_transmit).
/// </summary>
public sealed class TxOnlyEngine(MbufPool pool) : ForwardEngine
{
    /// <inheritdoc/>
    public override void Prepare(ForwardStream stream, TestPmdOptions options) =>
        stream.Template = new UdpFrame
        {
            Source = stream.TxPort.MacAddress,
            Destination = stream.Peer,
            FrameLength = options.TxPacketLength,
        }.ToTemplate();

    /// <inheritdoc/>
    public override void Forward(ForwardStream stream, Span<Packet> burst)
    {
        if (pool.AllocBulk(burst) == 0)
            return;
        int n = stream.Template!.WriteTo(burst);
        if (n < burst.Length)
            Packet.FreeBulk(burst[n..]);
        Send(stream, burst[..n]);
    }
}
