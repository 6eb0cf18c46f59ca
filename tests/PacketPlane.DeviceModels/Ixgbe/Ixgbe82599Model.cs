using System;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.Ixgbe;

/// <summary>
/// A model of one Intel 82599 port (X520, SFP+ device id 0x10FB), written from the 82599 datasheet (rev. 3.3):
/// the registers the ixgbe driver uses behave as chapter 8.2.3 specifies (self-clearing reset and autonegotiation
/// restart, clear-on-read statistics, RXDCTL/TXDCTL enable bits that read back set only once the queue is on,
/// EEPROM auto-read and DMA-init done bits that read 0 on the first read after a reset), and the datapath follows
/// chapter 7: advanced receive descriptors (7.1.6) filled in ring order from RDH while RDH != RDT (7.1.9), with the
/// RSS hash computed by Toeplitz over the frame (7.1.2.8) and the queue taken from the redirection table; advanced
/// transmit data descriptors (7.2.3.2.4) consumed up to TDT, with DD written back for descriptors with RS
/// (7.2.3.5, WTHRESH = 0). HLREG0.LPBK loops transmitted frames back to receive. Frames come from and go to an
/// <see cref="IEthernetWire"/> (a generator, a TAP interface).
/// <para>Not modelled: interrupts beyond their mask registers, flow control, DCB, virtualisation, Flow Director,
/// checksum and segmentation offloads, VLAN stripping, header split, RSC, the multicast table (multicast frames are
/// accepted only with FCTRL.MPE).</para>
/// </summary>
public sealed partial class Ixgbe82599Model : PciDeviceModel
{
    /// <summary>82599 SFP+ device id.</summary>
    public const ushort DeviceId82599Sfp = 0x10FB;

    /// <summary>Queues modelled (the driver's RSS limit).</summary>
    public const int Queues = 16;

    private const int BarBytes = 0x20000; // 128 KB memory BAR

    private readonly IEthernetWire _wire;
    private readonly byte[] _mac;
    private bool _everMasked;     // EIMC written with every cause masked since power-on or reset
    private int _eecReadsSinceReset;
    private int _dmaReadsSinceReset;
    private bool _anRestarted;
    private int _linkPolls;

    /// <summary>Creates a powered-up 82599 at <paramref name="address"/> whose EEPROM holds <paramref name="mac"/>.</summary>
    public Ixgbe82599Model(PciAddress address, IEthernetWire? wire = null, ReadOnlySpan<byte> mac = default)
        : base("82599", address, 0x8086, DeviceId82599Sfp, 0x020000, BarBytes)
    {
        _wire = wire ?? new NullWire();
        _mac = mac.IsEmpty ? [0x00, 0x1B, 0x21, 0x82, 0x59, 0x90] : mac.ToArray();
        _rxBuffer = new PacketBuffer(256, 16384);
        DefineRegisters();
        PowerOnReset();
        StartPolling();
    }

    /// <summary>Whether a cable (and link partner) is attached; without one the link stays down unless forced (AUTOC.FLU).</summary>
    public bool CableConnected { get; set; } = true;

    /// <summary>Fault injection: CTRL.RST never clears (a device that does not come out of reset).</summary>
    public bool FaultResetNeverCompletes { get; set; }

    /// <summary>Fault injection: RXDCTL/TXDCTL.ENABLE never reads back set (a queue that does not come on).</summary>
    public bool FaultQueueEnableNeverLatches { get; set; }

    /// <summary>The MAC address the EEPROM loads into RAL/RAH[0].</summary>
    public ReadOnlySpan<byte> EepromMac => _mac;

    /// <inheritdoc/>
    protected override string RegisterChapter => "8.2.3";

    // ---- register map (chapter 8.2.3) ----

    private ModelRegister _ctrl = null!, _ctrlExt = null!, _eec = null!, _eicr = null!, _eims = null!, _eimc = null!;
    private ModelRegister _rdrxctl = null!, _rxctrl = null!, _rxcsum = null!, _fctrl = null!, _mrqc = null!;
    private ModelRegister _hlreg0 = null!, _maxfrs = null!, _autoc = null!, _autoc2 = null!, _links = null!;
    private ModelRegister _dmatxctl = null!, _rttdcs = null!;
    private readonly ModelRegister[] _rxpbsize = new ModelRegister[8];
    private readonly ModelRegister[] _ral = new ModelRegister[16];
    private readonly ModelRegister[] _rah = new ModelRegister[16];
    private readonly ModelRegister[] _reta = new ModelRegister[32];
    private readonly ModelRegister[] _rssrk = new ModelRegister[10];
    private readonly ModelRegister[] _rqsmr = new ModelRegister[32];
    private readonly ModelRegister[] _tqsm = new ModelRegister[32];

    private void DefineRegisters()
    {
        // 8.2.3.1 general control
        _ctrl = Define(0x00000, "CTRL", 0);
        _ctrl.OnWrite = OnCtrlWrite;
        Define(0x00008, "STATUS", 0, RegisterKind.ReadOnly);
        _ctrlExt = Define(0x00018, "CTRL_EXT", 0);
        // 8.2.3.2 EEPROM: EE_PRES (8) and ARD (9) are read-only status
        _eec = Define(0x10010, "EEC", 0x300, RegisterKind.ReadWrite, readOnlyBits: 0x300);
        _eec.OnRead = () => _eecReadsSinceReset++ == 0 ? _eec.Value & ~0x200u : _eec.Value;
        // 8.2.3.5 interrupts
        _eicr = Define(0x00800, "EICR", 0);
        _eicr.OnRead = () =>
        {
            uint v = _eicr.Value;
            _eicr.Value = 0; // clear on read in the non-auto-clear configuration the driver uses
            return v;
        };
        _eims = Define(0x00880, "EIMS", 0);
        _eimc = Define(0x00888, "EIMC", 0);
        _eimc.OnWrite = v =>
        {
            _eims.Value &= ~v;
            if (v == 0xFFFFFFFF)
                _everMasked = true;
        };
        // 8.2.3.8 receive DMA (global)
        _rdrxctl = Define(0x02F00, "RDRXCTL", RdrxctlReset, RegisterKind.ReadWrite, readOnlyBits: RDRXCTL_DMAIDONE);
        _rdrxctl.OnRead = () => _dmaReadsSinceReset++ == 0 ? _rdrxctl.Value & ~RDRXCTL_DMAIDONE : _rdrxctl.Value;
        for (int i = 0; i < 8; i++)
            _rxpbsize[i] = Define(0x03C00 + 4 * i, $"RXPBSIZE[{i}]", i == 0 ? 0x00080000u : 0);
        _rxctrl = Define(0x03000, "RXCTRL", 0);
        _rxctrl.OnWrite = OnRxctrlWrite;
        // 8.2.3.7 receive filters and RSS
        _rxcsum = Define(0x05000, "RXCSUM", 0);
        _fctrl = Define(0x05080, "FCTRL", 0);
        for (int i = 0; i < 16; i++)
        {
            _ral[i] = Define(0x05400 + 8 * i, $"RAL[{i}]", 0);
            _rah[i] = Define(0x05404 + 8 * i, $"RAH[{i}]", 0);
        }
        _mrqc = Define(0x05818, "MRQC", 0);
        for (int i = 0; i < 32; i++)
            _reta[i] = Define(0x05C00 + 4 * i, $"RETA[{i}]", 0);
        for (int i = 0; i < 10; i++)
            _rssrk[i] = Define(0x05C80 + 4 * i, $"RSSRK[{i}]", 0);
        // 8.2.3.9 transmit (global)
        _dmatxctl = Define(0x04A80, "DMATXCTL", 0);
        _rttdcs = Define(0x04900, "RTTDCS", 0x40); // DCB arbiter starts disabled (ARBDIS)
        Define(0x08100, "DTXMXSZRQ", 0x10);
        for (int i = 0; i < 8; i++)
            Define(0x0CC00 + 4 * i, $"TXPBSIZE[{i}]", i == 0 ? 0x00028000u : 0);
        // 8.2.3.22 MAC
        _hlreg0 = Define(0x04240, "HLREG0", 0);
        _maxfrs = Define(0x04268, "MAXFRS", 1518u << 16);
        _autoc = Define(0x042A0, "AUTOC", 0);
        _autoc.OnWrite = OnAutocWrite;
        _links = Define(0x042A4, "LINKS", 0, RegisterKind.ReadOnly);
        _links.OnRead = ReadLinks;
        _autoc2 = Define(0x042A8, "AUTOC2", 0);
        // 8.2.3.10 queue statistic mapping
        for (int i = 0; i < 32; i++)
        {
            _rqsmr[i] = Define(0x02300 + 4 * i, $"RQSMR[{i}]", 0);
            _tqsm[i] = Define(0x08600 + 4 * i, $"TQSM[{i}]", 0);
        }
        DefineQueues();
        DefineStatistics();
    }

    private const uint RDRXCTL_CRCSTRIP = 1u << 1;
    private const uint RDRXCTL_DMAIDONE = 1u << 3;
    private const uint RDRXCTL_RSCFRSTSIZE = 0x003E0000;
    // Assumed reset: DMA init done and a non-zero RSC first-size field, which 4.6.7 tells software to clear.
    private const uint RdrxctlReset = RDRXCTL_DMAIDONE | (0x8u << 17);

    // ---- reset and link (4.6.3) ----

    private void PowerOnReset()
    {
        ResetRegisters();
        _ral[0].Value = (uint)(_mac[0] | _mac[1] << 8 | _mac[2] << 16 | _mac[3] << 24);
        _rah[0].Value = (uint)(_mac[4] | _mac[5] << 8) | 0x80000000u; // AV
        _eecReadsSinceReset = 0;
        _dmaReadsSinceReset = 0;
        _anRestarted = false;
        _linkPolls = 0;
        ResetQueues();
        ResetStatistics();
        _rxBuffer.Clear();
        _everMasked = false;
    }

    private void OnCtrlWrite(uint value)
    {
        const uint LNK_RST = 1u << 3, RST = 1u << 26;
        if ((value & (LNK_RST | RST)) == 0)
            return;
        // 4.6.3.1: interrupts must be masked before the reset.
        SyncRegister(_eimc);
        if (!_everMasked)
            Violation("4.6.3.1", "global reset (CTRL.RST) issued before all interrupts were masked through EIMC");
        if (FaultResetNeverCompletes)
        {
            _ctrl.Value = value; // stuck: the self-clearing bits stay set
            return;
        }
        // The reset restores every register and forgets the rings; RST and LNK_RST clear themselves when done.
        PowerOnReset();
        _everMasked = true; // EIMS resets to 0: every cause masked
    }

    private void OnAutocWrite(uint value)
    {
        const uint AN_RESTART = 1u << 12;
        if ((value & AN_RESTART) != 0)
        {
            _anRestarted = true;
            _linkPolls = 0;
        }
        _autoc.Value = value & ~AN_RESTART; // self-clearing
    }

    private uint ReadLinks()
    {
        // Autonegotiation takes a moment: the link reads down on the first LINKS read after the restart.
        if (Negotiated() && _linkPolls++ == 0)
            return 0;
        return IsLinkUp() ? (1u << 30) | (0x3u << 28) : 0; // LINKS.UP, speed 10 Gb/s
    }

    private bool Forced()
    {
        const uint FLU = 1u << 0, LMS_MASK = 0x7u << 13, LMS_10G_NO_AN = 0x1u << 13;
        return (_autoc.Value & FLU) != 0 && (_autoc.Value & LMS_MASK) == LMS_10G_NO_AN;
    }

    private bool Negotiated()
    {
        const uint LMS_MASK = 0x7u << 13, LMS_10G_SERIAL = 0x3u << 13, PMA_MASK = 0x3u << 16, SFI = 0x2u << 16;
        return CableConnected && _anRestarted && (_autoc.Value & LMS_MASK) == LMS_10G_SERIAL && (_autoc2.Value & PMA_MASK) == SFI;
    }

    private bool IsLinkUp() => Forced() || Negotiated();

    /// <summary>True when the link is up (negotiated on a connected cable, or forced by AUTOC.FLU).</summary>
    public bool LinkUp
    {
        get
        {
            lock (Gate)
                return IsLinkUp();
        }
    }

    private void OnRxctrlWrite(uint value)
    {
        if ((value & 1) == 0)
            return;
        // 4.6.7: CRC stripping must be set the same way in HLREG0 and RDRXCTL, and RSCFRSTSIZE cleared, before receive is enabled.
        bool hlStrip = (_hlreg0.Value & (1u << 1)) != 0;
        bool rdStrip = (_rdrxctl.Value & RDRXCTL_CRCSTRIP) != 0;
        if (hlStrip != rdStrip)
            Violation("4.6.7", "RXCTRL.RXEN set while HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP disagree");
        if ((_rdrxctl.Value & RDRXCTL_RSCFRSTSIZE) != 0)
            Violation("4.6.7", "RXCTRL.RXEN set while RDRXCTL.RSCFRSTSIZE is not 0");
    }

    /// <inheritdoc/>
    protected override void OnReleased()
    {
        for (int q = 0; q < Queues; q++)
        {
            if (_rxq[q].Enabled)
                Violation("4.6.7.1", $"the driver released the device with RX queue {q} still enabled (the device could still write to its buffers)");
            if (_txq[q].Enabled)
                Violation("4.6.8.1", $"the driver released the device with TX queue {q} still enabled");
        }
    }
}
