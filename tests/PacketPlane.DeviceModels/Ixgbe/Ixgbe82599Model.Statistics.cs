using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.Ixgbe;

public sealed partial class Ixgbe82599Model
{
    /// <summary>A 36-bit counter read through a low (32-bit) and a high (4-bit) register, each clearing on its own read.</summary>
    private sealed class Counter36
    {
        public ulong Value;

        public void Add(ulong n) => Value = (Value + n) & 0xF_FFFF_FFFFUL;
    }

    private ModelRegister _crcerrs = null!, _illerrc = null!, _errbc = null!, _rlec = null!, _ruc = null!, _roc = null!, _rjc = null!;
    private ModelRegister _gprc = null!, _bprc = null!, _mprc = null!, _gptc = null!, _bptc = null!, _mptc = null!, _tpr = null!, _tpt = null!;
    private readonly ModelRegister[] _mpc = new ModelRegister[8];
    private readonly ModelRegister[] _qprc = new ModelRegister[Queues];
    private readonly ModelRegister[] _qptc = new ModelRegister[Queues];
    private readonly ModelRegister[] _qprdc = new ModelRegister[Queues];
    private readonly Counter36 _gorc = new(), _gotc = new(), _tor = new();
    private readonly Counter36[] _qbrc = new Counter36[Queues];
    private readonly Counter36[] _qbtc = new Counter36[Queues];

    /// <summary>8.2.3.23: every statistics register clears on read; writing one is a violation.</summary>
    private void DefineStatistics()
    {
        _crcerrs = Define(0x04000, "CRCERRS", 0, RegisterKind.ReadClear);
        _illerrc = Define(0x04004, "ILLERRC", 0, RegisterKind.ReadClear);
        _errbc = Define(0x04008, "ERRBC", 0, RegisterKind.ReadClear);
        for (int i = 0; i < 8; i++)
            _mpc[i] = Define(0x03FA0 + 4 * i, $"MPC[{i}]", 0, RegisterKind.ReadClear);
        _rlec = Define(0x04040, "RLEC", 0, RegisterKind.ReadClear);
        _gprc = Define(0x04074, "GPRC", 0, RegisterKind.ReadClear);
        _bprc = Define(0x04078, "BPRC", 0, RegisterKind.ReadClear);
        _mprc = Define(0x0407C, "MPRC", 0, RegisterKind.ReadClear);
        _gptc = Define(0x04080, "GPTC", 0, RegisterKind.ReadClear);
        Split(0x04088, 0x0408C, "GORC", _gorc);
        Split(0x04090, 0x04094, "GOTC", _gotc);
        _ruc = Define(0x040A4, "RUC", 0, RegisterKind.ReadClear);
        _roc = Define(0x040AC, "ROC", 0, RegisterKind.ReadClear);
        _rjc = Define(0x040B0, "RJC", 0, RegisterKind.ReadClear);
        Split(0x040C0, 0x040C4, "TOR", _tor);
        _tpr = Define(0x040D0, "TPR", 0, RegisterKind.ReadClear);
        _tpt = Define(0x040D4, "TPT", 0, RegisterKind.ReadClear);
        _mptc = Define(0x040F0, "MPTC", 0, RegisterKind.ReadClear);
        _bptc = Define(0x040F4, "BPTC", 0, RegisterKind.ReadClear);
        for (int i = 0; i < Queues; i++)
        {
            _qprc[i] = Define(0x01030 + 0x40 * i, $"QPRC[{i}]", 0, RegisterKind.ReadClear);
            _qprdc[i] = Define(0x01430 + 0x40 * i, $"QPRDC[{i}]", 0, RegisterKind.ReadClear);
            _qptc[i] = Define(0x06030 + 0x40 * i, $"QPTC[{i}]", 0, RegisterKind.ReadClear);
            _qbrc[i] = new Counter36();
            _qbtc[i] = new Counter36();
            Split(0x01034 + 0x40 * i, 0x01038 + 0x40 * i, $"QBRC[{i}]", _qbrc[i]);
            Split(0x08700 + 8 * i, 0x08704 + 8 * i, $"QBTC[{i}]", _qbtc[i]);
        }
    }

    private void Split(int low, int high, string name, Counter36 counter)
    {
        ModelRegister l = Define(low, name + "L", 0, RegisterKind.ReadClear);
        ModelRegister h = Define(high, name + "H", 0, RegisterKind.ReadClear);
        l.OnRead = () =>
        {
            uint v = (uint)counter.Value;
            counter.Value &= ~0xFFFF_FFFFUL;
            return v;
        };
        h.OnRead = () =>
        {
            uint v = (uint)(counter.Value >> 32) & 0xF;
            counter.Value &= 0xFFFF_FFFFUL;
            return v;
        };
    }

    private void ResetStatistics()
    {
        _gorc.Value = _gotc.Value = _tor.Value = 0;
        foreach (Counter36 c in _qbrc)
            c.Value = 0;
        foreach (Counter36 c in _qbtc)
            c.Value = 0;
    }

    // ---- what the test can ask (independent of the registers, for cross-checking the driver) ----

    /// <summary>Frames the device delivered into receive descriptors since creation.</summary>
    public long FramesReceived { get; private set; }

    /// <summary>Bytes (without CRC) of those frames.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Frames the device took from transmit descriptors and put on the wire (or looped back).</summary>
    public long FramesTransmitted { get; private set; }

    /// <summary>Bytes (without CRC) of those frames.</summary>
    public long BytesTransmitted { get; private set; }

    /// <summary>Frames dropped because their queue had no free descriptor and SRRCTL.DROP_EN was set.</summary>
    public long FramesDroppedNoDescriptor { get; private set; }

    /// <summary>Frames the address filter refused.</summary>
    public long FramesFiltered { get; private set; }

    /// <summary>Frames delivered per RX queue.</summary>
    public long[] FramesPerRxQueue { get; } = new long[Queues];
}
