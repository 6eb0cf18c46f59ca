using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Internal;

namespace PacketPlane.Ring;

/// <summary>
/// A fixed-capacity lock-free FIFO of unmanaged values (pointer-sized handles, <see cref="Memory.Packet"/>,
/// or any unmanaged struct), with DPDK's rte_ring semantics. Create one with
/// <see cref="Create(int, RingFlags, string?)"/>; the factory returns a type specialised for the
/// producer and consumer modes, so single-producer or single-consumer rings pay no atomics.
/// </summary>
/// <remarks>
/// <para><c>Bulk</c> operations are all-or-nothing and return the request size or 0; <c>Burst</c> operations
/// move as many as they can and return how many. Neither blocks, allocates or throws.</para>
/// <para>Head and tail indexes are free-running 32-bit counters: they wrap modulo 2^32 and are masked on access,
/// so <c>tail - head</c> is always the right count even across the wrap.</para>
/// </remarks>
/// <typeparam name="T">Element type.</typeparam>
public abstract unsafe class Ring<T> : IDisposable where T : unmanaged
{
    private protected readonly RingHeadTail* _headTail;
    private protected readonly T* _slots;
    private protected readonly uint _mask;
    private protected readonly uint _capacity;
    private int _disposed;

    private protected Ring(string name, uint slotCount, uint capacity, RingFlags flags)
    {
        Name = name;
        Flags = flags;
        _mask = slotCount - 1;
        _capacity = capacity;
        nuint bytes = (nuint)sizeof(RingHeadTail) + (nuint)slotCount * (nuint)sizeof(T);
        _headTail = (RingHeadTail*)NativeMemory.AlignedAlloc(bytes, CacheLine.GuardedSize);
        NativeMemory.Clear(_headTail, (nuint)sizeof(RingHeadTail));
        _slots = (T*)((byte*)_headTail + sizeof(RingHeadTail));
    }

    /// <summary>
    /// Creates a ring. Without <see cref="RingFlags.ExactSize"/>, <paramref name="count"/> must be a power of two
    /// and the ring holds <c>count - 1</c> elements (one slot tells full from empty, as in DPDK); with it, the ring
    /// holds exactly <paramref name="count"/>.
    /// </summary>
    public static Ring<T> Create(int count, RingFlags flags = RingFlags.None, string? name = null)
    {
        const int maxCount = 1 << 30;
        if (count < 1 || count > maxCount)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), $"ring count must be between 1 and {maxCount}, got {count}");
        uint slots;
        uint capacity;
        if ((flags & RingFlags.ExactSize) != 0)
        {
            slots = BitOperations.RoundUpToPowerOf2((uint)count + 1);
            capacity = (uint)count;
        }
        else
        {
            if (!BitOperations.IsPow2(count) || count < 2)
                ThrowHelper.ThrowArgument(nameof(count), $"ring count {count} is not a power of two of at least 2; use a power of two, or RingFlags.ExactSize for any count");
            slots = (uint)count;
            capacity = (uint)count - 1;
        }
        name ??= "ring";
        bool sp = (flags & RingFlags.SingleProducer) != 0;
        bool sc = (flags & RingFlags.SingleConsumer) != 0;
        return (sp, sc) switch
        {
            (true, true) => new RingImpl<T, SingleThread, SingleThread>(name, slots, capacity, flags),
            (true, false) => new RingImpl<T, SingleThread, MultiThread>(name, slots, capacity, flags),
            (false, true) => new RingImpl<T, MultiThread, SingleThread>(name, slots, capacity, flags),
            _ => new RingImpl<T, MultiThread, MultiThread>(name, slots, capacity, flags),
        };
    }

    /// <summary>Name given at creation.</summary>
    public string Name { get; }

    /// <summary>Flags given at creation.</summary>
    public RingFlags Flags { get; }

    /// <summary>How many elements the ring can hold.</summary>
    public int Capacity => (int)_capacity;

    /// <summary>
    /// Elements currently in the ring. Exact when no enqueue or dequeue is in flight; otherwise a snapshot.
    /// </summary>
    public int Count
    {
        get
        {
            // Read consumer tail first: the difference can then only be over-estimated by concurrent
            // enqueues, never negative.
            uint consTail = Volatile.Read(ref _headTail->ConsTail);
            uint prodTail = Volatile.Read(ref _headTail->ProdTail);
            uint count = prodTail - consTail;
            return (int)Math.Min(count, _capacity);
        }
    }

    /// <summary>Free slots.</summary>
    public int FreeCount => Capacity - Count;

    /// <summary>True when nothing can be dequeued right now (no element is consumed to find out).</summary>
    public bool IsEmpty => Volatile.Read(ref _headTail->ProdTail) == Volatile.Read(ref _headTail->ConsTail);

    /// <summary>True when nothing can be enqueued right now.</summary>
    public bool IsFull => Count == Capacity;

    // The six public moves are abstract, implemented by the sealed RingImpl for each producer/consumer mode, so
    // the virtual call is made at the caller's own call site. The JIT profiles the ring class each call site sees
    // and inlines that class's code behind a type check (guarded devirtualisation). As non-virtual wrappers around
    // an internal virtual call, they had one call site inside the wrapper shared by every ring of the element type
    // in the process, so with an SP/SC and an MP/MC ring alive one of them always paid the virtual call (ring_perf,
    // one lcore, same run: SP/SC single enqueue plus dequeue 8.0 to 4.4 cycles for pointers, 19.8 to 13.1 for
    // 16-byte elements; SP/SC bulk of 32 21.4 to 18.5). The cost: a method the JIT compiles without a profile (one
    // with stackalloc, or marked AggressiveOptimization) makes every ring call a plain virtual call, and an empty
    // poll there no longer gets RingImpl.TooFewReady's answer inline (4.4 cycles instead of 1.3).

    /// <summary>Enqueues all of <paramref name="items"/> or none; returns items.Length or 0.</summary>
    public abstract int EnqueueBulk(ReadOnlySpan<T> items);

    /// <summary>Enqueues as many of <paramref name="items"/> as fit, in order; returns how many.</summary>
    public abstract int EnqueueBurst(ReadOnlySpan<T> items);

    /// <summary>Fills all of <paramref name="items"/> or nothing; returns items.Length or 0.</summary>
    public abstract int DequeueBulk(Span<T> items);

    /// <summary>Dequeues up to items.Length elements into <paramref name="items"/>; returns how many.</summary>
    public abstract int DequeueBurst(Span<T> items);

    /// <summary>Enqueues one element; false when the ring is full.</summary>
    public abstract bool TryEnqueue(T item);

    /// <summary>Dequeues one element; false when the ring is empty.</summary>
    public abstract bool TryDequeue(out T item);

    /// <summary>Pointer form of enqueue used by pools and drivers; bulk when <paramref name="burst"/> is false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint Enqueue(T* items, uint n, bool burst) => Enqueue(ref *items, n, burst);

    /// <summary>Pointer form of dequeue used by pools and drivers; bulk when <paramref name="burst"/> is false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint Dequeue(T* items, uint n, bool burst) => Dequeue(ref *items, n, burst);

    /// <summary>
    /// Enqueue from a managed reference to the first of <paramref name="n"/> elements, what the span forms pass: no
    /// <c>fixed</c>, whose pinned local is a store on the stack that the multi-producer compare-and-swap then
    /// waits for (a cacheless mempool get and put paid several cycles for it).
    /// </summary>
    internal abstract uint Enqueue(ref T items, uint n, bool burst);

    /// <summary>Dequeue into a managed reference to the first of <paramref name="n"/> elements; see <see cref="Enqueue(ref T, uint, bool)"/>.</summary>
    internal abstract uint Dequeue(ref T items, uint n, bool burst);

    /// <summary>Frees the ring's memory. Idempotent; the ring must no longer be in use.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        NativeMemory.AlignedFree(_headTail);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees native memory if the ring was never disposed.</summary>
    ~Ring()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            NativeMemory.AlignedFree(_headTail);
    }

    /// <summary>Copies <paramref name="n"/> elements into the slots starting at free-running index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void CopyIn(uint index, ref T src, uint n)
    {
        uint start = index & _mask;
        uint first = Math.Min(n, _mask + 1 - start);
        CopyElements(ref _slots[start], ref src, first);
        if (first < n)
            CopyElements(ref *_slots, ref Unsafe.Add(ref src, first), n - first);
    }

    /// <summary>Copies <paramref name="n"/> elements out of the slots starting at free-running index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void CopyOut(uint index, ref T dst, uint n)
    {
        uint start = index & _mask;
        uint first = Math.Min(n, _mask + 1 - start);
        CopyElements(ref dst, ref _slots[start], first);
        if (first < n)
            CopyElements(ref Unsafe.Add(ref dst, first), ref *_slots, n - first);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyElements(ref T dst, ref T src, uint n) =>
        BulkCopy.Forward(ref Unsafe.As<T, byte>(ref dst), ref Unsafe.As<T, byte>(ref src), (nuint)n * (nuint)sizeof(T));
}

/// <summary>
/// Producer and consumer indexes, each pair on its own guarded cache-line pair so the producer core and the
/// consumer core never write the same line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3 * CacheLine.GuardedSize)]
internal struct RingHeadTail
{
    [FieldOffset(CacheLine.GuardedSize)] public uint ProdHead;
    [FieldOffset(CacheLine.GuardedSize + 4)] public uint ProdTail;
    [FieldOffset(2 * CacheLine.GuardedSize)] public uint ConsHead;
    [FieldOffset(2 * CacheLine.GuardedSize + 4)] public uint ConsTail;
}
