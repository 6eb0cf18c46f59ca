using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// User space's view of one AF_XDP ring (RX, TX, FILL or COMPLETION) mapped from the socket. The producer and
/// consumer words are free-running u32 counters; an entry's slot is <c>index &amp; Mask</c>. Each ring has exactly
/// one producer and one consumer, one of them the kernel, so the only ordering needed is the pairing the kernel
/// documents in net/xdp/xsk_queue.h: producer (A) reads the consumer before writing entries, (B) publishes the
/// producer with a store-release; consumer (C) load-acquires the producer before reading entries, (D) publishes
/// the consumer with a store-release. "(A) pairs with (D), and (B) pairs with (C)". As libbpf's xsk.h, the ring
/// caches the other side's counter and rereads it only when the cached value is not enough.
/// </summary>
/// <remarks>A mutable struct held in a field of the one queue object that owns the ring; never copied after setup.</remarks>
internal unsafe struct XskRing
{
    public uint* Producer;
    public uint* Consumer;
    public uint* Flags;
    public byte* Descriptors;
    public uint Mask;
    public uint Size;
    /// <summary>Producer: the next slot we will fill. Consumer: the kernel's producer as last read.</summary>
    public uint CachedProducer;
    /// <summary>Consumer: the next slot we will read. Producer: the kernel's consumer + Size as last read.</summary>
    public uint CachedConsumer;

    /// <summary>A ring over memory the caller provides, for tests and tools (the kernel's rings come from <see cref="XskSocket"/>).</summary>
    internal static XskRing Over(nint producer, nint consumer, nint flags, nint descriptors, uint size) => new()
    {
        Producer = (uint*)producer,
        Consumer = (uint*)consumer,
        Flags = (uint*)flags,
        Descriptors = (byte*)descriptors,
        Size = size,
        Mask = size - 1,
    };

    /// <summary>Reads the address entry at <paramref name="index"/> (control path and tests).</summary>
    internal readonly ulong ReadAddress(uint index) => *Address(index);

    /// <summary>Writes the address entry at <paramref name="index"/> (control path and tests).</summary>
    internal readonly void WriteAddress(uint index, ulong value) => *Address(index) = value;

    /// <summary>The 8-byte address entry at <paramref name="index"/> (FILL, COMPLETION).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong* Address(uint index) => (ulong*)Descriptors + (index & Mask);

    /// <summary>The 16-byte descriptor at <paramref name="index"/> (RX, TX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Xsk.xdp_desc* Descriptor(uint index) => (Xsk.xdp_desc*)Descriptors + (index & Mask);

    /// <summary>Producer side: free slots, rereading the kernel's consumer only when fewer than <paramref name="wanted"/> are known free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FreeSlots(uint wanted)
    {
        uint free = CachedConsumer - CachedProducer;
        if (free >= wanted)
            return free;
        // (A): read the kernel's consumer before overwriting slots it has released; pairs with its (D)
        // store-release in __xskq_cons_release.
        CachedConsumer = Volatile.Read(ref *Consumer) + Size;
        return CachedConsumer - CachedProducer;
    }

    /// <summary>Producer side: makes the entries written since the last submit visible to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Submit() =>
        // (B): store-release of the producer after the entries; pairs with the kernel's (C) load-acquire of the
        // producer in __xskq_cons_peek.
        Volatile.Write(ref *Producer, CachedProducer);

    /// <summary>Consumer side: entries ready, rereading the kernel's producer when fewer than <paramref name="wanted"/> are known.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Available(uint wanted)
    {
        uint entries = CachedProducer - CachedConsumer;
        if (entries >= wanted)
            return entries;
        // (C): load-acquire of the kernel's producer before reading the entries; pairs with its (B) store-release
        // in __xskq_prod_submit.
        CachedProducer = Volatile.Read(ref *Producer);
        return CachedProducer - CachedConsumer;
    }

    /// <summary>Consumer side: hands the slots read so far back to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Release() =>
        // (D): store-release of the consumer after the entries were read; pairs with the kernel's (A) read of the
        // consumer in xskq_prod_nb_free before it reuses the slots.
        Volatile.Write(ref *Consumer, CachedConsumer);

    /// <summary>True when the kernel asked to be woken (XDP_RING_NEED_WAKEUP, with XDP_USE_NEED_WAKEUP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool NeedsWakeup() =>
        // Plain flag word the kernel sets and clears; an acquire read so it is not hoisted out of the poll loop.
        (Volatile.Read(ref *Flags) & Xsk.XDP_RING_NEED_WAKEUP) != 0;

    /// <summary>Producer side: true when the kernel has consumed everything submitted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsDrained() =>
        // (A) read of the kernel's consumer, as in FreeSlots.
        Volatile.Read(ref *Consumer) == CachedProducer;

    /// <summary>
    /// Reloads the cached counters from the shared words, for a new owner taking over a ring that was used before
    /// (a queue set up again on the same socket). Only valid while nobody else produces on our side.
    /// </summary>
    public void Resync(bool weProduce)
    {
        if (weProduce)
        {
            CachedProducer = Volatile.Read(ref *Producer);
            CachedConsumer = Volatile.Read(ref *Consumer) + Size;
        }
        else
        {
            CachedConsumer = Volatile.Read(ref *Consumer);
            CachedProducer = Volatile.Read(ref *Producer);
        }
    }

    /// <summary>Entries between the shared producer and consumer now (for statistics; control path).</summary>
    public readonly uint Occupancy => Volatile.Read(ref *Producer) - Volatile.Read(ref *Consumer);
}
