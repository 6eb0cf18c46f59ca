using System.Collections.Generic;

namespace PacketPlane.Ethdev;

/// <summary>Per-queue counters.</summary>
/// <param name="Packets">Packets received or sent.</param>
/// <param name="Bytes">Bytes received or sent.</param>
/// <param name="Errors">Errors on the queue.</param>
public readonly record struct QueueStats(ulong Packets, ulong Bytes, ulong Errors);

/// <summary>Port counters (DPDK's struct rte_eth_stats).</summary>
public sealed record PortStats
{
    /// <summary>Packets received.</summary>
    public ulong InPackets { get; init; }
    /// <summary>Packets sent.</summary>
    public ulong OutPackets { get; init; }
    /// <summary>Bytes received.</summary>
    public ulong InBytes { get; init; }
    /// <summary>Bytes sent.</summary>
    public ulong OutBytes { get; init; }
    /// <summary>Packets dropped by the device because no descriptor or ring slot was free (imissed).</summary>
    public ulong InMissed { get; init; }
    /// <summary>Received packets with errors (ierrors).</summary>
    public ulong InErrors { get; init; }
    /// <summary>Packets that failed to send (oerrors).</summary>
    public ulong OutErrors { get; init; }
    /// <summary>Times a receive buffer could not be allocated (rx_nombuf).</summary>
    public ulong RxNoMbuf { get; init; }
    /// <summary>Per RX queue.</summary>
    public IReadOnlyList<QueueStats> RxQueues { get; init; } = [];
    /// <summary>Per TX queue.</summary>
    public IReadOnlyList<QueueStats> TxQueues { get; init; } = [];
}

/// <summary>One named driver statistic (rte_eth_xstat_name + value).</summary>
/// <param name="Name">Name as the driver reports it, e.g. rx_q0_packets.</param>
/// <param name="Value">Current value.</param>
public readonly record struct XStat(string Name, ulong Value);

/// <summary>Link state (struct rte_eth_link).</summary>
/// <param name="IsUp">Carrier present.</param>
/// <param name="SpeedMbps">Speed in Mb/s, 0 when unknown.</param>
/// <param name="FullDuplex">Full duplex.</param>
/// <param name="Autonegotiated">Speed was autonegotiated.</param>
public readonly record struct LinkStatus(bool IsUp, uint SpeedMbps, bool FullDuplex = true, bool Autonegotiated = true)
{
    /// <summary>"Link up at 10 Gbps full-duplex" style text, as testpmd prints it.</summary>
    public override string ToString() =>
        IsUp ? $"Link up at {(SpeedMbps >= 1000 ? $"{SpeedMbps / 1000} Gbps" : $"{SpeedMbps} Mbps")} {(FullDuplex ? "full-duplex" : "half-duplex")}" : "Link down";
}
