using System.Runtime.CompilerServices;

namespace PacketPlane.Memory;

public sealed unsafe partial class MbufPool
{
    private const int FreeBatch = 64;

    /// <summary>
    /// Frees <paramref name="n"/> packets (whole chains, refcount-aware), returning consecutive buffers of the
    /// same pool in one bulk put, as rte_pktmbuf_free_bulk does. Null entries are skipped. For TX completion.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FreeBulkRaw(Mbuf** packets, uint n)
    {
        // The common burst: every packet one direct segment owned by us alone, all from one pool. Then the
        // handles themselves are what the pool wants back, and one bulk put does it.
        if (n != 0 && AllSimpleFromOnePool(packets, n))
        {
            MbufPool pool = s_byId[packets[0]->PoolId]!;
            pool.PutBulkRaw(packets, n, pool.CacheFor(Lcore.CurrentId));
            return;
        }
        FreeBulkGeneral(packets, n);
    }

    /// <summary>
    /// True when each packet is what rte_pktmbuf_prefree_seg returns unchanged: reference count 1, no next
    /// segment, not a clone, and all share the first one's pool. Reads only; nothing is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AllSimpleFromOnePool(Mbuf** packets, uint n)
    {
        Mbuf* first = packets[0];
        if (first == null)
            return false;
        ushort poolId = first->PoolId;
        for (uint i = 0; i < n; i++)
        {
            Mbuf* m = packets[i];
            if (m == null || m->RefCnt != 1 || m->Next != null || m->NbSegs != 1
                || (m->OlFlags & OffloadFlags.Indirect) != 0 || m->PoolId != poolId)
                return false;
        }
        return true;
    }

    /// <summary>Any mix of chains, clones, shared references and pools.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeBulkGeneral(Mbuf** packets, uint n)
    {
        Mbuf** pending = stackalloc Mbuf*[FreeBatch];
        uint count = 0;
        ushort poolId = 0;
        int lcore = Lcore.CurrentId;
        for (uint i = 0; i < n; i++)
        {
            for (Mbuf* seg = packets[i]; seg != null;)
            {
                Mbuf* next = seg->Next;
                Mbuf* m = Packet.PrepareSegmentForPool(seg);
                seg = next;
                if (m == null)
                    continue;
                if (count == FreeBatch || (count > 0 && m->PoolId != poolId))
                {
                    Flush(pending, count, poolId, lcore);
                    count = 0;
                }
                poolId = m->PoolId;
                pending[count++] = m;
            }
        }
        if (count > 0)
            Flush(pending, count, poolId, lcore);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Flush(Mbuf** objs, uint n, ushort poolId, int lcore)
    {
        MbufPool pool = s_byId[poolId]!;
        pool.PutBulkRaw(objs, n, pool.CacheFor(lcore));
    }
}
