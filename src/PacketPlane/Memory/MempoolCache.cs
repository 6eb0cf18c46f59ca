using System;
using System.Runtime.CompilerServices;

namespace PacketPlane.Memory;

/// <summary>
/// One lcore's private stack of free objects in front of a pool's shared ring, with DPDK's semantics
/// (rte_mempool_cache): gets are served from the top of the stack and refill it from the ring; puts
/// push onto it and, once it holds 1.5 times its size, the excess above <see cref="Size"/> goes back to
/// the ring. Touched only by its own lcore, so it needs no atomics.
/// </summary>
internal sealed unsafe class MempoolCache
{
    private readonly nint[] _storage;

    /// <param name="size">Target fill level.</param>
    /// <param name="lcoreId">The lcore that owns it.</param>
    /// <param name="checkedPool">The pool checks every object (debug mode), so no get or put may take the unchecked path.</param>
    public MempoolCache(int size, int lcoreId, bool checkedPool)
    {
        LcoreId = lcoreId;
        Size = (uint)size;
        FlushThreshold = (uint)(size * 3 / 2);
        UncheckedGetLimit = checkedPool ? 0 : Size;
        UncheckedPutLimit = checkedPool ? 0 : FlushThreshold;
        // Largest fill: just below FlushThreshold, plus a put of up to FlushThreshold objects.
        _storage = GC.AllocateArray<nint>(size * 3 + 1, pinned: true);
        Objects = (nint*)Unsafe.AsPointer(ref _storage[0]);
    }

    /// <summary>The only lcore that may touch this cache.</summary>
    public readonly int LcoreId;

    /// <summary>Target fill level.</summary>
    public readonly uint Size;

    /// <summary>Fill level at which a put flushes the excess to the ring (1.5 x Size).</summary>
    public readonly uint FlushThreshold;

    /// <summary>
    /// Gets of fewer objects than this may be served straight from the stack, with no further check; 0 on a debug
    /// pool. One compare then covers both "small enough for the cache" and "no debug bookkeeping".
    /// </summary>
    public readonly uint UncheckedGetLimit;

    /// <summary>Puts of at most this many objects may go straight onto the stack; 0 on a debug pool (see <see cref="UncheckedGetLimit"/>).</summary>
    public readonly uint UncheckedPutLimit;

    /// <summary>Object stack; [0, Length) are free objects, the top is Length - 1.</summary>
    public readonly nint* Objects;

    /// <summary>Objects currently cached. Written only by the owning lcore; read racily by counters.</summary>
    public uint Length;
}
