using System.Runtime.CompilerServices;

namespace PacketPlane.Memory;

public sealed unsafe partial class MbufPool
{
    private const int FreeBatch = 64;

    /// <summary>
    /// Frees <paramref name="n"/> packets (whole chains, refcount-aware), returning consecutive buffers of the
    /// same pool in one bulk put, as rte_pktmbuf_free_bulk does. Null entries are skipped. For TX completion.
    /// </summary>
    internal static void FreeBulkRaw(Mbuf** packets, uint n)
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
