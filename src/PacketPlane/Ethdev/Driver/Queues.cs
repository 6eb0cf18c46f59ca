using System;
using PacketPlane.Memory;

namespace PacketPlane.Ethdev.Driver;

/// <summary>
/// Counters a queue keeps for itself. Only the lcore polling the queue writes them (plain adds, no atomics);
/// readers on other threads see a recent value, as with DPDK's software counters.
/// </summary>
public struct QueueCounters
{
    /// <summary>Packets received or sent.</summary>
    public ulong Packets;
    /// <summary>Bytes received or sent.</summary>
    public ulong Bytes;
    /// <summary>Packets in error (bad frames received, frames that failed to send).</summary>
    public ulong Errors;
    /// <summary>RX: times buffers could not be allocated from the pool.</summary>
    public ulong NoMbuf;
    /// <summary>RX: packets dropped because the queue was full.</summary>
    public ulong Missed;
}

/// <summary>
/// A receive queue as a driver implements it. <see cref="EthDev.RxBurst"/> makes one call to
/// <see cref="RxBurst"/> per burst; implementations are sealed so that call is the only indirection.
/// The burst must not allocate, throw or lock.
/// </summary>
public abstract class RxQueue
{
    /// <summary>Counters of this queue.</summary>
    protected internal QueueCounters Counters;

    /// <summary>Creates the queue.</summary>
    protected RxQueue(ushort portId, int queueId)
    {
        PortId = portId;
        QueueId = queueId;
    }

    /// <summary>Port the queue belongs to.</summary>
    public ushort PortId { get; }

    /// <summary>Queue index.</summary>
    public int QueueId { get; }

    /// <summary>
    /// Receives up to packets.Length packets into <paramref name="packets"/>; returns how many. The caller owns
    /// them and must send or free each.
    /// </summary>
    public abstract int RxBurst(Span<Packet> packets);

    /// <summary>Returns buffers the queue holds (posted descriptors, staged packets) to their pools. Called at release.</summary>
    protected internal virtual void Release()
    {
    }

    /// <summary>Counters snapshot.</summary>
    public QueueCounters Snapshot => Counters;
}

/// <summary>
/// A transmit queue as a driver implements it. <see cref="TxBurst"/> takes ownership of the packets it reports
/// as sent (the first n); the rest stay the caller's (DPDK's contract).
/// </summary>
public abstract class TxQueue
{
    /// <summary>Counters of this queue.</summary>
    protected internal QueueCounters Counters;

    /// <summary>Creates the queue.</summary>
    protected TxQueue(ushort portId, int queueId)
    {
        PortId = portId;
        QueueId = queueId;
    }

    /// <summary>Port the queue belongs to.</summary>
    public ushort PortId { get; }

    /// <summary>Queue index.</summary>
    public int QueueId { get; }

    /// <summary>Sends up to packets.Length packets; returns how many were taken (from the front of the span).</summary>
    public abstract int TxBurst(Span<Packet> packets);

    /// <summary>Frees buffers of packets already sent that the queue still holds. Called at release.</summary>
    protected internal virtual void Release()
    {
    }

    /// <summary>Counters snapshot.</summary>
    public QueueCounters Snapshot => Counters;
}

/// <summary>Stands in for the queues of a stopped port: bursts do nothing, so a late poll cannot crash.</summary>
internal sealed class StoppedRxQueue(ushort portId, int queueId) : RxQueue(portId, queueId)
{
    public override int RxBurst(Span<Packet> packets) => 0;
}

/// <summary>Stands in for the queues of a stopped port: nothing is taken.</summary>
internal sealed class StoppedTxQueue(ushort portId, int queueId) : TxQueue(portId, queueId)
{
    public override int TxBurst(Span<Packet> packets) => 0;
}
