using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace PacketPlane;

/// <summary>
/// Everything <see cref="Eal"/> initialisation takes. Build it in code, or let
/// <see cref="EalArguments.Parse"/> build it from DPDK-style arguments.
/// </summary>
public sealed class EalOptions
{
    /// <summary>
    /// Lcore id to CPU mapping. Empty means one lcore per allowed CPU with lcore id = CPU number
    /// (DPDK's default). <c>-l 0-3</c> gives ids 0..3 on CPUs 0..3; <c>--lcores 1@2</c> gives id 1 on CPU 2.
    /// </summary>
    public IDictionary<int, int> Lcores { get; } = new SortedDictionary<int, int>();

    /// <summary>The main lcore (the thread calling Init); null means the lowest lcore id.</summary>
    public int? MainLcore { get; set; }

    /// <summary>Virtual devices to create, one DPDK device string each (<c>net_null0,size=64</c>).</summary>
    public IList<string> VirtualDevices { get; } = new List<string>();

    /// <summary>PCI addresses allowed (<c>-a</c>); empty means every supported device not blocked.</summary>
    public IList<string> AllowedPciDevices { get; } = new List<string>();

    /// <summary>PCI addresses never touched (<c>-b</c>).</summary>
    public IList<string> BlockedPciDevices { get; } = new List<string>();

    /// <summary>Skip the PCI bus entirely (<c>--no-pci</c>).</summary>
    public bool NoPci { get; set; }

    /// <summary>Use 4 KiB pages only (<c>--no-huge</c>).</summary>
    public bool NoHuge { get; set; }

    /// <summary>
    /// Accepted for DPDK compatibility (<c>--in-memory</c>). PacketPlane keeps no runtime files in any mode:
    /// memory is memfd-backed and there is no shared config directory.
    /// </summary>
    public bool InMemory { get; set; }

    /// <summary>
    /// DPDK's runtime-directory name (<c>--file-prefix</c>, default <c>rte</c>). PacketPlane keeps no shared runtime
    /// files; the prefix only places the telemetry socket where DPDK's client looks for it
    /// (<c>/var/run/dpdk/PREFIX/dpdk_telemetry.v2</c> for root).
    /// </summary>
    public string FilePrefix { get; set; } = "rte";

    /// <summary>
    /// Serve DPDK's v2 telemetry protocol on a UNIX socket (<c>--telemetry</c>; off by default, <c>--no-telemetry</c>
    /// turns it off again). See <see cref="PacketPlane.Telemetry.TelemetryServer"/>.
    /// </summary>
    public bool Telemetry { get; set; }

    /// <summary>Hugepage memory required in total, in MiB (<c>-m</c>); null when not requested.</summary>
    public long? MemoryMegabytes { get; set; }

    /// <summary>Hugepage memory required per NUMA node, in MiB (<c>--socket-mem 512,512</c>).</summary>
    public IList<long> SocketMemoryMegabytes { get; } = new List<long>();

    /// <summary>Accepted for DPDK compatibility (<c>--huge-dir</c>); memfd needs no hugetlbfs mount.</summary>
    public string? HugeDir { get; set; }

    /// <summary>Device address mode (<c>--iova-mode va|pa</c>).</summary>
    public IovaMode IovaMode { get; set; } = IovaMode.VirtualAddress;

    /// <summary>Minimum level of PacketPlane's own log lines (<c>--log-level</c>).</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    /// <summary>Where log lines go; null writes them to standard error.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>True when hugepages must be used (<c>-m</c> or <c>--socket-mem</c> given, and not <c>--no-huge</c>).</summary>
    public bool RequiresHugepages => !NoHuge && (MemoryMegabytes is not null || SocketMemoryMegabytes.Count > 0);
}
