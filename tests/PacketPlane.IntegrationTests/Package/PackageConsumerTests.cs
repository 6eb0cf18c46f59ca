using System;
using System.IO;
using PacketPlane.IntegrationTests.Infrastructure;
using Xunit;

namespace PacketPlane.IntegrationTests.Package;

/// <summary>
/// What a new user does after `dotnet add package PacketPlane`: the packed library, from a local folder feed, in a fresh
/// console project that uses a ring, a pool, and net_pcap / net_null ports. Needs no privilege.
/// </summary>
public class PackageConsumerTests
{
    private const string Program = """
        using PacketPlane;
        using PacketPlane.Ethdev;
        using PacketPlane.Memory;
        using PacketPlane.Ring;

        string pcap = args[0];
        // One 60-byte frame in a microsecond pcap, written byte by byte (pcap-savefile(5)).
        using (var w = new BinaryWriter(File.Create(pcap)))
        {
            w.Write(0xa1b2c3d4u); w.Write((ushort)2); w.Write((ushort)4); w.Write(0); w.Write(0u); w.Write(65535u); w.Write(1u);
            w.Write(1u); w.Write(0u); w.Write(60u); w.Write(60u); w.Write(new byte[60]);
        }
        using Eal eal = Eal.Init(["-l", "0", "--no-huge", "--vdev", $"net_pcap0,rx_pcap={pcap},infinite_rx=1", "--vdev", "net_null0"], out _);
        using MbufPool pool = MbufPool.Create("consumer", 4096);
        using Ring<Packet> ring = Ring<Packet>.Create(1024, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        EthDev rx = eal.Ports[0], tx = eal.Ports[1];
        foreach (EthDev p in eal.Ports) { p.Configure(1, 1); p.SetupRxQueue(0, 512, pool); p.SetupTxQueue(0, 512); p.Start(); }
        var burst = new Packet[32];
        long moved = 0;
        while (moved < 100_000)
        {
            int n = rx.RxBurst(0, burst);
            int queued = ring.EnqueueBurst(burst.AsSpan(0, n));
            Packet.FreeBulk(burst.AsSpan(queued, n - queued));
            int got = ring.DequeueBurst(burst);
            int sent = tx.TxBurst(0, burst.AsSpan(0, got));
            Packet.FreeBulk(burst.AsSpan(sent, got - sent));
            moved += sent;
        }
        Console.WriteLine($"moved {moved} in-use {pool.InUse} out {tx.GetStats().OutPackets}");
        """;

    [Fact]
    public void Packed_library_installs_from_a_folder_feed_and_runs_a_small_program()
    {
        string repo = PackTests.FindRepoRoot();
        string work = Directory.CreateTempSubdirectory("pp-consumer").FullName;
        try
        {
            string feed = Path.Combine(work, "feed");
            string version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}";
            Shell.Run($"dotnet pack {repo}/src/PacketPlane/PacketPlane.csproj -c Release -o {feed} -p:Version={version} -nologo -v q", TimeSpan.FromMinutes(5));
            string app = Path.Combine(work, "app");
            Shell.Run($"dotnet new console -o {app} -n ConsumerApp --force", TimeSpan.FromMinutes(2));
            File.WriteAllText(Path.Combine(app, "Program.cs"), "using System;\nusing System.IO;\n" + Program);
            // The folder feed first; the registry for the package's own dependencies. A private package cache keeps
            // this version out of the machine's.
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <configuration><packageSources><clear />
                  <add key="local" value="{feed}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                </packageSources></configuration>
                """);
            string packages = Path.Combine(work, "packages");
            Shell.Run($"cd {app} && dotnet add package PacketPlane --version {version} --package-directory {packages}", TimeSpan.FromMinutes(5));
            string output = Shell.Run($"cd {app} && NUGET_PACKAGES={packages} dotnet run -c Release -- {work}/one.pcap", TimeSpan.FromMinutes(5));
            Assert.Contains("moved 100", output);
            Assert.Contains("in-use 0 ", output);
            Assert.Matches(@"out 1\d{5}", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
