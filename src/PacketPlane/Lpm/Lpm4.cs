using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;

namespace PacketPlane.Lpm;

/// <summary>A route held by an <see cref="Lpm4"/> table.</summary>
/// <param name="Prefix">Network address in host byte order, host bits zero.</param>
/// <param name="Depth">Prefix length, 0 to 32.</param>
/// <param name="NextHop">Next hop (24 bits).</param>
public readonly record struct Lpm4Route(uint Prefix, int Depth, uint NextHop);

/// <summary>
/// IPv4 longest-prefix match with DPDK's <c>rte_lpm</c> design (DIR-24-8): a 2^24-entry first table indexed by
/// the top 24 address bits answers most lookups in one memory access; routes longer than /24 live in 256-entry
/// second-level groups. Next hops are 24 bits. Both tables sit in EAL memory (hugepages when available).
/// </summary>
/// <remarks>
/// <para>Addresses are host-order <see cref="uint"/>s (<c>198.18.0.1</c> is <c>0xC6120001</c>), as in DPDK; convert
/// a packet's destination with <c>BinaryPrimitives.ReadUInt32BigEndian</c>.</para>
/// <para>Lookups (<see cref="Lookup(uint, out uint)"/>, <see cref="LookupBulk"/>, <see cref="LookupX4(System.Runtime.Intrinsics.Vector128{uint}, uint)"/>,
/// <see cref="LookupX8(System.Runtime.Intrinsics.Vector256{uint}, uint)"/>) allocate nothing, take no locks and
/// never throw. Updates are single-writer. A lookup running while a route is added sees the old or the new
/// answer (entries are written whole and a new group is filled before it is linked), but a delete can return a
/// group to the free list while a concurrent lookup is still reading it; as with <c>rte_lpm</c> without RCU,
/// delete routes only while no lookup runs, or accept a stale answer for that window.</para>
/// <para>Depth 0 (a default route) is accepted, which <c>rte_lpm</c> does not; adding or deleting it rewrites the
/// whole first table (64 MiB).</para>
/// </remarks>
public sealed unsafe partial class Lpm4 : IDisposable
{
    /// <summary>Longest prefix length.</summary>
    public const int MaxDepth = 32;

    /// <summary>Largest next hop an entry can hold (24 bits).</summary>
    public const uint MaxNextHop = Lpm4Entry.NextHopMask;

    /// <summary>Most tbl8 groups a table can have (the group index is a 24-bit field).</summary>
    public const int MaxTbl8Groups = 1 << 24;

    internal const int Tbl24Entries = 1 << 24;
    internal const int GroupEntries = 256;
    private const int MaxDepthTbl24 = 24;

    private readonly MemoryRegion _region;
    private readonly uint* _tbl24;
    private readonly uint* _tbl8;
    private readonly LpmRuleTable<uint> _rules;
    private readonly int[] _freeGroups;
    private int _freeGroupCount;
    private int _disposed;

    private Lpm4(string name, Lpm4Options options)
    {
        Name = name;
        Options = options;
        long bytes = ((long)Tbl24Entries + (long)options.NumberTbl8s * GroupEntries) * sizeof(uint);
        _region = Eal.AllocateMemory("lpm4_" + name, bytes, options.NumaNode);
        _tbl24 = (uint*)_region.BaseAddress;
        _tbl8 = _tbl24 + Tbl24Entries;
        _rules = new LpmRuleTable<uint>(MaxDepth, options.MaxRules);
        _freeGroups = new int[options.NumberTbl8s];
        ResetFreeGroups();
        // The burst path is fixed by the CPU; say which one runs, as a PMD logs its RX function.
        Log.For("PacketPlane.Lpm").LogDebug("lpm4 '{Name}': {MiB} MiB in {Pages}; LookupX8 {X8}, LookupX4 {X4}",
            name, bytes >> 20, _region.IsHugepage ? "hugepages" : "4 KiB pages",
            Avx2.IsSupported ? "AVX2 gather" : "two x4", Vector128.IsHardwareAccelerated ? "Vector128" : "scalar");
    }

    /// <summary>
    /// Creates a table (<c>rte_lpm_create</c>). Memory comes from the EAL's policy when one is initialised,
    /// else hugepages if free, else 4 KiB pages.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">MaxRules below 1, or NumberTbl8s outside 0..2^24.</exception>
    /// <exception cref="MemoryAllocationException">The tables could not be mapped.</exception>
    public static Lpm4 Create(string name, Lpm4Options? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new Lpm4Options();
        if (options.MaxRules < 1)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"MaxRules must be at least 1, got {options.MaxRules}");
        if (options.NumberTbl8s < 0 || options.NumberTbl8s > MaxTbl8Groups)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"NumberTbl8s must be between 0 and {MaxTbl8Groups}, got {options.NumberTbl8s}");
        return new Lpm4(name, options);
    }

    /// <summary>Name given at creation.</summary>
    public string Name { get; }

    /// <summary>Sizes given at creation.</summary>
    public Lpm4Options Options { get; }

    /// <summary>Routes in the table.</summary>
    public int RuleCount => _rules.Count;

    /// <summary>Second-level groups in use.</summary>
    public int Tbl8GroupsInUse => Options.NumberTbl8s - _freeGroupCount;

    /// <summary>True when the tables live in hugepages (lookups then miss the TLB far less).</summary>
    public bool IsHugepageBacked => _region.IsHugepage;

    /// <summary>Every route, in no particular order (control path).</summary>
    public IEnumerable<Lpm4Route> Routes
    {
        get
        {
            foreach ((uint prefix, int depth, uint nextHop) in _rules.Enumerate())
                yield return new Lpm4Route(prefix, depth, nextHop);
        }
    }

    /// <summary>
    /// Looks up one address (<c>rte_lpm_lookup</c>): one memory access, two for addresses under a route longer
    /// than /24.
    /// </summary>
    /// <returns>True and the next hop of the longest matching route, or false when no route matches.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Lookup(uint ip, out uint nextHop)
    {
        uint entry = _tbl24[ip >> 8];
        if (Lpm4Entry.IsGroupPointer(entry))
            entry = _tbl8[((entry & Lpm4Entry.NextHopMask) << 8) + (ip & 0xFF)];
        nextHop = entry & Lpm4Entry.NextHopMask;
        return (entry & Lpm4Entry.Valid) != 0;
    }

    /// <summary>Looks up one address; <paramref name="missValue"/> when no route matches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Lookup(uint ip, uint missValue) => Lookup(ip, out uint nextHop) ? nextHop : missValue;

    /// <summary>Adds a route, or sets the next hop of an existing one (<c>rte_lpm_add</c>).</summary>
    /// <param name="ip">Any address inside the prefix, host byte order; host bits are ignored.</param>
    /// <param name="depth">Prefix length, 0 (default route) to 32.</param>
    /// <param name="nextHop">Next hop, at most <see cref="MaxNextHop"/>.</param>
    /// <returns>Added or Updated; RuleTableFull or GroupsExhausted (with the reason) when it does not fit, in
    /// which case nothing changed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Depth or next hop out of range.</exception>
    public LpmAddResult Add(uint ip, int depth, uint nextHop)
    {
        ThrowIfDisposed();
        CheckDepth(depth);
        if (nextHop > MaxNextHop)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nextHop), $"IPv4 LPM next hops are 24 bits (at most {MaxNextHop}), got {nextHop}");
        return AddRoute(ip & DepthToMask(depth), depth, nextHop);
    }

    /// <summary>Adds a route given as an <see cref="IPAddress"/> (control-path convenience).</summary>
    public LpmAddResult Add(IPAddress prefix, int depth, uint nextHop) => Add(ToUInt32(prefix), depth, nextHop);

    /// <summary>
    /// Deletes a route (<c>rte_lpm_delete</c>). Addresses it covered fall back to the longest shorter route that
    /// covers them, or miss when there is none.
    /// </summary>
    /// <returns>False when no such route exists.</returns>
    public bool Delete(uint ip, int depth)
    {
        ThrowIfDisposed();
        CheckDepth(depth);
        return DeleteRoute(ip & DepthToMask(depth), depth);
    }

    /// <summary>Deletes a route given as an <see cref="IPAddress"/>.</summary>
    public bool Delete(IPAddress prefix, int depth) => Delete(ToUInt32(prefix), depth);

    /// <summary>Removes every route (<c>rte_lpm_delete_all</c>).</summary>
    public void DeleteAll()
    {
        ThrowIfDisposed();
        _rules.Clear();
        new Span<byte>(_tbl24, Tbl24Entries * sizeof(uint)).Clear();
        ResetFreeGroups();
    }

    /// <summary>True when exactly this route exists, with its next hop (<c>rte_lpm_is_rule_present</c>).</summary>
    public bool IsRulePresent(uint ip, int depth, out uint nextHop)
    {
        CheckDepth(depth);
        return _rules.TryGet(ip & DepthToMask(depth), depth, out nextHop);
    }

    /// <summary>Frees the tables. Idempotent; the table must no longer be in use by any lcore.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Eal.Current?.Disown(_region);
        _region.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Lpm4 '{Name}' ({RuleCount}/{Options.MaxRules} routes, {Tbl8GroupsInUse}/{Options.NumberTbl8s} tbl8 groups)";

    /// <summary>Valid tbl24 entries (routes or group pointers), for the perf autotest's "used table 24 entries" line.</summary>
    internal int CountValidTbl24Entries()
    {
        int used = 0;
        for (int i = 0; i < Tbl24Entries; i++)
            used += (int)((_tbl24[i] >> 24) & 1);
        return used;
    }

    /// <summary>The network mask of a prefix length (0 gives 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint DepthToMask(int depth) => depth == 0 ? 0 : uint.MaxValue << (MaxDepth - depth);

    private static void CheckDepth(int depth)
    {
        if ((uint)depth > MaxDepth)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(depth), $"IPv4 prefix length must be 0 to 32, got {depth}");
    }

    private static uint ToUInt32(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
            ThrowHelper.ThrowArgument(nameof(address), $"{address} is not an IPv4 address; use Lpm6 for IPv6 routes");
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private void ResetFreeGroups()
    {
        // Lowest index on top, so groups are handed out in address order like rte_lpm's linear scan.
        int n = _freeGroups.Length;
        for (int i = 0; i < n; i++)
            _freeGroups[i] = n - 1 - i;
        _freeGroupCount = n;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            ThrowHelper.ThrowObjectDisposed(nameof(Lpm4));
    }
}
