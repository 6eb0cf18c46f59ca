using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>Telemetry is off unless asked for; --telemetry serves it for the EAL's lifetime and removes it at teardown.</summary>
[Collection(EalCollection.Name)]
public class EalTelemetryTests
{
    [Fact]
    public void Eal_arguments_switch_telemetry_and_set_the_prefix()
    {
        Assert.False(EalArguments.Parse([], out _).Telemetry);
        Assert.Equal("rte", EalArguments.Parse([], out _).FilePrefix);
        EalOptions on = EalArguments.Parse(["--telemetry", "--file-prefix", "pp1"], out _);
        Assert.True(on.Telemetry);
        Assert.Equal("pp1", on.FilePrefix);
        Assert.False(EalArguments.Parse(["--telemetry", "--no-telemetry"], out _).Telemetry);
        Assert.Throws<EalArgumentException>(() => EalArguments.Parse(["--file-prefix=../x"], out _));
        Assert.Throws<EalArgumentException>(() => EalArguments.Parse(["--telemetry=1"], out _));
    }

    [Fact]
    public void Telemetry_lives_as_long_as_the_eal()
    {
        string prefix = $"pptest_{Guid.NewGuid():N}"[..16];
        string socket;
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", "0", "--no-huge", "--telemetry", "--file-prefix", prefix, "--vdev", "net_null45"], out _))
        {
            Assert.NotNull(eal.Telemetry);
            socket = eal.Telemetry!.SocketPath;
            Assert.Equal(Path.Combine(PacketPlane.Telemetry.TelemetryServer.RuntimeDirectory(prefix), "dpdk_telemetry.v2"), socket);
            using Socket client = TelemetryServerTests.Connect(socket);
            TelemetryServerTests.Receive(client);
            var ports = TelemetryServerTests.Ask(client, "/ethdev/list")["/ethdev/list"]!.AsArray();
            Assert.Contains((int)eal.Ports[0].PortId, ports.Select(n => (int)n!));
        }
        Assert.False(File.Exists(socket));
        Assert.False(Directory.Exists(Path.GetDirectoryName(socket)));

        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { NoHuge = true }))
            Assert.Null(eal.Telemetry);
    }
}
