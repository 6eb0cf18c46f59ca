using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using PacketPlane.Internal;

namespace PacketPlane.Hash;

// Bulk lookup in stages, as rte_hash's __bulk_lookup_l/_lf: first hash every key and prefetch both of its
// buckets; then compare signatures for every key (by then the buckets are arriving) and prefetch the first
// candidate's key-store entry; only then compare keys. Each stage works on data the previous one requested, so
// the cache misses of a burst overlap instead of being paid one after another.
public sealed unsafe partial class CuckooHash<TKey, TValue>
{
    /// <summary>Finds a burst of keys (<c>rte_hash_lookup_bulk</c>); any length.</summary>
    /// <param name="keys">Keys to look up.</param>
    /// <param name="positions">Receives each key's position, or -1 when absent.</param>
    /// <returns>How many keys were found.</returns>
    /// <exception cref="ArgumentException"><paramref name="positions"/> is shorter than <paramref name="keys"/>.</exception>
    public int LookupBulk(ReadOnlySpan<TKey> keys, Span<int> positions)
    {
        if (positions.Length < keys.Length)
            ThrowHelper.ThrowArgument(nameof(positions), $"positions holds {positions.Length} results for {keys.Length} keys");
        fixed (TKey* k = keys)
        fixed (int* p = positions)
            return LookupChunks(k, null, keys.Length, p, null);
    }

    /// <summary>Finds a burst of keys with hashes the caller computed (<c>rte_hash_lookup_with_hash_bulk</c>).</summary>
    public int LookupBulk(ReadOnlySpan<TKey> keys, ReadOnlySpan<uint> hashes, Span<int> positions)
    {
        if (positions.Length < keys.Length || hashes.Length < keys.Length)
            ThrowHelper.ThrowArgument(nameof(positions), $"{keys.Length} keys need as many hashes ({hashes.Length}) and positions ({positions.Length})");
        fixed (TKey* k = keys)
        fixed (uint* h = hashes)
        fixed (int* p = positions)
            return LookupChunks(k, h, keys.Length, p, null);
    }

    /// <summary>
    /// Finds up to <see cref="MaxBulk"/> keys and copies their values (<c>rte_hash_lookup_bulk_data</c>).
    /// </summary>
    /// <returns>A mask with bit i set when key i was found (values of absent keys are left unchanged).</returns>
    /// <exception cref="ArgumentException">More than 64 keys, or <paramref name="values"/> too short.</exception>
    public ulong LookupBulkData(ReadOnlySpan<TKey> keys, Span<TValue> values)
    {
        if (keys.Length > MaxBulk || values.Length < keys.Length)
            ThrowHelper.ThrowArgument(nameof(keys), $"a bulk lookup with values takes at most {MaxBulk} keys and room for each value ({keys.Length} keys, {values.Length} values)");
        int* positions = stackalloc int[MaxBulk];
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
            return LookupBulkCore(k, null, keys.Length, positions, v);
    }

    /// <summary>As <see cref="LookupBulkData(ReadOnlySpan{TKey}, Span{TValue})"/> with hashes the caller computed (<c>rte_hash_lookup_with_hash_bulk_data</c>).</summary>
    public ulong LookupBulkData(ReadOnlySpan<TKey> keys, ReadOnlySpan<uint> hashes, Span<TValue> values)
    {
        if (keys.Length > MaxBulk || values.Length < keys.Length || hashes.Length < keys.Length)
            ThrowHelper.ThrowArgument(nameof(keys), $"a bulk lookup with values takes at most {MaxBulk} keys, with as many hashes and values");
        int* positions = stackalloc int[MaxBulk];
        fixed (TKey* k = keys)
        fixed (uint* h = hashes)
        fixed (TValue* v = values)
            return LookupBulkCore(k, h, keys.Length, positions, v);
    }

    private int LookupChunks(TKey* keys, uint* hashes, int n, int* positions, TValue* values)
    {
        int hits = 0;
        for (int done = 0; done < n; done += MaxBulk)
        {
            int chunk = Math.Min(MaxBulk, n - done);
            hits += BitOperations.PopCount(LookupBulkCore(keys + done, hashes == null ? null : hashes + done, chunk, positions + done, values));
        }
        return hits;
    }

    /// <summary>Up to 64 keys in three stages; returns the hit mask. Writes positions always, values when given.</summary>
    private ulong LookupBulkCore(TKey* keys, uint* hashes, int n, int* positions, TValue* values)
    {
        uint* primary = stackalloc uint[MaxBulk];
        uint* secondary = stackalloc uint[MaxBulk];
        ushort* signatures = stackalloc ushort[MaxBulk];
        uint* primaryHits = stackalloc uint[MaxBulk];
        uint* secondaryHits = stackalloc uint[MaxBulk];

        // Stage 1: hash, locate both buckets, start loading them.
        for (int i = 0; i < n; i++)
        {
            uint hash = hashes == null ? ComputeHash(keys[i]) : hashes[i];
            signatures[i] = (ushort)(hash >> 16);
            primary[i] = hash & _bucketMask;
            secondary[i] = AlternativeBucket(primary[i], signatures[i]);
            CpuPrefetch.Read(_buckets + primary[i]);
            CpuPrefetch.Read(_buckets + secondary[i]);
        }

        // Acquire: the bucket reads of stage 2 stay after this load; pairs with BumpChangeCount's release.
        uint changesBefore = _lockFree ? Volatile.Read(ref *_changeCount) : 0;

        // Stage 2: signature compare (one 128-bit compare per bucket), start loading the first candidate key.
        for (int i = 0; i < n; i++)
        {
            CuckooBucket* p = _buckets + primary[i];
            CuckooBucket* s = _buckets + secondary[i];
            uint ph = MatchSignatures(p, signatures[i]);
            uint sh = MatchSignatures(s, signatures[i]);
            primaryHits[i] = ph;
            secondaryHits[i] = sh;
            if (ph != 0)
                CpuPrefetch.Read(KeyAt(p->KeyIndexes[BitOperations.TrailingZeroCount(ph)]));
            else if (sh != 0)
                CpuPrefetch.Read(KeyAt(s->KeyIndexes[BitOperations.TrailingZeroCount(sh)]));
        }

        // Stage 3: compare keys.
        ulong hitMask = 0;
        for (int i = 0; i < n; i++)
        {
            int position = FindKey(_buckets + primary[i], primaryHits[i], keys[i]);
            if (position < 0)
                position = FindKey(_buckets + secondary[i], secondaryHits[i], keys[i]);
            positions[i] = position;
            hitMask |= (position >= 0 ? 1UL : 0UL) << i;
        }

        if (_lockFree && BitOperations.PopCount(hitMask) != n)
            hitMask = RecheckMisses(keys, primary, signatures, n, positions, hitMask, changesBefore);

        if (values != null)
        {
            for (ulong m = hitMask; m != 0; m &= m - 1)
            {
                int i = BitOperations.TrailingZeroCount(m);
                values[i] = *ValueAt((uint)positions[i] + 1);
            }
        }
        return hitMask;
    }

    /// <summary>If a key moved while the burst was searched, a miss may be false: look those keys up again, one by one, with the retrying lookup.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RecheckMisses(TKey* keys, uint* primary, ushort* signatures, int n, int* positions, ulong hitMask, uint changesBefore)
    {
        // The signature loads of stage 2 complete before the counter is read again (rte_hash's acquire fence).
        Volatile.ReadBarrier();
        if (Volatile.Read(ref *_changeCount) == changesBefore) // pairs with BumpChangeCount's release
            return hitMask;
        for (int i = 0; i < n; i++)
        {
            if ((hitMask & (1UL << i)) != 0)
                continue;
            int position = LookupLockFree(keys[i], signatures[i], primary[i]);
            positions[i] = position;
            hitMask |= (position >= 0 ? 1UL : 0UL) << i;
        }
        return hitMask;
    }
}
