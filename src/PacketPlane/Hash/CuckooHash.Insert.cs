using System.Threading;

namespace PacketPlane.Hash;

// The writer side: insert with cuckoo displacement, delete. One writer at a time. Publication order, for
// lock-free readers: a key's bytes and value are written before its index is stored in a bucket (release), and
// before an entry is overwritten by a move, the key it held has already been copied to its other bucket and the
// change counter bumped, so a reader that misses it sees the counter change and searches again.
public sealed unsafe partial class CuckooHash<TKey, TValue>
{
    /// <summary>BFS queue length, as RTE_HASH_BFS_QUEUE_MAX_LEN: about 1000 buckets searched, paths of 3-4 moves.</summary>
    private const int BfsQueueLength = 1000;

    private readonly BfsNode[] _bfsQueue;

    private HashAddStatus Insert(in TKey key, uint hash, in TValue value, out int position)
    {
        ushort signature = (ushort)(hash >> 16);
        uint primary = hash & _bucketMask;
        uint secondary = AlternativeBucket(primary, signature);

        position = SearchBucket(primary, signature, key);
        if (position < 0)
            position = SearchBucket(secondary, signature, key);
        if (position >= 0)
        {
            // A whole-value store; a reader sees the old or the new value if TValue is at most 8 bytes.
            *ValueAt((uint)position + 1) = value;
            return HashAddStatus.Updated;
        }
        if (_freeCount == 0)
            return HashAddStatus.NoSpace;

        uint slot = _freeSlots[--_freeCount];
        *ValueAt(slot) = value;
        *KeyAt(slot) = key;
        if (TryPlace(primary, signature, slot) || MakeSpace(primary, signature, slot) || MakeSpace(secondary, signature, slot))
        {
            _slotState[slot] = SlotState.Live;
            Volatile.Write(ref _count, _count + 1); // single writer; pairs with Volatile.Read in Count
            position = (int)slot - 1;
            return HashAddStatus.Added;
        }
        _freeSlots[_freeCount++] = slot;
        return HashAddStatus.NoSpace;
    }

    /// <summary>Puts the key in an empty entry of the bucket, if it has one.</summary>
    private bool TryPlace(uint bucketIndex, ushort signature, uint slot)
    {
        CuckooBucket* bucket = _buckets + bucketIndex;
        for (int i = 0; i < CuckooBucket.Entries; i++)
        {
            if (bucket->KeyIndexes[i] == 0)
            {
                bucket->Signatures[i] = signature;
                // Release: signature, key and value are visible before the index; pairs with FindKey's acquire.
                Volatile.Write(ref bucket->KeyIndexes[i], slot);
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Breadth-first search from <paramref name="root"/> for the nearest bucket with an empty entry, where each
    /// step follows an entry to its alternative bucket (rte_hash_cuckoo_make_space_mw); then shifts the keys along
    /// that path one place, freeing an entry in <paramref name="root"/> for the new key.
    /// </summary>
    private bool MakeSpace(uint root, ushort signature, uint slot)
    {
        BfsNode[] queue = _bfsQueue;
        queue[0] = new BfsNode(root, -1, -1);
        int head = 0, tail = 1;
        while (head < tail && tail <= BfsQueueLength - CuckooBucket.Entries)
        {
            uint bucketIndex = queue[head].Bucket;
            CuckooBucket* bucket = _buckets + bucketIndex;
            for (int i = 0; i < CuckooBucket.Entries; i++)
            {
                if (bucket->KeyIndexes[i] == 0)
                {
                    MoveAlongPath(head, i, signature, slot);
                    return true;
                }
                queue[tail++] = new BfsNode(AlternativeBucket(bucketIndex, bucket->Signatures[i]), head, i);
            }
            head++;
        }
        return false;
    }

    /// <summary>From the empty entry back to the root, copies each parent entry into its child's place, then stores the new key at the root.</summary>
    private void MoveAlongPath(int node, int entry, ushort signature, uint slot)
    {
        BfsNode[] queue = _bfsQueue;
        CuckooBucket* to = _buckets + queue[node].Bucket;
        while (queue[node].Parent >= 0)
        {
            int parent = queue[node].Parent;
            int parentEntry = queue[node].ParentEntry;
            CuckooBucket* from = _buckets + queue[parent].Bucket;
            // Copy: the key is now in both of its buckets, so no reader can miss it ...
            to->Signatures[entry] = from->Signatures[parentEntry];
            Volatile.Write(ref to->KeyIndexes[entry], from->KeyIndexes[parentEntry]); // pairs with FindKey's acquire
            // ... and before its old entry is overwritten, readers are told something moved.
            BumpChangeCount();
            Displacements++;
            to = from;
            entry = parentEntry;
            node = parent;
        }
        to->Signatures[entry] = signature;
        Volatile.Write(ref to->KeyIndexes[entry], slot); // pairs with FindKey's acquire
    }

    private void BumpChangeCount()
    {
        if (!_lockFree)
            return;
        // One writer, so a plain read of the counter is current. Release: the copy above is visible first;
        // pairs with the acquire loads in LookupLockFree and LookupBulkCore.
        Volatile.Write(ref *_changeCount, *_changeCount + 1);
        // The overwrite that follows must not become visible before the new count (rte_hash's release fence).
        Volatile.WriteBarrier();
    }

    private bool Delete(in TKey key, uint hash, out int position)
    {
        ushort signature = (ushort)(hash >> 16);
        uint primary = hash & _bucketMask;
        if (RemoveFrom(primary, signature, key, out position) || RemoveFrom(AlternativeBucket(primary, signature), signature, key, out position))
        {
            uint slot = (uint)position + 1;
            if (_lockFree)
            {
                // A reader may still be comparing this key or reading its value: the slot waits for FreePosition.
                _slotState[slot] = SlotState.Removed;
            }
            else
            {
                _slotState[slot] = SlotState.Free;
                _freeSlots[_freeCount++] = slot;
            }
            Volatile.Write(ref _count, _count - 1); // single writer; pairs with Volatile.Read in Count
            return true;
        }
        return false;
    }

    private bool RemoveFrom(uint bucketIndex, ushort signature, in TKey key, out int position)
    {
        CuckooBucket* bucket = _buckets + bucketIndex;
        position = FindKey(bucket, MatchSignatures(bucket, signature), key);
        if (position < 0)
            return false;
        for (int i = 0; i < CuckooBucket.Entries; i++)
        {
            if (bucket->KeyIndexes[i] == (uint)position + 1)
            {
                bucket->Signatures[i] = 0;
                Volatile.Write(ref bucket->KeyIndexes[i], 0); // pairs with FindKey's acquire
                break;
            }
        }
        return true;
    }

    /// <summary>A bucket reached by the search, and the entry of the parent bucket that leads to it.</summary>
    private readonly struct BfsNode(uint bucket, int parent, int parentEntry)
    {
        public uint Bucket { get; } = bucket;

        public int Parent { get; } = parent;

        public int ParentEntry { get; } = parentEntry;
    }
}
