namespace PacketPlane.Memory;

/// <summary>
/// One lcore's cache of one <see cref="MbufPool"/>, looked up once with <see cref="MbufPool.GetLcoreCache"/> and
/// then passed to the pool's bulk calls in a loop, as DPDK code passes the result of rte_mempool_default_cache to
/// rte_mempool_generic_get and _put. The calls without it find the calling lcore's cache every time: a
/// thread-static read, which .NET on Linux compiles to a call into the C library (__tls_get_addr). At bulks of one
/// to four objects that lookup was the largest part of a get and put.
/// </summary>
/// <remarks>
/// Only the lcore that looked it up may use it, because a cache has no atomics; a pool created with
/// <see cref="MbufPoolOptions.Debug"/> checks that. The default value means "no cache": the calls go straight to the
/// pool's shared ring, which any thread may do.
/// </remarks>
public readonly struct MbufPoolCache
{
    internal MbufPoolCache(MbufPool pool, MempoolCache? cache)
    {
        Pool = pool;
        Cache = cache;
    }

    // Two references and nothing else: a 16-byte struct travels in two registers (System V), so a caller's loop
    // keeps it there; a third field made it go through the stack on every call. The lcore is in the cache itself.
    internal readonly MbufPool? Pool;
    internal readonly MempoolCache? Cache;

    /// <summary>
    /// True when calls with this value go through a cache; false on a thread that is not an lcore, for a pool
    /// created without caches, and for the default value.
    /// </summary>
    public bool IsCached => Cache is not null;
}
