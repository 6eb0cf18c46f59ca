using System;

namespace PacketPlane.Ethdev;

/// <summary>Port configuration for <see cref="EthDev.Configure"/> (DPDK's struct rte_eth_conf).</summary>
public sealed record EthConf
{
    /// <summary>Receive offloads to enable.</summary>
    public RxOffloads RxOffloads { get; init; }

    /// <summary>Transmit offloads to enable.</summary>
    public TxOffloads TxOffloads { get; init; }

    /// <summary>MTU (L3 payload bytes); null keeps the device's current MTU.</summary>
    public int? Mtu { get; init; }

    /// <summary>Spread received packets over the RX queues by RSS hash (rx mq_mode RSS).</summary>
    public bool RssEnabled { get; init; }

    /// <summary>Packet kinds hashed when <see cref="RssEnabled"/>.</summary>
    public RssHashFunctions RssHashFunctions { get; init; } = RssHashFunctions.Ip;

    /// <summary>RSS key; null uses the driver's default.</summary>
    public ReadOnlyMemory<byte>? RssKey { get; init; }

    /// <summary>Put the device in loopback mode where the driver supports it (TX comes back on RX).</summary>
    public bool Loopback { get; init; }
}

/// <summary>Receive queue settings for <see cref="EthDev.SetupRxQueue"/> (struct rte_eth_rxconf).</summary>
public sealed record RxQueueConf
{
    /// <summary>Refill descriptors in batches of this many (rx_free_thresh); 0 lets the driver choose.</summary>
    public int FreeThreshold { get; init; }

    /// <summary>Drop packets when no descriptor is free instead of back-pressuring (rx_drop_en).</summary>
    public bool DropWhenFull { get; init; } = true;

    /// <summary>Per-queue receive offloads, on top of the port's.</summary>
    public RxOffloads Offloads { get; init; }
}

/// <summary>Transmit queue settings for <see cref="EthDev.SetupTxQueue"/> (struct rte_eth_txconf).</summary>
public sealed record TxQueueConf
{
    /// <summary>Reclaim sent buffers once fewer than this many descriptors are free (tx_free_thresh); 0 lets the driver choose.</summary>
    public int FreeThreshold { get; init; }

    /// <summary>Request a completion report every this many descriptors (tx_rs_thresh); 0 lets the driver choose.</summary>
    public int RsThreshold { get; init; }

    /// <summary>Per-queue transmit offloads, on top of the port's.</summary>
    public TxOffloads Offloads { get; init; }
}
