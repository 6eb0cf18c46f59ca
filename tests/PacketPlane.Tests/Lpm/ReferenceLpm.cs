using System;
using System.Collections.Generic;

namespace PacketPlane.Tests.Lpm;

/// <summary>
/// The obvious longest-prefix match: a list of routes scanned in full on every lookup. Slow and plainly right;
/// the DIR-24-8 tables are checked against it.
/// </summary>
internal sealed class ReferenceLpm4
{
    private readonly List<(uint Prefix, int Depth, uint NextHop)> _routes = new();

    public int Count => _routes.Count;

    public IReadOnlyList<(uint Prefix, int Depth, uint NextHop)> Routes => _routes;

    public static uint Mask(int depth) => depth == 0 ? 0 : uint.MaxValue << (32 - depth);

    /// <summary>Adds or updates; true when new.</summary>
    public bool Set(uint ip, int depth, uint nextHop)
    {
        uint prefix = ip & Mask(depth);
        int i = IndexOf(prefix, depth);
        if (i >= 0)
        {
            _routes[i] = (prefix, depth, nextHop);
            return false;
        }
        _routes.Add((prefix, depth, nextHop));
        return true;
    }

    public bool Contains(uint ip, int depth) => IndexOf(ip & Mask(depth), depth) >= 0;

    public bool Remove(uint ip, int depth)
    {
        int i = IndexOf(ip & Mask(depth), depth);
        if (i < 0)
            return false;
        _routes[i] = _routes[^1];
        _routes.RemoveAt(_routes.Count - 1);
        return true;
    }

    public void Clear() => _routes.Clear();

    public bool Lookup(uint ip, out uint nextHop)
    {
        int best = -1;
        nextHop = 0;
        foreach ((uint prefix, int depth, uint hop) in _routes)
        {
            if (depth > best && (ip & Mask(depth)) == prefix)
            {
                best = depth;
                nextHop = hop;
            }
        }
        return best >= 0;
    }

    private int IndexOf(uint prefix, int depth)
    {
        for (int i = 0; i < _routes.Count; i++)
        {
            if (_routes[i].Prefix == prefix && _routes[i].Depth == depth)
                return i;
        }
        return -1;
    }
}

/// <summary>The IPv6 counterpart of <see cref="ReferenceLpm4"/>, on big-endian 128-bit numbers.</summary>
internal sealed class ReferenceLpm6
{
    private readonly List<(UInt128 Prefix, int Depth, uint NextHop)> _routes = new();

    public int Count => _routes.Count;

    public IReadOnlyList<(UInt128 Prefix, int Depth, uint NextHop)> Routes => _routes;

    public static UInt128 Mask(int depth) => depth == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - depth);

    public bool Set(UInt128 ip, int depth, uint nextHop)
    {
        UInt128 prefix = ip & Mask(depth);
        int i = IndexOf(prefix, depth);
        if (i >= 0)
        {
            _routes[i] = (prefix, depth, nextHop);
            return false;
        }
        _routes.Add((prefix, depth, nextHop));
        return true;
    }

    public bool Contains(UInt128 ip, int depth) => IndexOf(ip & Mask(depth), depth) >= 0;

    public bool Remove(UInt128 ip, int depth)
    {
        int i = IndexOf(ip & Mask(depth), depth);
        if (i < 0)
            return false;
        _routes[i] = _routes[^1];
        _routes.RemoveAt(_routes.Count - 1);
        return true;
    }

    public bool Lookup(UInt128 ip, out uint nextHop)
    {
        int best = -1;
        nextHop = 0;
        foreach ((UInt128 prefix, int depth, uint hop) in _routes)
        {
            if (depth > best && (ip & Mask(depth)) == prefix)
            {
                best = depth;
                nextHop = hop;
            }
        }
        return best >= 0;
    }

    private int IndexOf(UInt128 prefix, int depth)
    {
        for (int i = 0; i < _routes.Count; i++)
        {
            if (_routes[i].Prefix == prefix && _routes[i].Depth == depth)
                return i;
        }
        return -1;
    }
}

/// <summary>
/// Random prefix lengths for the differential tests. Every length occurs, but short ones are rare: a /d route
/// (d &lt;= 24) rewrites 2^(24-d) first-table entries, and a test of 100,000 operations must finish in seconds.
/// </summary>
internal static class DepthSampler
{
    public static int Next(Random random, int maxDepth)
    {
        while (true)
        {
            int depth = random.Next(maxDepth + 1);
            // Depth 12 and up always; shorter ones with probability 2^(depth-12), but never below 1/64.
            if (depth >= 12)
                return depth;
            double keep = Math.Max(Math.Pow(2, depth - 12), 1.0 / 64);
            if (random.NextDouble() < keep)
                return depth;
        }
    }
}
