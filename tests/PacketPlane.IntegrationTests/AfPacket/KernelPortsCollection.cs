using Xunit;

namespace PacketPlane.IntegrationTests.AfPacket;

/// <summary>
/// net_af_packet and net_tap tests run one at a time and apart from other collections: they create
/// interfaces, count every frame, and some move 100,000+ frames, which two shared cores only do reliably
/// without competition from parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelPortsCollection
{
    public const string Name = "kernel ports";
}
