using System;
using Xunit;

namespace PacketPlane.Tests;

/// <summary>
/// Lets a test thread act as a given lcore (for per-lcore caches) and puts it back afterwards. Tests that
/// do this share one collection so they never interleave with tests that expect the thread to be no lcore.
/// </summary>
internal sealed class LcoreIdentity : IDisposable
{
    public const string Collection = "lcore identity";
    private readonly int _previous;

    private LcoreIdentity(int id)
    {
        _previous = Lcore.CurrentId;
        Lcore.SetCurrent(id);
    }

    public static LcoreIdentity As(int lcoreId) => new(lcoreId);

    public void Dispose() => Lcore.SetCurrent(_previous);
}

[CollectionDefinition(LcoreIdentity.Collection)]
public sealed class LcoreIdentityCollection
{
}
