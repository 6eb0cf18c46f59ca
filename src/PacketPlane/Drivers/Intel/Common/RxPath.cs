namespace PacketPlane.Drivers.Intel.Common;

/// <summary>
/// The receive burst implementations the Intel drivers have, chosen once at queue start and logged (as DPDK's
/// ixgbe_set_rx_function). Force one with the device argument <c>rx_path=scalar|bulk|vector</c>.
/// </summary>
internal enum RxPath
{
    /// <summary>Pick the fastest the CPU and queue allow: vector, else bulk.</summary>
    Auto,

    /// <summary>One descriptor at a time, each refilled with a fresh buffer as it is read (DPDK's recv_pkts).</summary>
    Scalar,

    /// <summary>Descriptors read in a run, buffers refilled in bulk every free-threshold descriptors (DPDK's bulk-alloc RX).</summary>
    Bulk,

    /// <summary>Four descriptors per step with Vector128 shuffles into the mbufs, bulk refill (DPDK's SSE/NEON RX).</summary>
    Vector,
}
