using Xunit;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// The NIC model tests run one at a time: each model has a polling thread, and on a two-core machine several
/// million-frame runs at once would only slow each other down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NicModelCollection
{
    public const string Name = "NIC models";
}
