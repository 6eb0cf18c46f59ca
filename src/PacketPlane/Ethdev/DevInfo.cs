namespace PacketPlane.Ethdev;

/// <summary>Descriptor ring limits of a queue (struct rte_eth_desc_lim).</summary>
/// <param name="Min">Fewest descriptors.</param>
/// <param name="Max">Most descriptors.</param>
/// <param name="Align">The count must be a multiple of this.</param>
public sealed record DescriptorLimits(int Min, int Max, int Align);

/// <summary>What a port can do (DPDK's struct rte_eth_dev_info).</summary>
public sealed record DevInfo
{
    /// <summary>Driver name, e.g. net_pcap.</summary>
    public required string DriverName { get; init; }

    /// <summary>Kernel interface index for drivers bound to a netdev (af_packet, af_xdp, tap); 0 otherwise.</summary>
    public int InterfaceIndex { get; init; }

    /// <summary>Most RX queues.</summary>
    public int MaxRxQueues { get; init; } = 1;

    /// <summary>Most TX queues.</summary>
    public int MaxTxQueues { get; init; } = 1;

    /// <summary>Largest frame the port receives, Ethernet header and CRC excluded... as DPDK: max_rx_pktlen.</summary>
    public int MaxRxPacketLength { get; init; } = 9618;

    /// <summary>Smallest MTU.</summary>
    public int MinMtu { get; init; } = 68;

    /// <summary>Largest MTU.</summary>
    public int MaxMtu { get; init; } = 9600;

    /// <summary>Receive offloads the port supports.</summary>
    public RxOffloads RxOffloadCapabilities { get; init; }

    /// <summary>Transmit offloads the port supports.</summary>
    public TxOffloads TxOffloadCapabilities { get; init; }

    /// <summary>Packet kinds the RSS hash can cover.</summary>
    public RssHashFunctions RssCapabilities { get; init; }

    /// <summary>RSS key length in bytes (0 without RSS).</summary>
    public int RssKeySize { get; init; }

    /// <summary>RSS redirection table entries (0 without RSS).</summary>
    public int RedirectionTableSize { get; init; }

    /// <summary>RX descriptor limits.</summary>
    public DescriptorLimits RxDescriptorLimits { get; init; } = new(1, 65535, 1);

    /// <summary>TX descriptor limits.</summary>
    public DescriptorLimits TxDescriptorLimits { get; init; } = new(1, 65535, 1);

    /// <summary>Free-form notes from the driver (e.g. "AF_XDP copy mode"), shown by tools.</summary>
    public string? Mode { get; init; }
}
