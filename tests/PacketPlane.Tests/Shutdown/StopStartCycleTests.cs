using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

/// <summary>
/// 1,000 stop/start cycles per software driver: descriptors, mappings and pool in-use come back to where they
/// started. Add a driver with one InlineData line (drivers needing root: call SoakHarness from an integration test).
/// Runs in the EAL collection so no other test opens descriptors meanwhile.
/// </summary>
[Collection(EalCollection.Name)]
public class StopStartCycleTests
{
    [Theory]
    [InlineData("net_null90,size=64")]
    [InlineData("net_null91,size=1500,copy=1")]
    public void Thousand_stop_start_cycles_leak_nothing(string deviceString) =>
        SoakHarness.StopStartCycles(deviceString, 1000, queues: 2);

    [Theory]
    [InlineData("net_null92")]
    public void Hundred_create_close_cycles_leak_nothing(string deviceString) =>
        SoakHarness.CreateCloseCycles(deviceString, 100, queues: 2);
}
