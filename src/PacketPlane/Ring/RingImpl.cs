using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Internal;

namespace PacketPlane.Ring;

/// <summary>Compile-time choice of single- or multi-threaded access for one side of a ring.</summary>
internal interface ISyncMode
{
    static abstract bool IsMulti { get; }
}

/// <summary>One thread only: plain head update, no compare-and-swap, no waiting for other threads.</summary>
internal readonly struct SingleThread : ISyncMode
{
    public static bool IsMulti => false;
}

/// <summary>Many threads: head reserved by compare-and-swap, tail published in reservation order.</summary>
internal readonly struct MultiThread : ISyncMode
{
    public static bool IsMulti => true;
}

/// <summary>
/// The ring algorithm of DPDK's rte_ring (head/tail pairs), specialised by the JIT for each producer/consumer
/// mode: <typeparamref name="TProd"/>.IsMulti is a constant, so the single-thread paths carry no atomics.
/// </summary>
internal sealed unsafe class RingImpl<T, TProd, TCons> : Ring<T>
    where T : unmanaged
    where TProd : struct, ISyncMode
    where TCons : struct, ISyncMode
{
    public RingImpl(string name, uint slotCount, uint capacity, RingFlags flags)
        : base(name, slotCount, capacity, flags)
    {
    }

    public override int EnqueueBulk(ReadOnlySpan<T> items) =>
        (int)Enqueue(ref MemoryMarshal.GetReference(items), (uint)items.Length, burst: false);

    public override int EnqueueBurst(ReadOnlySpan<T> items) =>
        (int)Enqueue(ref MemoryMarshal.GetReference(items), (uint)items.Length, burst: true);

    public override int DequeueBulk(Span<T> items) =>
        TooFewReady((uint)items.Length) ? 0 : (int)Dequeue(ref MemoryMarshal.GetReference(items), (uint)items.Length, burst: false);

    public override int DequeueBurst(Span<T> items) =>
        TooFewReady(1) ? 0 : (int)Dequeue(ref MemoryMarshal.GetReference(items), (uint)items.Length, burst: true);

    /// <summary>
    /// Fewer than <paramref name="n"/> elements published and not yet claimed: the dequeue would take nothing. A
    /// poll of an empty ring through the span methods (a pipeline stage waiting for work) answers here, before the
    /// reservation: ring_perf's empty bulk dequeue 5.2 to 1.2 cycles. The pointer and reference forms (the
    /// mempool, the ring PMD's receive queue) do not check first. The reads come in the dequeue's order, consumer
    /// head then producer tail (acquire), so the count can only be too high, never too low: when it says too few,
    /// there were too few at the moment the tail was read. n = 0 never answers true.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TooFewReady(uint n)
    {
        uint head = Volatile.Read(ref _headTail->ConsHead);
        return Volatile.Read(ref _headTail->ProdTail) - head < n;
    }

    internal override uint Enqueue(ref T items, uint n, bool burst)
    {
        uint head = ReserveProducer(ref n, burst);
        if (n == 0)
            return 0;
        CopyIn(head, ref items, n);
        PublishProducer(head, head + n);
        return n;
    }

    internal override uint Dequeue(ref T items, uint n, bool burst)
    {
        uint head = ReserveConsumer(ref n, burst);
        if (n == 0)
            return 0;
        CopyOut(head, ref items, n);
        PublishConsumer(head, head + n);
        return n;
    }

    // One element (rte_ring_enqueue/dequeue): the reservation inlines with n the constant 1, so its count
    // arithmetic folds away, and a single element never wraps, so it is one slot access instead of the bulk path's
    // copy loop, ordered by the same acquire and release. Inlined at the caller, the element goes from the caller's
    // variable to the slot directly. Called virtually, a 16-byte element arrives in two registers that the JIT
    // stores as two halves and the slot copy reloads as one 16-byte load, a store-forwarding stall of about 4
    // cycles per enqueue plus dequeue (ring_perf's shared-loop run, 20 cycles against 16).

    public override bool TryEnqueue(T item)
    {
        uint n = 1;
        uint head = ReserveProducer(ref n, burst: false);
        if (n == 0)
            return false;
        _slots[head & _mask] = item;
        PublishProducer(head, head + 1);
        return true;
    }

    public override bool TryDequeue(out T item)
    {
        uint n = 1;
        uint head = ReserveConsumer(ref n, burst: false);
        if (n == 0)
        {
            item = default;
            return false;
        }
        item = _slots[head & _mask];
        PublishConsumer(head, head + 1);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReserveProducer(ref uint n, bool burst)
    {
        RingHeadTail* ht = _headTail;
        uint requested = n;
        uint head = TProd.IsMulti ? Volatile.Read(ref ht->ProdHead) : ht->ProdHead;
        while (true)
        {
            // Acquire: pairs with the release store of ConsTail in PublishConsumer, so the slots counted
            // free here have really been read out before we overwrite them.
            uint consTail = Volatile.Read(ref ht->ConsTail);
            uint free = _capacity + consTail - head;
            n = requested <= free ? requested : burst ? free : 0;
            if (n == 0)
                return head;
            uint next = head + n;
            if (!TProd.IsMulti)
            {
                ht->ProdHead = next;
                return head;
            }
            // Reserves [head, next) against other producers; full fence, so the ConsTail read above
            // cannot be reordered after it.
            uint seen = CompareExchangeHead(ref ht->ProdHead, next, n);
            if (seen == head)
                return head;
            head = seen;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishProducer(uint head, uint next)
    {
        RingHeadTail* ht = _headTail;
        if (TProd.IsMulti)
        {
            // Producers that reserved earlier slots must publish first: the tail only ever moves over
            // slots that are fully written.
            while (Volatile.Read(ref ht->ProdTail) != head)
                CpuPause.Pause();
        }
        // Release: publishes the slots written by CopyIn; pairs with the acquire load of ProdTail in
        // ReserveConsumer.
        Volatile.Write(ref ht->ProdTail, next);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReserveConsumer(ref uint n, bool burst)
    {
        RingHeadTail* ht = _headTail;
        uint requested = n;
        uint head = TCons.IsMulti ? Volatile.Read(ref ht->ConsHead) : ht->ConsHead;
        while (true)
        {
            // Acquire: pairs with the release store of ProdTail in PublishProducer, so the slots read
            // below hold the producer's values.
            uint prodTail = Volatile.Read(ref ht->ProdTail);
            uint entries = prodTail - head;
            n = requested <= entries ? requested : burst ? entries : 0;
            if (n == 0)
                return head;
            uint next = head + n;
            if (!TCons.IsMulti)
            {
                ht->ConsHead = next;
                return head;
            }
            uint seen = CompareExchangeHead(ref ht->ConsHead, next, n);
            if (seen == head)
                return head;
            head = seen;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishConsumer(uint head, uint next)
    {
        RingHeadTail* ht = _headTail;
        if (TCons.IsMulti)
        {
            while (Volatile.Read(ref ht->ConsTail) != head)
                CpuPause.Pause();
        }
        // Release: the slots were read before this store; pairs with the acquire load of ConsTail in
        // ReserveProducer, which may then overwrite them.
        Volatile.Write(ref ht->ConsTail, next);
    }

    /// <summary>
    /// Moves a head from <c>next - n</c> to <paramref name="next"/> if no other thread moved it first; returns the
    /// head it found. The expected value is passed as <c>next - n</c> rather than as the caller's head variable on
    /// purpose: given that variable, which the caller still needs afterwards, the JIT kept it in a stack slot across
    /// the locked instruction, a store right before it and a reload after it on every call. That cost about 3 cycles
    /// per single-object enqueue plus dequeue (ring_perf MP/MC single, and a cacheless mempool get and put).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint CompareExchangeHead(ref uint head, uint next, uint n) =>
        Interlocked.CompareExchange(ref head, next, next - n);
}
