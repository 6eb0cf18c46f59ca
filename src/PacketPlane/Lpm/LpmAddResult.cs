namespace PacketPlane.Lpm;

/// <summary>What an LPM <c>Add</c> did.</summary>
public enum LpmAddStatus
{
    /// <summary>A new route was added.</summary>
    Added,

    /// <summary>The route existed; its next hop was set to the one given (possibly the same).</summary>
    Updated,

    /// <summary>Not added: the rule table already holds <c>MaxRules</c> routes. The table is unchanged.</summary>
    RuleTableFull,

    /// <summary>
    /// Not added: the route needs a second-level group (depth above 24 for IPv4, above 24 for IPv6) and none
    /// is free. The table is unchanged.
    /// </summary>
    GroupsExhausted,
}

/// <summary>
/// The outcome of adding a route. A full table is an expected condition at run time (routes come from
/// configuration or a routing protocol), so it is reported here rather than thrown; the table is left exactly as
/// it was.
/// </summary>
public readonly struct LpmAddResult
{
    internal LpmAddResult(LpmAddStatus status, string? reason = null)
    {
        Status = status;
        Reason = reason;
    }

    /// <summary>What happened.</summary>
    public LpmAddStatus Status { get; }

    /// <summary>True when the route is now in the table (added or updated).</summary>
    public bool Succeeded => Status is LpmAddStatus.Added or LpmAddStatus.Updated;

    /// <summary>Why the route was not added, with the setting to raise; null on success.</summary>
    public string? Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => Reason is null ? Status.ToString() : $"{Status}: {Reason}";
}
