using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Internal;

namespace PacketPlane.Lpm;

/// <summary>A route held by an <see cref="Lpm6"/> table.</summary>
/// <param name="Prefix">Network address as a big-endian 128-bit number (first address byte most significant), host bits zero.</param>
/// <param name="Depth">Prefix length, 0 to 128.</param>
/// <param name="NextHop">Next hop (21 bits).</param>
public readonly record struct Lpm6Route(UInt128 Prefix, int Depth, uint NextHop)
{
    /// <summary>The prefix as an <see cref="IPAddress"/>.</summary>
    public IPAddress Address
    {
        get
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt128BigEndian(bytes, Prefix);
            return new IPAddress(bytes);
        }
    }
}

/// <summary>
/// IPv6 longest-prefix match with DPDK's <c>rte_lpm6</c> design: a 2^24-entry first table indexed by the first
/// three address bytes, then one 256-entry group per further byte the routes need (up to 13 levels). Next hops
/// are 21 bits. Tables sit in EAL memory.
/// </summary>
/// <remarks>
/// <para>An address is 16 bytes in network order (as in the packet), or a <see cref="UInt128"/> whose most
/// significant byte is the first address byte (<see cref="BinaryPrimitives.ReadUInt128BigEndian"/>).</para>
/// <para>Lookups allocate nothing and never throw on valid input. Updates are single-writer and, as with
/// <c>rte_lpm6</c>, must not run while lookups do. Depth 0 (a default route) is accepted.</para>
/// </remarks>
public sealed unsafe partial class Lpm6 : IDisposable
{
    /// <summary>Longest prefix length.</summary>
    public const int MaxDepth = 128;

    /// <summary>Largest next hop an entry can hold (21 bits).</summary>
    public const uint MaxNextHop = Lpm6Entry.NextHopMask;

    /// <summary>Most groups a table can have (the group index is a 21-bit field).</summary>
    public const int MaxTbl8Groups = 1 << 21;

    /// <summary>Bytes in one address.</summary>
    public const int AddressSize = 16;

    internal const int Tbl24Entries = 1 << 24;
    internal const int GroupEntries = 256;

    private readonly MemoryRegion _region;
    private readonly uint* _tbl24;
    private readonly uint* _tbl8;
    private readonly LpmRuleTable<UInt128> _rules;
    private readonly int[] _freeGroups;
    private readonly GroupHeader[] _headers;
    private int _freeGroupCount;
    private int _disposed;

    private Lpm6(string name, Lpm6Options options)
    {
        Name = name;
        Options = options;
        long bytes = ((long)Tbl24Entries + (long)options.NumberTbl8s * GroupEntries) * sizeof(uint);
        _region = Eal.AllocateMemory("lpm6_" + name, bytes, options.NumaNode);
        _tbl24 = (uint*)_region.BaseAddress;
        _tbl8 = _tbl24 + Tbl24Entries;
        _rules = new LpmRuleTable<UInt128>(MaxDepth, options.MaxRules);
        _freeGroups = new int[options.NumberTbl8s];
        _headers = new GroupHeader[options.NumberTbl8s];
        ResetFreeGroups();
    }

    /// <summary>Creates a table (<c>rte_lpm6_create</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">MaxRules below 1, or NumberTbl8s outside 0..2^21.</exception>
    /// <exception cref="MemoryAllocationException">The tables could not be mapped.</exception>
    public static Lpm6 Create(string name, Lpm6Options? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new Lpm6Options();
        if (options.MaxRules < 1)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"MaxRules must be at least 1, got {options.MaxRules}");
        if (options.NumberTbl8s < 0 || options.NumberTbl8s > MaxTbl8Groups)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), $"NumberTbl8s must be between 0 and {MaxTbl8Groups}, got {options.NumberTbl8s}");
        return new Lpm6(name, options);
    }

    /// <summary>Name given at creation.</summary>
    public string Name { get; }

    /// <summary>Sizes given at creation.</summary>
    public Lpm6Options Options { get; }

    /// <summary>Routes in the table.</summary>
    public int RuleCount => _rules.Count;

    /// <summary>Groups in use.</summary>
    public int Tbl8GroupsInUse => Options.NumberTbl8s - _freeGroupCount;

    /// <summary>Every route, in no particular order (control path).</summary>
    public IEnumerable<Lpm6Route> Routes
    {
        get
        {
            foreach ((UInt128 prefix, int depth, uint nextHop) in _rules.Enumerate())
                yield return new Lpm6Route(prefix, depth, nextHop);
        }
    }

    /// <summary>Looks up one address given as 16 bytes in network order (<c>rte_lpm6_lookup</c>).</summary>
    /// <returns>True and the next hop of the longest matching route, or false when none matches.</returns>
    /// <exception cref="ArgumentException"><paramref name="address"/> is shorter than 16 bytes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Lookup(ReadOnlySpan<byte> address, out uint nextHop)
    {
        if (address.Length < AddressSize)
            ThrowShortAddress(address.Length);
        fixed (byte* ip = address)
            return LookupCore(ip, out nextHop);
    }

    /// <summary>Looks up one address given as a big-endian 128-bit number.</summary>
    public bool Lookup(UInt128 address, out uint nextHop)
    {
        byte* ip = stackalloc byte[AddressSize];
        BinaryPrimitives.WriteUInt128BigEndian(new Span<byte>(ip, AddressSize), address);
        return LookupCore(ip, out nextHop);
    }

    /// <summary>
    /// Looks up a burst of addresses (<c>rte_lpm6_lookup_bulk_func</c>, with l3fwd's miss convention).
    /// </summary>
    /// <param name="addresses">n addresses back to back, 16 bytes each, network order.</param>
    /// <param name="nextHops">Receives n next hops.</param>
    /// <param name="missValue">Written where no route matches.</param>
    /// <exception cref="ArgumentException">The address buffer is not a multiple of 16 bytes, or nextHops is too short.</exception>
    public void LookupBulk(ReadOnlySpan<byte> addresses, Span<uint> nextHops, uint missValue)
    {
        int n = addresses.Length / AddressSize;
        if (addresses.Length % AddressSize != 0 || nextHops.Length < n)
        {
            ThrowHelper.ThrowArgument(nameof(addresses),
                $"LookupBulk takes whole 16-byte addresses ({addresses.Length} bytes given) and room for each result ({nextHops.Length} for {n})");
        }
        fixed (byte* ips = addresses)
        fixed (uint* hops = nextHops)
        {
            for (int i = 0; i < n; i++)
                hops[i] = LookupCore(ips + i * AddressSize, out uint hop) ? hop : missValue;
        }
    }

    /// <summary>Adds a route or sets an existing route's next hop (<c>rte_lpm6_add</c>).</summary>
    /// <param name="address">Any address inside the prefix, 16 bytes network order; host bits are ignored.</param>
    /// <param name="depth">Prefix length, 0 to 128.</param>
    /// <param name="nextHop">Next hop, at most <see cref="MaxNextHop"/>.</param>
    /// <returns>Added or Updated, or why it did not fit (the table is then unchanged).</returns>
    public LpmAddResult Add(ReadOnlySpan<byte> address, int depth, uint nextHop)
    {
        ThrowIfDisposed();
        CheckDepth(depth);
        if (nextHop > MaxNextHop)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nextHop), $"IPv6 LPM next hops are 21 bits (at most {MaxNextHop}), got {nextHop}");
        return AddRoute(ReadAddress(address) & DepthToMask(depth), depth, nextHop);
    }

    /// <summary>Adds a route given as a big-endian 128-bit number.</summary>
    public LpmAddResult Add(UInt128 address, int depth, uint nextHop)
    {
        Span<byte> bytes = stackalloc byte[AddressSize];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return Add(bytes, depth, nextHop);
    }

    /// <summary>Adds a route given as an <see cref="IPAddress"/>.</summary>
    public LpmAddResult Add(IPAddress prefix, int depth, uint nextHop) => Add(ToBytes(prefix), depth, nextHop);

    /// <summary>Deletes a route (<c>rte_lpm6_delete</c>); its addresses fall back to the longest shorter covering route.</summary>
    /// <returns>False when no such route exists.</returns>
    public bool Delete(ReadOnlySpan<byte> address, int depth)
    {
        ThrowIfDisposed();
        CheckDepth(depth);
        return DeleteRoute(ReadAddress(address) & DepthToMask(depth), depth);
    }

    /// <summary>Deletes a route given as a big-endian 128-bit number.</summary>
    public bool Delete(UInt128 address, int depth)
    {
        ThrowIfDisposed();
        CheckDepth(depth);
        return DeleteRoute(address & DepthToMask(depth), depth);
    }

    /// <summary>Deletes a route given as an <see cref="IPAddress"/>.</summary>
    public bool Delete(IPAddress prefix, int depth) => Delete(ToBytes(prefix), depth);

    /// <summary>Removes every route (<c>rte_lpm6_delete_all</c>).</summary>
    public void DeleteAll()
    {
        ThrowIfDisposed();
        _rules.Clear();
        new Span<byte>(_tbl24, Tbl24Entries * sizeof(uint)).Clear();
        ResetFreeGroups();
    }

    /// <summary>True when exactly this route exists, with its next hop (<c>rte_lpm6_is_rule_present</c>).</summary>
    public bool IsRulePresent(ReadOnlySpan<byte> address, int depth, out uint nextHop)
    {
        CheckDepth(depth);
        return _rules.TryGet(ReadAddress(address) & DepthToMask(depth), depth, out nextHop);
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
        $"Lpm6 '{Name}' ({RuleCount}/{Options.MaxRules} routes, {Tbl8GroupsInUse}/{Options.NumberTbl8s} tbl8 groups)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool LookupCore(byte* ip, out uint nextHop)
    {
        uint entry = _tbl24[(uint)ip[0] << 16 | (uint)ip[1] << 8 | ip[2]];
        // Each extended entry points at the group for the next byte; the chain ends by construction at byte 15.
        for (int b = 3; Lpm6Entry.IsExtended(entry); b++)
            entry = _tbl8[((entry & Lpm6Entry.NextHopMask) << 8) + ip[b]];
        nextHop = entry & Lpm6Entry.NextHopMask;
        return Lpm6Entry.IsValid(entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static UInt128 DepthToMask(int depth) => depth == 0 ? UInt128.Zero : UInt128.MaxValue << (MaxDepth - depth);

    private static UInt128 ReadAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length != AddressSize)
            ThrowHelper.ThrowArgument(nameof(address), $"an IPv6 address is 16 bytes, got {address.Length}");
        return BinaryPrimitives.ReadUInt128BigEndian(address);
    }

    private static byte[] ToBytes(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            ThrowHelper.ThrowArgument(nameof(address), $"{address} is not an IPv6 address; use Lpm4 for IPv4 routes");
        return address.GetAddressBytes();
    }

    private static void CheckDepth(int depth)
    {
        if ((uint)depth > MaxDepth)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(depth), $"IPv6 prefix length must be 0 to 128, got {depth}");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowShortAddress(int length) =>
        ThrowHelper.ThrowArgument("address", $"an IPv6 address is 16 bytes, got {length}");

    private void ResetFreeGroups()
    {
        int n = _freeGroups.Length;
        for (int i = 0; i < n; i++)
            _freeGroups[i] = n - 1 - i;
        _freeGroupCount = n;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            ThrowHelper.ThrowObjectDisposed(nameof(Lpm6));
    }

    /// <summary>Where a group hangs and what keeps it alive (rte_lpm6's struct rte_lpm_tbl8_hdr).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct GroupHeader
    {
        /// <summary>The group holding the entry that points here, or -1 for tbl24.</summary>
        public int OwnerGroup;

        /// <summary>Index of that entry in its table.</summary>
        public int OwnerEntry;

        /// <summary>Routes that end in this group plus groups hanging below it; at zero the group goes.</summary>
        public int References;
    }
}
