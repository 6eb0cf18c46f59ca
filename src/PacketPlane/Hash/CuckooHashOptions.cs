namespace PacketPlane.Hash;

/// <summary>The function a <see cref="CuckooHash{TKey, TValue}"/> hashes keys with.</summary>
public enum HashFunction
{
    /// <summary>CRC-32C over the key bytes (<see cref="Crc32c.Append(uint, System.ReadOnlySpan{byte})"/>, DPDK's rte_hash_crc); hardware-accelerated, the default.</summary>
    Crc32c,

    /// <summary>Bob Jenkins' lookup3 (<see cref="Jhash"/>, DPDK's rte_jhash, the default of DPDK's hash_perf_autotest).</summary>
    Jhash,
}

/// <summary>What an add did (DPDK returns the position or -ENOSPC).</summary>
public enum HashAddStatus
{
    /// <summary>The key was new and is now stored.</summary>
    Added,

    /// <summary>The key was present; its value was replaced.</summary>
    Updated,

    /// <summary>
    /// Not stored: every key slot is taken, or both of the key's buckets are full and no chain of moves frees a
    /// place. The table is unchanged.
    /// </summary>
    NoSpace,
}

/// <summary>Settings of a <see cref="CuckooHash{TKey, TValue}"/> (DPDK's <c>struct rte_hash_parameters</c>).</summary>
public sealed record CuckooHashOptions
{
    /// <summary>Most keys the table holds (at least 8). Buckets are sized to the next power of two.</summary>
    public int Entries { get; init; } = 1024;

    /// <summary>Hash function for keys.</summary>
    public HashFunction HashFunction { get; init; } = HashFunction.Crc32c;

    /// <summary>Initial value for the hash function (<c>hash_func_init_val</c>).</summary>
    public uint HashSeed { get; init; }

    /// <summary>
    /// One writer thread may add and remove while other threads look up, without locks
    /// (<c>RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF</c>): readers never block, and a key moved by a cuckoo
    /// displacement is never missed. As in DPDK, a removed key's slot is then not reused until
    /// <see cref="CuckooHash{TKey, TValue}.FreePosition"/> is called, after every reader has finished the lookups
    /// that started before the removal.
    /// </summary>
    public bool LockFreeReaders { get; init; }

    /// <summary>NUMA node for the buckets and key store, or -1 for no preference.</summary>
    public int NumaNode { get; init; } = -1;
}
