using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Internal;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// X710 statistics: free-running counters (not cleared on read), 48 bits wide as a low register and a high one
/// (16 bits) at +4, or 32 bits. The driver remembers each counter's value at start (or reset) and reports the
/// difference, allowing for one wrap between reads, as DPDK's i40e_stat_update_48 does. Port counters (GLPRT, by
/// the port number) and the PF VSI's counters (GLV, by the VSI's statistics index) are both read. The byte counters
/// include the 4-byte CRC of each frame; it is taken out so bytes are frame bytes, like the queue counters.
/// </summary>
internal sealed class I40eStats(int port, int vsiStatIndex)
{
    private const int Crc = 4;
    private readonly object _lock = new();
    private readonly Counter[] _counters = Build(port, vsiStatIndex);

    private sealed class Counter(string name, int low, bool wide)
    {
        public string Name { get; } = name;
        public int Low { get; } = low;
        public bool Wide { get; } = wide;
        public ulong Offset;
        public ulong Value;
        public bool Loaded;
    }

    private static Counter[] Build(int p, int v) =>
    [
        new("port_rx_bytes", I40eRegs.GLPRT_GORCL(p), true),
        new("port_rx_unicast_packets", I40eRegs.GLPRT_UPRCL(p), true),
        new("port_rx_multicast_packets", I40eRegs.GLPRT_MPRCL(p), true),
        new("port_rx_broadcast_packets", I40eRegs.GLPRT_BPRCL(p), true),
        new("port_tx_bytes", I40eRegs.GLPRT_GOTCL(p), true),
        new("port_tx_unicast_packets", I40eRegs.GLPRT_UPTCL(p), true),
        new("port_tx_multicast_packets", I40eRegs.GLPRT_MPTCL(p), true),
        new("port_tx_broadcast_packets", I40eRegs.GLPRT_BPTCL(p), true),
        new("rx_crc_errors", I40eRegs.GLPRT_CRCERRS(p), false),
        new("rx_length_errors", I40eRegs.GLPRT_RLEC(p), false),
        new("rx_undersize_errors", I40eRegs.GLPRT_RUC(p), false),
        new("rx_oversize_errors", I40eRegs.GLPRT_ROC(p), false),
        new("rx_dropped_packets", I40eRegs.GLPRT_RDPC(p), false),
        new("vsi_rx_bytes", I40eRegs.GLV_GORCL(v), true),
        new("vsi_rx_unicast_packets", I40eRegs.GLV_UPRCL(v), true),
        new("vsi_rx_multicast_packets", I40eRegs.GLV_MPRCL(v), true),
        new("vsi_rx_broadcast_packets", I40eRegs.GLV_BPRCL(v), true),
        new("vsi_tx_bytes", I40eRegs.GLV_GOTCL(v), true),
        new("vsi_tx_unicast_packets", I40eRegs.GLV_UPTCL(v), true),
        new("vsi_tx_multicast_packets", I40eRegs.GLV_MPTCL(v), true),
        new("vsi_tx_broadcast_packets", I40eRegs.GLV_BPTCL(v), true),
    ];

    /// <summary>Takes the current register values as zero.</summary>
    public void Reset(in Mmio regs)
    {
        lock (_lock)
        {
            foreach (Counter c in _counters)
            {
                c.Offset = Read(regs, c);
                c.Value = 0;
                c.Loaded = true;
            }
        }
    }

    /// <summary>Reads every register and updates the totals.</summary>
    public void Update(in Mmio regs)
    {
        lock (_lock)
        {
            foreach (Counter c in _counters)
            {
                ulong raw = Read(regs, c);
                if (!c.Loaded)
                {
                    c.Offset = raw;
                    c.Loaded = true;
                }
                ulong width = c.Wide ? 1UL << 48 : 1UL << 32;
                c.Value = raw >= c.Offset ? raw - c.Offset : raw + width - c.Offset;
            }
        }
    }

    private static ulong Read(in Mmio regs, Counter c) =>
        c.Wide ? regs.Read32(c.Low) | ((ulong)(regs.Read32(c.Low + 4) & 0xFFFF) << 32) : regs.Read32(c.Low);

    private ulong Get(string name)
    {
        foreach (Counter c in _counters)
        {
            if (c.Name == name)
                return c.Value;
        }
        return 0;
    }

    public ulong RxDropped
    {
        get
        {
            lock (_lock)
                return Get("rx_dropped_packets");
        }
    }

    public ulong ReceiveErrors
    {
        get
        {
            lock (_lock)
                return Get("rx_crc_errors") + Get("rx_length_errors") + Get("rx_undersize_errors") + Get("rx_oversize_errors");
        }
    }

    /// <summary>Named counters; byte counters without the CRC.</summary>
    public IEnumerable<XStat> Named()
    {
        lock (_lock)
        {
            var list = new List<XStat>(_counters.Length);
            foreach (Counter c in _counters)
            {
                ulong v = c.Value;
                if (c.Name.EndsWith("_bytes", System.StringComparison.Ordinal))
                {
                    string prefix = c.Name[..c.Name.LastIndexOf('_')];
                    ulong frames = Get(prefix + "_unicast_packets") + Get(prefix + "_multicast_packets") + Get(prefix + "_broadcast_packets");
                    v -= frames * Crc;
                }
                list.Add(new XStat(c.Name, v));
            }
            return list;
        }
    }
}
