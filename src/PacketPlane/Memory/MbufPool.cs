using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;
using PacketPlane.Ring;

namespace PacketPlane.Memory;

/// <summary>
/// A pool of packet buffers (DPDK's <c>rte_pktmbuf_pool_create</c>): fixed-size objects carved from one
/// <see cref="MemoryRegion"/>, each a 128-byte <see cref="Mbuf"/> header, an optional private area, then the
/// data buffer (headroom + data room). Free objects sit in a lock-free MP/MC ring, fronted by a cache per lcore.
/// <see cref="Available"/> and <see cref="InUse"/> are always maintained, so a leak is visible.
/// </summary>
public sealed unsafe partial class MbufPool : IDisposable
{
    /// <summary>Default data buffer size: 2048 bytes of data room plus the 128-byte headroom (RTE_MBUF_DEFAULT_BUF_SIZE).</summary>
    public const int DefaultDataRoomSize = 2048 + Mbuf.DefaultHeadroom;

    /// <summary>Default per-lcore cache size (DPDK samples use 256).</summary>
    public const int DefaultCacheSize = 256;

    /// <summary>Largest per-lcore cache (RTE_MEMPOOL_CACHE_MAX_SIZE).</summary>
    public const int MaxCacheSize = 512;

    /// <summary>Port number of an mbuf that has not been received on any port (RTE_MBUF_PORT_INVALID).</summary>
    public const ushort PortInvalid = ushort.MaxValue;

    private const int MaxPools = 4096;
    private const int MaxLcores = 1024;
    private static readonly MbufPool?[] s_byId = new MbufPool?[MaxPools];
    private static readonly object s_registryLock = new();

    // The concrete multi-producer, multi-consumer ring (rte_mempool's default "ring_mp_mc" ops), so the ring's
    // enqueue and dequeue are direct calls the JIT can inline, not virtual ones behind a type check.
    private readonly RingImpl<nint, MultiThread, MultiThread> _ring;
    private readonly MempoolCache?[] _caches = new MempoolCache?[MaxLcores];
    private readonly ILogger _log;
    private readonly byte* _firstObject;
    private int _disposed;

    private MbufPool(string name, int count, int cacheSize, int privSize, int dataRoomSize, MbufPoolOptions options, ushort id)
    {
        Name = name;
        Count = count;
        CacheSize = cacheSize;
        PrivateSize = privSize;
        DataRoomSize = dataRoomSize;
        Headroom = Math.Min(options.Headroom, dataRoomSize);
        Options = options;
        Id = id;
        _log = Log.For("PacketPlane.Memory.MbufPool");

        int natural = Mbuf.Size + privSize + dataRoomSize;
        ElementSize = RoundUp(natural, options.ObjectAlignment);
        long bytes = (long)ElementSize * count;
        Region = Eal.AllocateMemory("mbuf_pool_" + name, bytes, options.NumaNode);
        _firstObject = (byte*)Region.BaseAddress;
        _ring = (RingImpl<nint, MultiThread, MultiThread>)Ring<nint>.Create(count, RingFlags.ExactSize, "mp_" + name);
        if (options.Debug)
            InitDebug(count, options.TrackAllocations);
        InitObjects();
    }

    /// <summary>Pool name.</summary>
    public string Name { get; }

    /// <summary>Small integer stored in every mbuf header to find its pool on free.</summary>
    public ushort Id { get; }

    /// <summary>Objects in the pool.</summary>
    public int Count { get; }

    /// <summary>Per-lcore cache size.</summary>
    public int CacheSize { get; }

    /// <summary>Application private bytes between the header and the buffer.</summary>
    public int PrivateSize { get; }

    /// <summary>Data buffer size (headroom + data room).</summary>
    public int DataRoomSize { get; }

    /// <summary>Headroom in front of data in a freshly allocated mbuf.</summary>
    public int Headroom { get; }

    /// <summary>Distance between objects in bytes.</summary>
    public int ElementSize { get; }

    /// <summary>The memory the objects live in.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Options given at creation.</summary>
    public MbufPoolOptions Options { get; }

    /// <summary>Free objects: those in the shared ring plus those in every lcore's cache.</summary>
    public int Available
    {
        get
        {
            long cached = 0;
            foreach (MempoolCache? cache in _caches)
            {
                if (cache is not null)
                    cached += Volatile.Read(ref cache.Length);
            }
            return (int)Math.Min(Count, _ring.Count + cached);
        }
    }

    /// <summary>Objects allocated and not yet freed.</summary>
    public int InUse => Count - Available;

    /// <summary>Every live pool (for telemetry and leak reports).</summary>
    public static IReadOnlyList<MbufPool> All
    {
        get
        {
            lock (s_registryLock)
                return s_byId.Where(p => p is not null).Select(p => p!).ToArray();
        }
    }

    /// <summary>
    /// Creates a pool as <c>rte_pktmbuf_pool_create(name, n, cache_size, priv_size, data_room_size, socket_id)</c>.
    /// Memory comes from the current <see cref="Eal"/>'s policy (hugepages if free, else 4 KiB pages).
    /// </summary>
    /// <param name="name">Pool name, shown in telemetry and errors.</param>
    /// <param name="count">Number of mbufs. Size it with <see cref="RequiredCount"/>.</param>
    /// <param name="cacheSize">Per-lcore cache, 0 to <see cref="MaxCacheSize"/> and at most count / 1.5.</param>
    /// <param name="privateSize">Application bytes after each header, a multiple of 8.</param>
    /// <param name="dataRoomSize">Buffer bytes including headroom (default 2048 + 128).</param>
    /// <param name="options">Less common settings.</param>
    public static MbufPool Create(string name, int count, int cacheSize = DefaultCacheSize, int privateSize = 0,
        int dataRoomSize = DefaultDataRoomSize, MbufPoolOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new MbufPoolOptions();
        ValidateArguments(name, count, cacheSize, privateSize, dataRoomSize, options);
        ushort id = RegisterId();
        try
        {
            var pool = new MbufPool(name, count, cacheSize, privateSize, dataRoomSize, options, id);
            lock (s_registryLock)
                s_byId[id] = pool;
            Eal.Current?.Own(pool, Eal.TeardownStage.Pools);
            return pool;
        }
        catch
        {
            ReleaseId(id);
            throw;
        }
    }

    /// <summary>
    /// The number of mbufs a forwarding layout needs, by DPDK l3fwd's formula:
    /// <c>max(ports*rxq*rxd + ports*lcores*burst + ports*txq*txd + lcores*cache, 8192)</c>.
    /// </summary>
    public static int RequiredCount(int ports, int rxQueuesPerPort, int rxDescriptors, int txQueuesPerPort,
        int txDescriptors, int lcores, int burst = 32, int cacheSize = DefaultCacheSize)
    {
        long n = (long)ports * rxQueuesPerPort * rxDescriptors
            + (long)ports * lcores * burst
            + (long)ports * txQueuesPerPort * txDescriptors
            + (long)lcores * cacheSize;
        return (int)Math.Min(int.MaxValue, Math.Max(n, 8192));
    }

    /// <summary>Allocates one packet, reset to empty. Returns a null packet (<see cref="Packet.IsNull"/>) when the pool is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Packet Alloc()
    {
        Mbuf* m;
        if (!GetBulkRaw(&m, 1, CacheFor(Lcore.CurrentId)))
            return default;
        ResetForAlloc(m);
        return new Packet(m);
    }

    /// <summary>
    /// Fills all of <paramref name="packets"/> with fresh packets or none of it (rte_pktmbuf_alloc_bulk);
    /// returns packets.Length or 0.
    /// </summary>
    public int AllocBulk(Span<Packet> packets) => GetInto(packets, CacheFor(Lcore.CurrentId)) ? ResetAll(packets) : 0;

    /// <summary>
    /// Takes all of <paramref name="packets"/> from the pool or none, without resetting them (rte_mempool_get_bulk /
    /// rte_mbuf_raw_alloc): each comes back as it was freed, refcount 1, one segment. For code that initialises
    /// every field it uses itself, such as a driver re-arming receive buffers. Returns packets.Length or 0.
    /// </summary>
    public int RawAllocBulk(Span<Packet> packets) => GetInto(packets, CacheFor(Lcore.CurrentId)) ? packets.Length : 0;

    /// <summary>
    /// Returns packets to this pool without any per-packet work (rte_mempool_put_bulk / rte_mbuf_raw_free). Only for
    /// packets of this pool that are single-segment, direct (not clones) and have refcount 1; use
    /// <see cref="Packet.FreeBulk"/> for anything else.
    /// </summary>
    public void RawFreeBulk(ReadOnlySpan<Packet> packets) => PutFrom(packets, CacheFor(Lcore.CurrentId));

    /// <summary>
    /// The calling lcore's cache of this pool, for the overloads that take one (rte_mempool_default_cache). Look it
    /// up once before a loop, on the lcore that runs the loop; see <see cref="MbufPoolCache"/>.
    /// </summary>
    public MbufPoolCache GetLcoreCache()
    {
        return new MbufPoolCache(this, CacheFor(Lcore.CurrentId));
    }

    /// <summary><see cref="AllocBulk(Span{Packet})"/> through <paramref name="cache"/> (from <see cref="GetLcoreCache"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="cache"/> belongs to another pool.</exception>
    public int AllocBulk(Span<Packet> packets, MbufPoolCache cache) =>
        RawAllocBulk(packets, cache) == 0 ? 0 : ResetAll(packets);

    /// <summary><see cref="RawAllocBulk(Span{Packet})"/> through <paramref name="cache"/> (rte_mempool_generic_get).</summary>
    /// <exception cref="ArgumentException"><paramref name="cache"/> belongs to another pool.</exception>
    /// <remarks>
    /// Written for the caller's loop to inline: the common case (this pool's cache holds enough) is three compares
    /// and a copy; everything else, including the checks of <see cref="Use"/>, is behind one call.
    /// </remarks>
    public int RawAllocBulk(Span<Packet> packets, MbufPoolCache cache) =>
        cache.Pool == this && TryPopFromCache(packets, cache.Cache) ? packets.Length : RawAllocChecked(packets, cache.Pool, cache.Cache);

    /// <summary><see cref="RawFreeBulk(ReadOnlySpan{Packet})"/> through <paramref name="cache"/> (rte_mempool_generic_put).</summary>
    /// <exception cref="ArgumentException"><paramref name="cache"/> belongs to another pool.</exception>
    public void RawFreeBulk(ReadOnlySpan<Packet> packets, MbufPoolCache cache)
    {
        if (cache.Pool != this || !TryPushToCache(packets, cache.Cache))
            RawFreeChecked(packets, cache.Pool, cache.Cache);
    }

    // The paths behind the inlined compares. A cacheless pool's get and put take one call to reach the ring; the
    // rest (a refill or flush, a debug pool, another pool's value) take two. The cache travels as its two fields,
    // not the struct, so the caller never has to put the struct in memory.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RawAllocChecked(Span<Packet> packets, MbufPool? owner, MempoolCache? cache) =>
        IsPlainCachelessUse(owner, cache) ? RawAllocFromRing(packets) : RawAllocThroughCache(packets, owner, cache);

    /// <summary>This pool's own cacheless value, on a pool without debug state: the ring alone serves it, unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsPlainCachelessUse(MbufPool? owner, MempoolCache? cache) =>
        cache is null && owner == this && _debugState is null;

    /// <summary>
    /// A cacheless pool's get: straight from the ring into the caller's span, through a reference rather than
    /// <c>fixed</c>. The pinned local was a store on the stack that the ring's compare-and-swap had to wait for.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RawAllocFromRing(Span<Packet> packets) =>
        _ring.Dequeue(ref Unsafe.As<Packet, nint>(ref MemoryMarshal.GetReference(packets)), (uint)packets.Length, burst: false) == (uint)packets.Length
            ? packets.Length
            : 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RawAllocThroughCache(Span<Packet> packets, MbufPool? owner, MempoolCache? cache) =>
        GetIntoPinned(packets, Use(owner, cache)) ? packets.Length : 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RawFreeChecked(ReadOnlySpan<Packet> packets, MbufPool? owner, MempoolCache? cache)
    {
        if (IsPlainCachelessUse(owner, cache))
            RawFreeToRing(packets);
        else
            RawFreeThroughCache(packets, owner, cache);
    }

    /// <summary>A cacheless pool's put, through a reference for the reason <see cref="RawAllocFromRing"/> gives.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RawFreeToRing(ReadOnlySpan<Packet> packets) =>
        _ring.Enqueue(ref Unsafe.As<Packet, nint>(ref MemoryMarshal.GetReference(packets)), (uint)packets.Length, burst: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RawFreeThroughCache(ReadOnlySpan<Packet> packets, MbufPool? owner, MempoolCache? cache) =>
        PutFromPinned(packets, Use(owner, cache));

    /// <summary>Resets each packet as rte_pktmbuf_alloc_bulk does after its get; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ResetAll(Span<Packet> packets)
    {
        foreach (Packet packet in packets)
            ResetForAlloc(packet.M);
        return packets.Length;
    }

    /// <summary><see cref="GetBulkRaw"/> into a caller's span: <see cref="TryPopFromCache"/>, else the full path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GetInto(Span<Packet> packets, MempoolCache? cache) =>
        TryPopFromCache(packets, cache) || GetIntoPinned(packets, cache);

    /// <summary>
    /// The common get: the cache holds enough and the pool keeps no debug state (<see cref="MempoolCache.UncheckedGetLimit"/>
    /// covers both), so the objects come straight off the stack. Copies through a managed reference: the
    /// <c>fixed</c> that the pointer path needs keeps a pinned local on the stack, a store and reload on every call
    /// that showed at one to four packets per call. False, having done nothing, otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryPopFromCache(Span<Packet> packets, MempoolCache? cache)
    {
        uint n = (uint)packets.Length;
        if (cache is null || n >= cache.UncheckedGetLimit || cache.Length < n)
            return false;
        uint length = cache.Length;
        BulkCopy.PopReversed(ref Unsafe.As<Packet, nint>(ref MemoryMarshal.GetReference(packets)), cache.Objects + length, n);
        cache.Length = length - n;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool GetIntoPinned(Span<Packet> packets, MempoolCache? cache)
    {
        fixed (Packet* p = packets)
            return GetBulkRaw((Mbuf**)p, (uint)packets.Length, cache);
    }

    /// <summary><see cref="PutBulkRaw"/> from a caller's span: <see cref="TryPushToCache"/>, else the full path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PutFrom(ReadOnlySpan<Packet> packets, MempoolCache? cache)
    {
        if (!TryPushToCache(packets, cache))
            PutFromPinned(packets, cache);
    }

    /// <summary>
    /// The common put: the pool keeps no debug state and the objects fit under the flush threshold
    /// (<see cref="MempoolCache.UncheckedPutLimit"/>), so they go straight onto the stack, copied through a reference
    /// as in <see cref="TryPopFromCache"/>; a stack that reaches the threshold flushes as <see cref="PutBulkRaw"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPushToCache(ReadOnlySpan<Packet> packets, MempoolCache? cache)
    {
        uint n = (uint)packets.Length;
        if (cache is null || n > cache.UncheckedPutLimit)
            return false;
        uint length = cache.Length;
        BulkCopy.Forward(cache.Objects + length, ref Unsafe.As<Packet, byte>(ref MemoryMarshal.GetReference(packets)), (nuint)n * (nuint)sizeof(nint));
        length += n;
        cache.Length = length;
        if (length >= cache.FlushThreshold)
            FlushCache(cache);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PutFromPinned(ReadOnlySpan<Packet> packets, MempoolCache? cache)
    {
        fixed (Packet* p = packets)
            PutBulkRaw((Mbuf**)p, (uint)packets.Length, cache);
    }

    /// <summary>
    /// The cache inside <paramref name="cache"/>, after the checks that cost nothing on a correct program: it must
    /// be this pool's (a mismatch would mix two pools' objects) and, in debug mode, used on the lcore it belongs to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MempoolCache? Use(MbufPool? owner, MempoolCache? cache)
    {
        if (owner != this && owner is not null)
            ReportOtherPoolsCache(owner);
        if (_debugState is not null && cache is not null && cache.LcoreId != Lcore.CurrentId)
            ReportForeignCache(cache.LcoreId);
        return cache;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportOtherPoolsCache(MbufPool owner) =>
        ThrowHelper.ThrowArgument("cache", $"the cache belongs to pool '{owner.Name}', not '{Name}'; look it up with this pool's GetLcoreCache()");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportForeignCache(int owner) =>
        throw new InvalidOperationException($"pool '{Name}': lcore {owner}'s cache used on {(Lcore.CurrentId == Lcore.IdAny ? "a thread that is not an lcore" : $"lcore {Lcore.CurrentId}")}; a cache has no atomics, so look it up with GetLcoreCache() on the lcore that uses it");

    /// <summary>Gets <paramref name="n"/> raw objects (not reset) or none. For drivers that re-arm buffers themselves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool GetBulkRaw(Mbuf** objs, uint n, MempoolCache? cache)
    {
        if (cache is null || n >= cache.Size)
            return GetFromRing(objs, n);
        if (cache.Length < n && !RefillCache(cache, n))
            return GetFromRing(objs, n);
        // Take from the top of the stack: the most recently freed buffers are the likeliest to be cached.
        BulkCopy.PopReversed((nint*)objs, cache.Objects + cache.Length, n);
        cache.Length -= n;
        if (_debugState is not null)
            MarkAllocated(objs, n);
        return true;
    }

    /// <summary>Returns <paramref name="n"/> objects whose references have already dropped to zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutBulkRaw(Mbuf** objs, uint n, MempoolCache? cache)
    {
        if (_debugState is not null && !CheckedForDoubleFree(ref objs, ref n))
            return;
        if (cache is null || n > cache.FlushThreshold)
        {
            PutToRing(objs, n);
            return;
        }
        BulkCopy.Forward(cache.Objects + cache.Length, objs, (nuint)n * (nuint)sizeof(nint));
        cache.Length += n;
        if (cache.Length >= cache.FlushThreshold)
            FlushCache(cache);
    }

    /// <summary>The cache of <paramref name="lcoreId"/>, created on first use; null for non-lcore threads or cacheless pools.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal MempoolCache? CacheFor(int lcoreId)
    {
        if ((uint)lcoreId >= MaxLcores || CacheSize == 0)
            return null;
        return _caches[lcoreId] ?? CreateCache(lcoreId);
    }

    /// <summary>The pool that owns <paramref name="m"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static MbufPool FromMbuf(Mbuf* m) => s_byId[m->PoolId]!;

    /// <summary>Puts one object back through the calling lcore's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutOne(Mbuf* m) => PutBulkRaw(&m, 1, CacheFor(Lcore.CurrentId));

    /// <summary>Resets header fields as rte_pktmbuf_reset does, leaving the buffer attached and refcount 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ResetForAlloc(Mbuf* m)
    {
        m->Next = null;
        m->PktLen = 0;
        m->TxOffload = 0;
        m->VlanTci = 0;
        m->VlanTciOuter = 0;
        m->NbSegs = 1;
        m->Port = PortInvalid;
        m->OlFlags = 0;
        m->PacketType = 0;
        m->DataOff = (ushort)Headroom;
        m->DataLen = 0;
    }

    /// <summary>Points an mbuf back at its own buffer (after detaching a clone).</summary>
    internal void RestoreOwnBuffer(Mbuf* m)
    {
        m->BufAddr = (byte*)m + Mbuf.Size + m->PrivSize;
        m->BufIova = Region.Iova((nint)m->BufAddr);
        m->BufLen = (ushort)DataRoomSize;
        m->DataOff = (ushort)Headroom;
        m->DataLen = 0;
        m->OlFlags = 0;
        m->Direct = null;
    }

    private bool GetFromRing(Mbuf** objs, uint n)
    {
        if (_ring.Dequeue((nint*)objs, n, burst: false) != n)
            return false;
        if (_debugState is not null)
            MarkAllocated(objs, n);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RefillCache(MempoolCache cache, uint n)
    {
        // Fill to Size above what this request takes, so the next gets are served from the cache.
        uint wanted = n + (cache.Size - cache.Length);
        if (_ring.Dequeue(cache.Objects + cache.Length, wanted, burst: false) != wanted)
            return false;
        cache.Length += wanted;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FlushCache(MempoolCache cache)
    {
        // Keep the bottom Size objects, return the rest. The ring holds every object, so this cannot fail.
        _ring.Enqueue(cache.Objects + cache.Size, cache.Length - cache.Size, burst: false);
        cache.Length = cache.Size;
    }

    private void PutToRing(Mbuf** objs, uint n) => _ring.Enqueue((nint*)objs, n, burst: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private MempoolCache CreateCache(int lcoreId)
    {
        var cache = new MempoolCache(CacheSize, lcoreId, checkedPool: _debugState is not null);
        // Only the owning lcore creates its cache; the write is published for counter readers.
        Volatile.Write(ref _caches[lcoreId], cache);
        return cache;
    }

    private void InitObjects()
    {
        var all = new nint[Count];
        for (int i = 0; i < Count; i++)
        {
            Mbuf* m = (Mbuf*)(_firstObject + (long)i * ElementSize);
            *m = default;
            m->PrivSize = (ushort)PrivateSize;
            m->PoolId = Id;
            m->RefCnt = 1;
            RestoreOwnBuffer(m);
            ResetForAlloc(m);
            all[i] = (nint)m;
        }
        _ring.EnqueueBulk(all);
    }

    private static void ValidateArguments(string name, int count, int cacheSize, int privSize, int dataRoomSize, MbufPoolOptions options)
    {
        if (count < 1)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), $"pool '{name}' needs at least one mbuf");
        if (cacheSize < 0 || cacheSize > MaxCacheSize)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(cacheSize), $"cache size {cacheSize} for pool '{name}' must be between 0 and {MaxCacheSize}");
        if (cacheSize * 3L > count * 2L)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(cacheSize), $"cache size {cacheSize} for pool '{name}' is more than count/1.5 ({count * 2 / 3}); caches could hold the whole pool. Use a smaller cache or a bigger pool");
        if (privSize < 0 || privSize % 8 != 0 || privSize > ushort.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(privSize), $"private size {privSize} for pool '{name}' must be a non-negative multiple of 8");
        if (dataRoomSize < 0 || dataRoomSize > ushort.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(dataRoomSize), $"data room size {dataRoomSize} for pool '{name}' must be between 0 and 65535 (it includes the headroom)");
        if (options.ObjectAlignment < 8 || (options.ObjectAlignment & (options.ObjectAlignment - 1)) != 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"object alignment {options.ObjectAlignment} for pool '{name}' must be a power of two of at least 8");
        if (options.Headroom < 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"headroom {options.Headroom} for pool '{name}' is negative");
    }

    private static ushort RegisterId()
    {
        lock (s_registryLock)
        {
            for (int id = 1; id < MaxPools; id++)
            {
                if (s_byId[id] is null && !s_idReserved[id])
                {
                    s_idReserved[id] = true;
                    return (ushort)id;
                }
            }
        }
        throw new PacketPlaneException($"too many mbuf pools: at most {MaxPools - 1} can exist at once; dispose pools you no longer use");
    }

    // Ids handed out, including those whose pool is still being built (the constructor may throw).
    private static readonly bool[] s_idReserved = new bool[MaxPools];

    private static void ReleaseId(ushort id)
    {
        lock (s_registryLock)
        {
            s_byId[id] = null;
            s_idReserved[id] = false;
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Frees the pool's memory. When packets are still in use they are reported (with where they were allocated when
    /// tracking is on) and the memory is kept, so that freeing them later (e.g. when the EAL closes the ports that hold
    /// them) is safe; it is released at EAL teardown or process exit. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Eal.Current?.Disown(this);
        int inUse = InUse;
        if (inUse > 0)
        {
            // Mbufs are still out (a port not yet closed, packets an application holds). Unmapping now would turn
            // their later free into a crash, so the pool stays registered and mapped: late frees land safely, and
            // the memory goes with the EAL's teardown (which closes ports first) or with the process.
            ReportLeaks(inUse);
            return;
        }
        ReleaseId(Id);
        _ring.Dispose();
        Eal.Current?.Disown(Region);
        Region.Dispose();
    }

    /// <summary>Pool name and fill, for logs.</summary>
    public override string ToString() => $"MbufPool '{Name}' ({Available}/{Count} available)";

    private void ReportLeaks(int inUse)
    {
        LeakedAtDispose = inUse;
        string sites = _debugState is null ? "" : DescribeLeakSites();
        _log.LogWarning("pool {Name} disposed with {InUse} of {Count} mbufs still in use (leaked, or held by a port that is " +
            "still open: close ports before their pools); its memory is kept so late frees stay safe{Sites}",
            Name, inUse, Count, sites);
    }

    /// <summary>Mbufs still allocated when the pool was disposed (0 when nothing leaked).</summary>
    public int LeakedAtDispose { get; private set; }
}
