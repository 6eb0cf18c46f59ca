using System;
using System.Threading;

namespace PacketPlane.Lpm;

// Route insertion and removal: control path, single writer. The invariant every step keeps: each tbl24 entry is
// either invalid, a route (the longest route of depth <= 24 covering that /24), or a pointer to a group whose 256
// entries are each invalid or the longest route covering that address. A route's entries carry its depth, so a
// later, shorter route never overwrites a longer one.
public sealed unsafe partial class Lpm4
{
    private LpmAddResult AddRoute(uint prefix, int depth, uint nextHop)
    {
        bool exists = _rules.TryGet(prefix, depth, out _);
        if (!exists)
        {
            if (_rules.IsFull)
            {
                return new LpmAddResult(LpmAddStatus.RuleTableFull,
                    $"table '{Name}' holds {_rules.Count} of {Options.MaxRules} routes; create it with a larger Lpm4Options.MaxRules");
            }
            if (depth > MaxDepthTbl24 && !Lpm4Entry.IsGroup(_tbl24[prefix >> 8]) && _freeGroupCount == 0)
            {
                return new LpmAddResult(LpmAddStatus.GroupsExhausted,
                    $"table '{Name}' uses all {Options.NumberTbl8s} tbl8 groups and /{depth} routes under a new /24 need one; " +
                    "create it with a larger Lpm4Options.NumberTbl8s");
            }
        }
        _rules.Set(prefix, depth, nextHop);
        if (depth <= MaxDepthTbl24)
            WriteShortRoute(prefix, depth, Lpm4Entry.Route(nextHop, depth));
        else
            WriteLongRoute(prefix, depth, Lpm4Entry.Route(nextHop, depth));
        return new LpmAddResult(exists ? LpmAddStatus.Updated : LpmAddStatus.Added);
    }

    /// <summary>A route of depth 0..24: spans 2^(24-depth) tbl24 entries, and all 256 entries of any group below them.</summary>
    private void WriteShortRoute(uint prefix, int depth, uint route)
    {
        uint first = prefix >> 8;
        uint count = 1u << (MaxDepthTbl24 - depth);
        for (uint i = first; i < first + count; i++)
        {
            uint entry = _tbl24[i];
            if (Lpm4Entry.IsGroup(entry))
                OverwriteNotLonger(GroupBase(entry), GroupEntries, depth, route);
            else if (!Lpm4Entry.IsValid(entry) || Lpm4Entry.Depth(entry) <= depth)
                Volatile.Write(ref _tbl24[i], route); // whole word, so a reader sees old or new; pairs with the tbl24 load in Lookup
        }
    }

    /// <summary>A route of depth 25..32: 2^(32-depth) entries of the group under its /24, created on first use.</summary>
    private void WriteLongRoute(uint prefix, int depth, uint route)
    {
        uint index24 = prefix >> 8;
        uint entry = _tbl24[index24];
        uint* group;
        if (Lpm4Entry.IsGroup(entry))
        {
            group = GroupBase(entry);
            OverwriteNotLonger(group + (prefix & 0xFF), 1 << (MaxDepth - depth), depth, route);
            return;
        }
        // The /24 becomes a group: every entry starts as what the tbl24 entry said (a shorter route, or a miss).
        uint groupIndex = (uint)_freeGroups[--_freeGroupCount];
        group = _tbl8 + groupIndex * GroupEntries;
        new Span<uint>(group, GroupEntries).Fill(Lpm4Entry.IsValid(entry) ? entry : 0);
        new Span<uint>(group + (prefix & 0xFF), 1 << (MaxDepth - depth)).Fill(route);
        // Publish the group only once it is complete; pairs with the address-dependent tbl8 load in Lookup.
        Volatile.Write(ref _tbl24[index24], Lpm4Entry.GroupPointer(groupIndex));
    }

    /// <summary>Sets <paramref name="count"/> entries to <paramref name="route"/> unless a longer route owns them.</summary>
    private static void OverwriteNotLonger(uint* entries, int count, int depth, uint route)
    {
        for (int j = 0; j < count; j++)
        {
            uint e = entries[j];
            if (!Lpm4Entry.IsValid(e) || Lpm4Entry.Depth(e) <= depth)
                Volatile.Write(ref entries[j], route); // whole word; pairs with the tbl8 load in Lookup
        }
    }

    private bool DeleteRoute(uint prefix, int depth)
    {
        if (!_rules.Remove(prefix, depth))
            return false;
        // What the deleted route's addresses fall back to: the longest remaining route that covers the prefix.
        uint replacement = FindCoveringRoute(prefix, depth);
        if (depth <= MaxDepthTbl24)
            EraseShortRoute(prefix, depth, replacement);
        else
            EraseLongRoute(prefix, depth, replacement);
        return true;
    }

    /// <summary>The entry (route, or 0 for none) of the longest route shorter than <paramref name="depth"/> covering <paramref name="prefix"/>.</summary>
    private uint FindCoveringRoute(uint prefix, int depth)
    {
        for (int d = depth - 1; d >= 0; d--)
        {
            if (_rules.TryGet(prefix & DepthToMask(d), d, out uint nextHop))
                return Lpm4Entry.Route(nextHop, d);
        }
        return 0;
    }

    private void EraseShortRoute(uint prefix, int depth, uint replacement)
    {
        uint first = prefix >> 8;
        uint count = 1u << (MaxDepthTbl24 - depth);
        for (uint i = first; i < first + count; i++)
        {
            uint entry = _tbl24[i];
            if (Lpm4Entry.IsGroup(entry))
            {
                ReplaceOwned(GroupBase(entry), GroupEntries, depth, replacement);
                TryFoldGroup(i, entry);
            }
            else if (Lpm4Entry.IsValid(entry) && Lpm4Entry.Depth(entry) == depth)
            {
                Volatile.Write(ref _tbl24[i], replacement); // whole word; pairs with the tbl24 load in Lookup
            }
        }
    }

    private void EraseLongRoute(uint prefix, int depth, uint replacement)
    {
        uint index24 = prefix >> 8;
        uint entry = _tbl24[index24];
        ReplaceOwned(GroupBase(entry) + (prefix & 0xFF), 1 << (MaxDepth - depth), depth, replacement);
        TryFoldGroup(index24, entry);
    }

    /// <summary>Entries the deleted route owned (its depth; nothing shorter can sit in its range) get the replacement.</summary>
    private static void ReplaceOwned(uint* entries, int count, int depth, uint replacement)
    {
        for (int j = 0; j < count; j++)
        {
            uint e = entries[j];
            if (Lpm4Entry.IsValid(e) && Lpm4Entry.Depth(e) == depth)
                Volatile.Write(ref entries[j], replacement); // whole word; pairs with the tbl8 load in Lookup
        }
    }

    /// <summary>
    /// Returns a group to the free list when its 256 entries say the same thing and that thing fits in tbl24
    /// (all misses, or one route of depth 24 or less): rte_lpm's tbl8_recycle_check, applied after every delete.
    /// </summary>
    private void TryFoldGroup(uint index24, uint groupPointer)
    {
        uint* group = GroupBase(groupPointer);
        uint first = group[0];
        if (Lpm4Entry.IsValid(first) && Lpm4Entry.Depth(first) > MaxDepthTbl24)
            return;
        if (new ReadOnlySpan<uint>(group, GroupEntries).IndexOfAnyExcept(first) >= 0)
            return;
        // tbl24 first, then free: a lookup that already read the pointer still finds the same answer in the group
        // until the group is reused.
        Volatile.Write(ref _tbl24[index24], first); // pairs with the tbl24 load in Lookup
        _freeGroups[_freeGroupCount++] = (int)(groupPointer & Lpm4Entry.NextHopMask);
    }

    private uint* GroupBase(uint groupPointer) => _tbl8 + (groupPointer & Lpm4Entry.NextHopMask) * GroupEntries;
}
