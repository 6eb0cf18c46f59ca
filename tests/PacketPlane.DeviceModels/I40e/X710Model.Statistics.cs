using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

public sealed partial class X710Model
{
    /// <summary>A free-running counter (not cleared by reads), read as one 32-bit register or a 48-bit low/high pair.</summary>
    private sealed class FreeCounter(bool wide)
    {
        public ulong Value;

        public void Add(ulong n) => Value = (Value + n) & (wide ? 0xFFFF_FFFF_FFFFUL : 0xFFFF_FFFFUL);
    }

    private readonly FreeCounter _portRxBytes = new(true), _portRxUni = new(true), _portRxMulti = new(true), _portRxBroad = new(true);
    private readonly FreeCounter _portTxBytes = new(true), _portTxUni = new(true), _portTxMulti = new(true), _portTxBroad = new(true);
    private readonly FreeCounter _vsiRxBytes = new(true), _vsiRxUni = new(true), _vsiRxMulti = new(true), _vsiRxBroad = new(true);
    private readonly FreeCounter _vsiTxBytes = new(true), _vsiTxUni = new(true), _vsiTxMulti = new(true), _vsiTxBroad = new(true);
    private readonly FreeCounter _crcErrors = new(false), _lengthErrors = new(false), _undersize = new(false), _oversize = new(false), _rxDropped = new(false);

    private void DefineStatistics()
    {
        // Port 0 (GLPRT, 8 bytes per port) and the VSI's counter set (GLV, 8 bytes per index).
        Wide(0x00300000, "GLPRT_GORC[0]", _portRxBytes);
        Wide(0x003005A0, "GLPRT_UPRC[0]", _portRxUni);
        Wide(0x003005C0, "GLPRT_MPRC[0]", _portRxMulti);
        Wide(0x003005E0, "GLPRT_BPRC[0]", _portRxBroad);
        Wide(0x00300680, "GLPRT_GOTC[0]", _portTxBytes);
        Wide(0x003009C0, "GLPRT_UPTC[0]", _portTxUni);
        Wide(0x003009E0, "GLPRT_MPTC[0]", _portTxMulti);
        Wide(0x00300A00, "GLPRT_BPTC[0]", _portTxBroad);
        Narrow(0x00300080, "GLPRT_CRCERRS[0]", _crcErrors);
        Narrow(0x003000A0, "GLPRT_RLEC[0]", _lengthErrors);
        Narrow(0x00300100, "GLPRT_RUC[0]", _undersize);
        Narrow(0x00300120, "GLPRT_ROC[0]", _oversize);
        Narrow(0x00300600, "GLPRT_RDPC[0]", _rxDropped);
        int v = VsiStatIndex * 8;
        Wide(0x00358000 + v, $"GLV_GORC[{VsiStatIndex}]", _vsiRxBytes);
        Wide(0x0036C000 + v, $"GLV_UPRC[{VsiStatIndex}]", _vsiRxUni);
        Wide(0x0036CC00 + v, $"GLV_MPRC[{VsiStatIndex}]", _vsiRxMulti);
        Wide(0x0036D800 + v, $"GLV_BPRC[{VsiStatIndex}]", _vsiRxBroad);
        Wide(0x00328000 + v, $"GLV_GOTC[{VsiStatIndex}]", _vsiTxBytes);
        Wide(0x0033C000 + v, $"GLV_UPTC[{VsiStatIndex}]", _vsiTxUni);
        Wide(0x0033CC00 + v, $"GLV_MPTC[{VsiStatIndex}]", _vsiTxMulti);
        Wide(0x0033D800 + v, $"GLV_BPTC[{VsiStatIndex}]", _vsiTxBroad);
    }

    private void Wide(int low, string name, FreeCounter c)
    {
        Define(low, name + "L", 0, RegisterKind.ReadOnly).OnRead = () => (uint)c.Value;
        Define(low + 4, name + "H", 0, RegisterKind.ReadOnly).OnRead = () => (uint)(c.Value >> 32) & 0xFFFF;
    }

    private void Narrow(int offset, string name, FreeCounter c) =>
        Define(offset, name, 0, RegisterKind.ReadOnly).OnRead = () => (uint)c.Value;

    // ---- what the test can ask, independent of the registers ----

    /// <summary>Frames delivered into receive descriptors.</summary>
    public long FramesReceived { get; private set; }

    /// <summary>Bytes (without CRC) of those frames.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Frames taken from transmit descriptors onto the wire.</summary>
    public long FramesTransmitted { get; private set; }

    /// <summary>Bytes (without CRC) of those frames.</summary>
    public long BytesTransmitted { get; private set; }

    /// <summary>Frames the VSI's filters refused.</summary>
    public long FramesFiltered { get; private set; }

    /// <summary>Frames dropped because their queue had no descriptor.</summary>
    public long FramesDropped { get; private set; }

    /// <summary>Frames delivered per PF queue.</summary>
    public long[] FramesPerRxQueue { get; } = new long[Queues];
}
