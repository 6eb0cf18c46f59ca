using System;
using System.Collections.Generic;

namespace PacketPlane.Lpm;

/// <summary>
/// The routes an LPM table holds, by depth then prefix: the source of truth the lookup tables are built from.
/// Deleting a route asks it for the covering shorter route (one dictionary probe per depth), where DPDK scans a
/// sorted array linearly; control path only.
/// </summary>
internal sealed class LpmRuleTable<TPrefix> where TPrefix : struct, IEquatable<TPrefix>
{
    private readonly Dictionary<TPrefix, uint>?[] _byDepth;

    public LpmRuleTable(int maxDepth, int maxRules)
    {
        _byDepth = new Dictionary<TPrefix, uint>?[maxDepth + 1];
        MaxRules = maxRules;
    }

    public int MaxRules { get; }

    public int Count { get; private set; }

    public bool IsFull => Count >= MaxRules;

    public bool TryGet(TPrefix prefix, int depth, out uint nextHop)
    {
        Dictionary<TPrefix, uint>? rules = _byDepth[depth];
        if (rules is not null && rules.TryGetValue(prefix, out nextHop))
            return true;
        nextHop = 0;
        return false;
    }

    /// <summary>Adds or updates; true when the route is new. The caller checks <see cref="IsFull"/> first.</summary>
    public bool Set(TPrefix prefix, int depth, uint nextHop)
    {
        Dictionary<TPrefix, uint> rules = _byDepth[depth] ??= new Dictionary<TPrefix, uint>();
        int before = rules.Count;
        rules[prefix] = nextHop;
        if (rules.Count == before)
            return false;
        Count++;
        return true;
    }

    public bool Remove(TPrefix prefix, int depth)
    {
        Dictionary<TPrefix, uint>? rules = _byDepth[depth];
        if (rules is null || !rules.Remove(prefix))
            return false;
        Count--;
        return true;
    }

    public void Clear()
    {
        Array.Clear(_byDepth);
        Count = 0;
    }

    public IEnumerable<(TPrefix Prefix, int Depth, uint NextHop)> Enumerate()
    {
        for (int depth = 0; depth < _byDepth.Length; depth++)
        {
            if (_byDepth[depth] is not { } rules)
                continue;
            foreach (KeyValuePair<TPrefix, uint> rule in rules)
                yield return (rule.Key, depth, rule.Value);
        }
    }
}
