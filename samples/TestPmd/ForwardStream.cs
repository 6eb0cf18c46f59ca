using PacketPlane.Ethdev;
using PacketPlane.Net;

namespace PacketPlane.Samples.TestPmd;

/// <summary>
/// One forwarding stream (testpmd's struct fwd_stream): packets received on (RxPort, RxQueue) go out on
/// (TxPort, TxQueue). Its counters are written only by the lcore that runs it.
/// </summary>
public sealed class ForwardStream
{
    /// <summary>Creates a stream.</summary>
    public ForwardStream(EthDev rxPort, int rxQueue, EthDev txPort, int txQueue, MacAddress peer)
    {
        RxPort = rxPort;
        RxQueue = rxQueue;
        TxPort = txPort;
        TxQueue = txQueue;
        Peer = peer;
    }

    /// <summary>Port received from.</summary>
    public EthDev RxPort { get; }

    /// <summary>Queue received from.</summary>
    public int RxQueue { get; }

    /// <summary>Port sent on.</summary>
    public EthDev TxPort { get; }

    /// <summary>Queue sent on.</summary>
    public int TxQueue { get; }

    /// <summary>Destination MAC for mac and txonly modes.</summary>
    public MacAddress Peer { get; }

    /// <summary>Packets received.</summary>
    public long RxPackets;

    /// <summary>Packets the TX port took.</summary>
    public long TxPackets;

    /// <summary>Packets freed because the TX port did not take them (testpmd's fwd_dropped).</summary>
    public long Dropped;

    /// <summary>txonly: the frame this stream stamps (set when the engine is txonly).</summary>
    public FrameTemplate? Template { get; set; }

    /// <summary>mac mode: destination and source MAC bytes (12) packed as 8 + 4 for two stores.</summary>
    internal ulong MacHead;

    /// <summary>mac mode: the last 4 bytes of the source MAC.</summary>
    internal uint MacTail;

    /// <inheritdoc/>
    public override string ToString() =>
        $"RX P={RxPort.PortId}/Q={RxQueue} (socket 0) -> TX P={TxPort.PortId}/Q={TxQueue} (socket 0) peer={Peer.ToString().ToUpperInvariant()}";
}
