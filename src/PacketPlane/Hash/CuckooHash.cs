using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;

namespace PacketPlane.Hash;

/// <summary>
/// A fixed-capacity hash table of unmanaged keys and values with DPDK's <c>rte_hash</c> design (cuckoo hashing):
/// each key may live in one of two buckets of eight entries, a 16-bit signature per entry filters candidates with
/// one SIMD compare, and an insert that finds both buckets full moves other keys to their alternative bucket along
/// the shortest chain a breadth-first search finds. Buckets and keys live in EAL memory.
/// </summary>
/// <remarks>
/// <para>Every stored key has a <em>position</em> in 0..Capacity-1, stable while the key is present, returned by
/// <see cref="Lookup(in TKey)"/> and usable to index the application's own arrays (DPDK's l3fwd keeps its output
/// ports that way).</para>
/// <para>Lookups (single and bulk) allocate nothing, take no locks and never throw. There is one writer at a
/// time; with <see cref="CuckooHashOptions.LockFreeReaders"/> lookups may run on other threads meanwhile. A value
/// update is seen whole by a concurrent reader only if TValue is at most 8 bytes.</para>
/// <para>Keys are compared as bytes: give TKey no padding holes with undefined content (use explicit layouts
/// such as <see cref="Ipv4FiveTuple"/>).</para>
/// </remarks>
/// <typeparam name="TKey">Fixed-size key; 16 bytes (IPv4 5-tuple), 40 or 48 bytes (IPv6) have the fastest compares.</typeparam>
/// <typeparam name="TValue">Value stored with the key.</typeparam>
public sealed unsafe partial class CuckooHash<TKey, TValue> : IDisposable
    where TKey : unmanaged
    where TValue : unmanaged
{
    /// <summary>Keys in one bulk call that return a hit mask (<c>RTE_HASH_LOOKUP_BULK_MAX</c>).</summary>
    public const int MaxBulk = 64;

    private const int HeaderBytes = CacheLine.GuardedSize;

    private readonly MemoryRegion _region;
    private readonly uint* _changeCount;     // tbl_chng_cnt, alone on its own cache lines
    private readonly CuckooBucket* _buckets;
    private readonly byte* _keyStore;        // entry i at _keyStore + i * _entrySize: [value][key]; entry 0 unused
    private readonly uint _bucketMask;
    private readonly int _entrySize;
    private readonly int _keyOffset;
    private readonly HashFunction _hashFunction;
    private readonly uint _seed;
    private readonly bool _lockFree;
    private readonly uint[] _freeSlots;
    private readonly SlotState[] _slotState;
    private int _freeCount;
    private int _count;
    private int _disposed;

    private CuckooHash(string name, CuckooHashOptions options)
    {
        Name = name;
        Options = options;
        Capacity = options.Entries;
        _hashFunction = options.HashFunction;
        _seed = options.HashSeed;
        _lockFree = options.LockFreeReaders;
        int bucketCount = (int)BitOperations.RoundUpToPowerOf2((uint)options.Entries) / CuckooBucket.Entries;
        _bucketMask = (uint)bucketCount - 1;
        _keyOffset = (sizeof(TValue) + 7) & ~7;
        _entrySize = (_keyOffset + sizeof(TKey) + 15) & ~15;
        long bytes = HeaderBytes + (long)bucketCount * sizeof(CuckooBucket) + (long)(Capacity + 1) * _entrySize;
        _region = Eal.AllocateMemory("hash_" + name, bytes, options.NumaNode);
        _changeCount = (uint*)_region.BaseAddress;
        _buckets = (CuckooBucket*)(_region.BaseAddress + HeaderBytes);
        _keyStore = (byte*)(_buckets + bucketCount);
        _freeSlots = new uint[Capacity];
        _slotState = new SlotState[Capacity + 1];
        _bfsQueue = new BfsNode[BfsQueueLength];
        ResetSlots();
        Log.For("PacketPlane.Hash").LogDebug(
            "hash '{Name}': {Entries} entries of {KeySize}-byte keys, {Buckets} buckets, {Function}{LockFree}, {Pages}, signature compare {Compare}",
            name, Capacity, sizeof(TKey), bucketCount, _hashFunction, _lockFree ? ", lock-free readers" : "",
            _region.IsHugepage ? "hugepages" : "4 KiB pages", Vector128.IsHardwareAccelerated ? "Vector128" : "scalar");
    }

    /// <summary>Creates a table (<c>rte_hash_create</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Entries below 8 or above 2^30.</exception>
    /// <exception cref="MemoryAllocationException">The table could not be mapped.</exception>
    public static CuckooHash<TKey, TValue> Create(string name, CuckooHashOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new CuckooHashOptions();
        if (options.Entries < CuckooBucket.Entries || options.Entries > 1 << 30)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"Entries must be between 8 and 2^30, got {options.Entries}");
        return new CuckooHash<TKey, TValue>(name, options);
    }

    /// <summary>Name given at creation.</summary>
    public string Name { get; }

    /// <summary>Settings given at creation.</summary>
    public CuckooHashOptions Options { get; }

    /// <summary>Most keys the table holds; positions run from 0 to Capacity - 1.</summary>
    public int Capacity { get; }

    /// <summary>Keys stored now (<c>rte_hash_count</c>).</summary>
    public int Count => Volatile.Read(ref _count); // pairs with the writer's Volatile.Write in Insert/Delete

    /// <summary>Buckets (a power of two, each of 8 entries).</summary>
    public int BucketCount => (int)_bucketMask + 1;

    /// <summary>Keys moved to their alternative bucket by inserts so far (how hard the table is working).</summary>
    public long Displacements { get; private set; }

    /// <summary>The hash of a key under this table's function and seed (<c>rte_hash_hash</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ComputeHash(in TKey key)
    {
        ref byte bytes = ref Unsafe.As<TKey, byte>(ref Unsafe.AsRef(in key));
        return _hashFunction == HashFunction.Crc32c
            ? Crc32c.Append(_seed, ref bytes, (nuint)sizeof(TKey))
            : Jhash.Compute(ref bytes, (nuint)sizeof(TKey), _seed);
    }

    /// <summary>Finds a key (<c>rte_hash_lookup</c>).</summary>
    /// <returns>Its position, or -1 when absent.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(in TKey key) => Lookup(key, ComputeHash(key));

    /// <summary>Finds a key whose hash the caller computed (<c>rte_hash_lookup_with_hash</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(in TKey key, uint hash)
    {
        ushort signature = (ushort)(hash >> 16);
        uint primary = hash & _bucketMask;
        if (_lockFree)
            return LookupLockFree(key, signature, primary);
        int position = SearchBucket(primary, signature, key);
        return position >= 0 ? position : SearchBucket(AlternativeBucket(primary, signature), signature, key);
    }

    /// <summary>Finds a key and copies its value (<c>rte_hash_lookup_data</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(in TKey key, out TValue value) => TryGetValue(key, ComputeHash(key), out value);

    /// <summary>Finds a key whose hash the caller computed and copies its value (<c>rte_hash_lookup_with_hash_data</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(in TKey key, uint hash, out TValue value)
    {
        int position = Lookup(key, hash);
        if (position < 0)
        {
            value = default;
            return false;
        }
        value = *ValueAt((uint)position + 1);
        return true;
    }

    /// <summary>Adds a key with its value, or replaces the value of a present key (<c>rte_hash_add_key_data</c>).</summary>
    /// <returns>Added, Updated, or NoSpace (the table is then unchanged).</returns>
    public HashAddStatus AddOrUpdate(in TKey key, in TValue value) => AddOrUpdate(key, ComputeHash(key), value, out _);

    /// <summary>Adds or updates and reports the key's position (<c>rte_hash_add_key</c> returns it).</summary>
    public HashAddStatus AddOrUpdate(in TKey key, in TValue value, out int position) =>
        AddOrUpdate(key, ComputeHash(key), value, out position);

    /// <summary>Adds or updates a key whose hash the caller computed (<c>rte_hash_add_key_with_hash_data</c>).</summary>
    public HashAddStatus AddOrUpdate(in TKey key, uint hash, in TValue value, out int position)
    {
        ThrowIfDisposed();
        return Insert(key, hash, value, out position);
    }

    /// <summary>
    /// Removes a key (<c>rte_hash_del_key</c>). Without lock-free readers its slot is free again at once; with
    /// them, pass the position to <see cref="FreePosition"/> once no reader can still be looking at it.
    /// </summary>
    /// <returns>True and the position the key had, or false when absent.</returns>
    public bool Remove(in TKey key, out int position) => Remove(key, ComputeHash(key), out position);

    /// <summary>Removes a key.</summary>
    public bool Remove(in TKey key) => Remove(key, ComputeHash(key), out _);

    /// <summary>Removes a key whose hash the caller computed (<c>rte_hash_del_key_with_hash</c>).</summary>
    public bool Remove(in TKey key, uint hash, out int position)
    {
        ThrowIfDisposed();
        return Delete(key, hash, out position);
    }

    /// <summary>
    /// Returns a removed key's slot for reuse (<c>rte_hash_free_key_with_position</c>); only with
    /// <see cref="CuckooHashOptions.LockFreeReaders"/>, after every lookup that began before the removal ended.
    /// </summary>
    /// <exception cref="InvalidOperationException">The position is not one removed and still unfreed.</exception>
    public void FreePosition(int position)
    {
        ThrowIfDisposed();
        uint slot = (uint)position + 1;
        if (!_lockFree || (uint)position >= (uint)Capacity || _slotState[slot] != SlotState.Removed)
        {
            ThrowHelper.ThrowInvalidOperation(_lockFree
                ? $"position {position} of '{Name}' is not a removed key awaiting FreePosition"
                : $"'{Name}' frees positions on Remove; FreePosition is only for tables created with LockFreeReaders");
        }
        _slotState[slot] = SlotState.Free;
        _freeSlots[_freeCount++] = slot;
    }

    /// <summary>The key stored at a position (<c>rte_hash_get_key_with_position</c>).</summary>
    /// <returns>False when no key is stored there.</returns>
    public bool TryGetKey(int position, out TKey key)
    {
        if ((uint)position >= (uint)Capacity || _slotState[position + 1] != SlotState.Live)
        {
            key = default;
            return false;
        }
        key = *KeyAt((uint)position + 1);
        return true;
    }

    /// <summary>A reference to the value stored at a live position, for in-place updates by the writer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No key is stored at the position.</exception>
    public ref TValue ValueAt(int position)
    {
        if ((uint)position >= (uint)Capacity || _slotState[position + 1] != SlotState.Live)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(position), $"no key is stored at position {position} of '{Name}'");
        return ref *ValueAt((uint)position + 1);
    }

    /// <summary>Removes every key (<c>rte_hash_reset</c>); not while other threads look up.</summary>
    public void Reset()
    {
        ThrowIfDisposed();
        new Span<byte>(_buckets, BucketCount * sizeof(CuckooBucket)).Clear();
        ResetSlots();
        Volatile.Write(ref *_changeCount, *_changeCount + 1); // pairs with the acquire loads in LookupLockFree
    }

    /// <summary>Iterates over the stored keys (<c>rte_hash_iterate</c>); the table must not change meanwhile.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Frees the table's memory. Idempotent; no thread may use the table afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Eal.Current?.Disown(_region);
        _region.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"CuckooHash '{Name}' ({Count}/{Capacity} keys, {BucketCount} buckets)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint AlternativeBucket(uint bucket, ushort signature) => (bucket ^ signature) & _bucketMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* ValueAt(uint slot) => (TValue*)(_keyStore + (nuint)slot * (nuint)_entrySize);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TKey* KeyAt(uint slot) => (TKey*)(_keyStore + (nuint)slot * (nuint)_entrySize + (nuint)_keyOffset);

    /// <summary>Bit i set when entry i of the bucket carries the signature: one 128-bit compare of all eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint MatchSignatures(CuckooBucket* bucket, ushort signature) =>
        Vector128.IsHardwareAccelerated
            ? Vector128.Equals(Vector128.Load(bucket->Signatures), Vector128.Create(signature)).ExtractMostSignificantBits()
            : MatchSignaturesScalar(bucket, signature);

    /// <summary>The scalar reference the vector compare is tested against, and the path without SIMD.</summary>
    internal static uint MatchSignaturesScalar(CuckooBucket* bucket, ushort signature)
    {
        uint mask = 0;
        for (int i = 0; i < CuckooBucket.Entries; i++)
            mask |= (bucket->Signatures[i] == signature ? 1u : 0u) << i;
        return mask;
    }

    /// <summary>The position of the key among the bucket's entries whose bits are set in <paramref name="candidates"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindKey(CuckooBucket* bucket, uint candidates, in TKey key)
    {
        while (candidates != 0)
        {
            int i = BitOperations.TrailingZeroCount(candidates);
            // Acquire: the key bytes were written before the index was published (release in Insert/MoveAlong).
            uint slot = Volatile.Read(ref bucket->KeyIndexes[i]);
            if (slot != 0 && KeyBytes.Equal(key, (byte*)KeyAt(slot)))
                return (int)slot - 1;
            candidates &= candidates - 1;
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SearchBucket(uint bucketIndex, ushort signature, in TKey key)
    {
        CuckooBucket* bucket = _buckets + bucketIndex;
        return FindKey(bucket, MatchSignatures(bucket, signature), key);
    }

    /// <summary>
    /// rte_hash's lock-free lookup: search both buckets; on a miss, retry if the writer moved any key meanwhile,
    /// because a key in transit may have been looked for in the bucket it just left and then in the one it had
    /// not reached yet.
    /// </summary>
    private int LookupLockFree(in TKey key, ushort signature, uint primary)
    {
        uint secondary = AlternativeBucket(primary, signature);
        while (true)
        {
            // Acquire: the bucket reads below cannot move above this load; pairs with BumpChangeCount's release.
            uint before = Volatile.Read(ref *_changeCount);
            int position = SearchBucket(primary, signature, key);
            if (position >= 0)
                return position;
            position = SearchBucket(secondary, signature, key);
            if (position >= 0)
                return position;
            // The signature loads above must complete before the counter is read again (rte_hash's acquire fence).
            Volatile.ReadBarrier();
            if (Volatile.Read(ref *_changeCount) == before) // pairs with BumpChangeCount's release
                return -1;
        }
    }

    private void ResetSlots()
    {
        for (int i = 0; i < Capacity; i++)
            _freeSlots[i] = (uint)(Capacity - i);   // slot 1 on top, so positions fill from 0 upwards
        _freeCount = Capacity;
        Array.Clear(_slotState);
        _count = 0;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            ThrowHelper.ThrowObjectDisposed(nameof(CuckooHash<TKey, TValue>));
    }

    private enum SlotState : byte
    {
        Free,
        Live,
        Removed,
    }

    /// <summary>A stored key, its value and its position.</summary>
    public readonly struct Entry(int position, TKey key, TValue value)
    {
        /// <summary>The key's position.</summary>
        public int Position { get; } = position;

        /// <summary>The key.</summary>
        public TKey Key { get; } = key;

        /// <summary>Its value.</summary>
        public TValue Value { get; } = value;
    }

    /// <summary>Walks the buckets in order (allocation-free).</summary>
    public struct Enumerator
    {
        private readonly CuckooHash<TKey, TValue> _table;
        private int _next;   // bucket * 8 + entry

        internal Enumerator(CuckooHash<TKey, TValue> table)
        {
            _table = table;
            _next = 0;
            Current = default;
        }

        /// <summary>The current entry.</summary>
        public Entry Current { get; private set; }

        /// <summary>Moves to the next stored key.</summary>
        public bool MoveNext()
        {
            int total = _table.BucketCount * CuckooBucket.Entries;
            while (_next < total)
            {
                int at = _next++;
                uint slot = _table._buckets[at / CuckooBucket.Entries].KeyIndexes[at % CuckooBucket.Entries];
                if (slot != 0)
                {
                    Current = new Entry((int)slot - 1, *_table.KeyAt(slot), *_table.ValueAt(slot));
                    return true;
                }
            }
            return false;
        }
    }
}
