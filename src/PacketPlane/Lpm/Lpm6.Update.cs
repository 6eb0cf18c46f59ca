using System;
using System.Threading;

namespace PacketPlane.Lpm;

// Route insertion and removal: control path, single writer. A route of depth d ends in the table that covers bit
// d: tbl24 for d <= 24, else the group at level ceil((d - 24) / 8). Each group counts the routes ending in it and
// the groups hanging below it; when that count drops to zero the group holds nothing but copies of shorter routes
// and is unlinked, its parent entry taking the longest route that covers it.
public sealed unsafe partial class Lpm6
{
    private const int Tbl24Bits = 24;

    private LpmAddResult AddRoute(UInt128 prefix, int depth, uint nextHop)
    {
        bool exists = _rules.TryGet(prefix, depth, out _);
        if (!exists)
        {
            if (_rules.IsFull)
            {
                return new LpmAddResult(LpmAddStatus.RuleTableFull,
                    $"table '{Name}' holds {_rules.Count} of {Options.MaxRules} routes; create it with a larger Lpm6Options.MaxRules");
            }
            int needed = GroupsNeeded(prefix, depth);
            if (needed > _freeGroupCount)
            {
                return new LpmAddResult(LpmAddStatus.GroupsExhausted,
                    $"a /{depth} route needs {needed} more tbl8 groups but table '{Name}' has {_freeGroupCount} of {Options.NumberTbl8s} free; " +
                    "create it with a larger Lpm6Options.NumberTbl8s");
            }
        }
        _rules.Set(prefix, depth, nextHop);
        Install(prefix, depth, Lpm6Entry.Route(nextHop, depth), isNewRoute: !exists);
        return new LpmAddResult(exists ? LpmAddStatus.Updated : LpmAddStatus.Added);
    }

    /// <summary>How many groups adding this route would create (rte_lpm6's simulate_add): checked before any write.</summary>
    private int GroupsNeeded(UInt128 prefix, int depth)
    {
        var at = Cursor.Start(prefix);
        while (depth > at.Bits)
        {
            uint entry = Table(at.Group)[at.Index];
            if (!Lpm6Entry.IsExtended(entry))
                return (depth - at.Bits + 7) / 8;
            at = at.Descend(Lpm6Entry.GroupIndex(entry), prefix);
        }
        return 0;
    }

    private void Install(UInt128 prefix, int depth, uint route, bool isNewRoute)
    {
        var at = Cursor.Start(prefix);
        while (depth > at.Bits)
        {
            uint* table = Table(at.Group);
            uint entry = table[at.Index];
            if (!Lpm6Entry.IsExtended(entry))
                entry = LinkNewGroup(at, table, entry);
            at = at.Descend(Lpm6Entry.GroupIndex(entry), prefix);
        }
        uint* last = Table(at.Group);
        int count = 1 << (at.Bits - depth);
        for (int i = at.Index; i < at.Index + count; i++)
            Overwrite(last, i, depth, route);
        if (isNewRoute && at.Group >= 0)
            _headers[at.Group].References++;
    }

    /// <summary>Hangs a new group under <paramref name="table"/>[at.Index], every entry a copy of what that entry said.</summary>
    private uint LinkNewGroup(Cursor at, uint* table, uint entry)
    {
        int group = _freeGroups[--_freeGroupCount];
        new Span<uint>(Table(group), GroupEntries).Fill(Lpm6Entry.IsValid(entry) ? entry : 0);
        _headers[group] = new GroupHeader { OwnerGroup = at.Group, OwnerEntry = at.Index, References = 0 };
        if (at.Group >= 0)
            _headers[at.Group].References++;
        uint pointer = Lpm6Entry.GroupPointer(group);
        // The group is complete before it is linked; pairs with the address-dependent load in LookupCore.
        Volatile.Write(ref table[at.Index], pointer);
        return pointer;
    }

    /// <summary>Sets an entry to the route unless a longer route owns it; follows groups below it (rte_lpm6's expand_rule).</summary>
    private void Overwrite(uint* table, int index, int depth, uint route)
    {
        uint entry = table[index];
        if (Lpm6Entry.IsExtended(entry))
        {
            uint* group = Table(Lpm6Entry.GroupIndex(entry));
            for (int j = 0; j < GroupEntries; j++)
                Overwrite(group, j, depth, route);
        }
        else if (!Lpm6Entry.IsValid(entry) || Lpm6Entry.Depth(entry) <= depth)
        {
            Volatile.Write(ref table[index], route); // whole word; pairs with the entry loads in LookupCore
        }
    }

    private bool DeleteRoute(UInt128 prefix, int depth)
    {
        if (!_rules.Remove(prefix, depth))
            return false;
        uint replacement = FindCoveringRoute(prefix, depth);
        var at = Cursor.Start(prefix);
        while (depth > at.Bits)
            at = at.Descend(Lpm6Entry.GroupIndex(Table(at.Group)[at.Index]), prefix);
        if (at.Group >= 0 && --_headers[at.Group].References == 0)
        {
            // Nothing of its own is left in the group: it only repeats shorter routes, i.e. the replacement.
            Unlink(at.Group, replacement);
            return true;
        }
        uint* table = Table(at.Group);
        int count = 1 << (at.Bits - depth);
        for (int i = at.Index; i < at.Index + count; i++)
            Replace(table, i, depth, replacement);
        return true;
    }

    /// <summary>Entries the deleted route owned (depth up to its own; nothing shorter sits in its range) get the replacement.</summary>
    private void Replace(uint* table, int index, int depth, uint replacement)
    {
        uint entry = table[index];
        if (Lpm6Entry.IsExtended(entry))
        {
            uint* group = Table(Lpm6Entry.GroupIndex(entry));
            for (int j = 0; j < GroupEntries; j++)
                Replace(group, j, depth, replacement);
        }
        else if (Lpm6Entry.IsValid(entry) && Lpm6Entry.Depth(entry) <= depth)
        {
            Volatile.Write(ref table[index], replacement); // whole word; pairs with the entry loads in LookupCore
        }
    }

    /// <summary>Removes a group whose count reached zero; its parent entry becomes the replacement, and a parent left empty goes too.</summary>
    private void Unlink(int group, uint replacement)
    {
        GroupHeader header = _headers[group];
        Volatile.Write(ref Table(header.OwnerGroup)[header.OwnerEntry], replacement); // unlinks before reuse; pairs with LookupCore's loads
        _freeGroups[_freeGroupCount++] = group;
        if (header.OwnerGroup >= 0 && --_headers[header.OwnerGroup].References == 0)
            Unlink(header.OwnerGroup, replacement);
    }

    private uint FindCoveringRoute(UInt128 prefix, int depth)
    {
        for (int d = depth - 1; d >= 0; d--)
        {
            if (_rules.TryGet(prefix & DepthToMask(d), d, out uint nextHop))
                return Lpm6Entry.Route(nextHop, d);
        }
        return 0;
    }

    /// <summary>tbl24 for -1, else the group's 256 entries.</summary>
    private uint* Table(int group) => group < 0 ? _tbl24 : _tbl8 + (long)group * GroupEntries;

    /// <summary>A position while walking a prefix down the tables: which table, which entry, how many bits it covers.</summary>
    private readonly struct Cursor
    {
        private Cursor(int group, int index, int bits)
        {
            Group = group;
            Index = index;
            Bits = bits;
        }

        /// <summary>-1 for tbl24, else a group index.</summary>
        public int Group { get; }

        public int Index { get; }

        /// <summary>Address bits resolved once this entry is read (24, 32, ... 128).</summary>
        public int Bits { get; }

        public static Cursor Start(UInt128 prefix) => new(-1, (int)(uint)(prefix >> (MaxDepth - Tbl24Bits)), Tbl24Bits);

        public Cursor Descend(int group, UInt128 prefix) =>
            new(group, (int)(byte)(prefix >> (MaxDepth - Bits - 8)), Bits + 8);
    }
}
