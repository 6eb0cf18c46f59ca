using System;

namespace PacketPlane.Ring;

/// <summary>
/// Creation flags of a ring, as DPDK's <c>RING_F_SP_ENQ</c>, <c>RING_F_SC_DEQ</c> and <c>RING_F_EXACT_SZ</c>.
/// The default is multi-producer, multi-consumer.
/// </summary>
[Flags]
public enum RingFlags
{
    /// <summary>Multi-producer, multi-consumer; count must be a power of two and capacity is count - 1.</summary>
    None = 0,

    /// <summary>Only one thread ever enqueues (no compare-and-swap on the producer head).</summary>
    SingleProducer = 1,

    /// <summary>Only one thread ever dequeues.</summary>
    SingleConsumer = 2,

    /// <summary>Capacity is exactly the requested count (any count); the slot array is the next power of two above it.</summary>
    ExactSize = 4,
}
