using System;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;
using PacketPlane.Ring;

namespace PacketPlane.Drivers.Ring;

/// <summary>Dequeues packet handles from the ring (eth_ring_rx): zero-copy, sets the input port.</summary>
internal sealed unsafe class RingRxQueue(ushort portId, int queueId, SharedRing ring) : RxQueue(portId, queueId)
{
    private readonly Ring<Packet> _ring = ring.Ring;

    public override int RxBurst(Span<Packet> packets)
    {
        uint n;
        ulong bytes = 0;
        ushort port = PortId;
        fixed (Packet* p = packets)
        {
            n = _ring.Dequeue(p, (uint)packets.Length, burst: true);
            Mbuf** mbufs = (Mbuf**)p;
            for (uint i = 0; i < n; i++)
            {
                Mbuf* m = mbufs[i];
                m->Port = port;
                bytes += m->PktLen;
            }
        }
        Counters.Packets += n;
        Counters.Bytes += bytes;
        return (int)n;
    }

    /// <summary>Packets waiting in the ring are the queue's: free them.</summary>
    protected internal override void Release() => ring.Drain();
}

/// <summary>Enqueues packet handles onto the ring (eth_ring_tx); what does not fit stays the caller's.</summary>
internal sealed unsafe class RingTxQueue(ushort portId, int queueId, Ring<Packet> ring) : TxQueue(portId, queueId)
{
    public override int TxBurst(Span<Packet> packets)
    {
        uint n;
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            // Sum the lengths before the enqueue: once in the ring, a packet belongs to the consumer, which may
            // already be rewriting it. The ones left behind are still ours to read.
            Mbuf** mbufs = (Mbuf**)p;
            uint length = (uint)packets.Length;
            for (uint i = 0; i < length; i++)
                bytes += mbufs[i]->PktLen;
            n = ring.Enqueue(p, length, burst: true);
            for (uint i = n; i < length; i++)
                bytes -= mbufs[i]->PktLen;
        }
        Counters.Packets += n;
        Counters.Bytes += bytes;
        return (int)n;
    }
}
