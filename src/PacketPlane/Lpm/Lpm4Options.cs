namespace PacketPlane.Lpm;

/// <summary>Sizes of an <see cref="Lpm4"/> table (DPDK's <c>struct rte_lpm_config</c>).</summary>
public sealed record Lpm4Options
{
    /// <summary>Most routes the table holds (default 1024, as DPDK's l3fwd).</summary>
    public int MaxRules { get; init; } = 1024;

    /// <summary>
    /// Second-level groups of 256 entries (1 KiB each). Every distinct /24 that holds a route longer than /24
    /// needs one. Default 256, as DPDK's l3fwd; at most 2^24.
    /// </summary>
    public int NumberTbl8s { get; init; } = 256;

    /// <summary>NUMA node for the tables, or -1 for no preference.</summary>
    public int NumaNode { get; init; } = -1;
}

/// <summary>Sizes of an <see cref="Lpm6"/> table (DPDK's <c>struct rte_lpm6_config</c>).</summary>
public sealed record Lpm6Options
{
    /// <summary>Most routes the table holds (default 1024).</summary>
    public int MaxRules { get; init; } = 1024;

    /// <summary>
    /// Groups of 256 entries below the 24-bit first table (1 KiB each); a route of depth d above 24 needs up to
    /// ceil((d - 24) / 8) of them. Default 65536, as DPDK's l3fwd; at most 2^21.
    /// </summary>
    public int NumberTbl8s { get; init; } = 65536;

    /// <summary>NUMA node for the tables, or -1 for no preference.</summary>
    public int NumaNode { get; init; } = -1;
}
