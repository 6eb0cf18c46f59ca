using System;
using System.Collections.Generic;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

/// <summary>
/// A model of one X710 physical function (PF 0 on port 0, device id 0x1572), written from the X710/XXV710/XL710
/// datasheet (rev. 3.9) and the admin-queue command definitions Intel shares with its drivers (i40e_adminq_cmd.h):
/// <list type="bullet">
/// <item>reset and firmware status: GLGEN_RSTAT, GLNVM_ULD, PFGEN_CTRL.PFSWR (a PF reset restores the
/// registers whose reset domain is PFR, and the firmware's view of the PF);</item>
/// <item>the admin queue: commands on the send queue are executed and written back (DD, CMP, ERR, return code,
/// response parameters and buffers), events go to the receive queue;</item>
/// <item>the LAN HMC: segment and page descriptors are walked in host memory to reach the queue contexts, which
/// are decoded bit by bit when a queue is enabled;</item>
/// <item>queues: the QENA_REQ/QENA_STAT handshake, TX pre-queue-disable, tails as doorbells, 32-byte receive
/// write-back with RSS hash and packet type, transmit write-back of DTYPE 0xF on RS descriptors;</item>
/// <item>RSS: Toeplitz over the PFQF_HKEY key for the packet classifier types enabled in PFQF_HENA, the
/// PFQF_HLUT lookup table, the VSI's queue map; statistics: free-running 48-bit port and VSI counters.</item>
/// </list>
/// Not modelled: interrupts, VFs, VMDq, DCB, flow director, filters other than perfect MAC matches and promiscuous
/// modes, checksum/segmentation offloads, 16-byte receive descriptors, header split, head write-back.
/// </summary>
public sealed partial class X710Model : PciDeviceModel
{
    /// <summary>X710 SFP+ device id.</summary>
    public const ushort DeviceIdX710Sfp = 0x1572;

    /// <summary>LAN queue pairs given to the PF.</summary>
    public const int Queues = 64;

    /// <summary>The PF's VSI: its switch element id, VSI number and statistics counter index.</summary>
    public const ushort VsiSeid = 390;
    private const ushort VsiNumber = 3;
    private const ushort VsiStatIndex = 3;
    private const ushort VsiQsHandle = 8;

    private const int BarBytes = 0x400000;   // the registers the driver uses all lie below 4 MB

    private readonly IEthernetWire _wire;
    private readonly byte[] _mac;
    private int _rstatReads;
    private int _uldReads;

    /// <summary>Creates a powered-up X710 PF at <paramref name="address"/> whose NVM holds <paramref name="mac"/>.</summary>
    public X710Model(PciAddress address, IEthernetWire? wire = null, ReadOnlySpan<byte> mac = default)
        : base("X710", address, 0x8086, DeviceIdX710Sfp, 0x020000, BarBytes)
    {
        _wire = wire ?? new NullWire();
        _mac = mac.IsEmpty ? [0x3C, 0xFD, 0xFE, 0x71, 0x00, 0x10] : mac.ToArray();
        _rxBuffer = new PacketBuffer(256, 16384);
        DefineRegisters();
        PowerOn();
        StartPolling();
    }

    /// <summary>Whether a cable is attached (the firmware reports link up at 10 Gb/s).</summary>
    public bool CableConnected
    {
        get
        {
            lock (Gate)
                return _cable;
        }
        set
        {
            lock (Gate)
            {
                if (_cable != value)
                {
                    _cable = value;
                    PostLinkEvent();
                }
            }
        }
    }

    private bool _cable = true;

    /// <summary>Drop a frame at once when its queue has no descriptor (counted in GLPRT_RDPC) instead of holding it in the packet buffer.</summary>
    public bool DropWhenNoDescriptor { get; set; }

    /// <summary>Fault injection: queues never report QENA_STAT.</summary>
    public bool FaultQueueNeverEnables { get; set; }

    /// <summary>Fault injection: the firmware never answers admin commands.</summary>
    public bool FaultFirmwareSilent { get; set; }

    /// <summary>Fault injection: Get Version reports this admin API major version.</summary>
    public ushort ApiMajor { get; set; } = 1;

    /// <summary>The MAC address in the NVM.</summary>
    public ReadOnlySpan<byte> NvmMac => _mac;

    /// <inheritdoc/>
    protected override string RegisterChapter => "register description";

    /// <inheritdoc/>
    protected override double ScanIntervalMs => 50;

    private ModelRegister _rstat = null!, _uld = null!, _pfgenCtrl = null!, _qalloc = null!;
    private ModelRegister _atqBal = null!, _atqBah = null!, _atqLen = null!, _atqH = null!, _atqT = null!;
    private ModelRegister _arqBal = null!, _arqBah = null!, _arqLen = null!, _arqH = null!, _arqT = null!;
    private ModelRegister _sdCmd = null!, _sdLow = null!, _sdHigh = null!;
    private ModelRegister _txBase = null!, _txCnt = null!, _rxBase = null!, _rxCnt = null!;
    private ModelRegister _txPreQdis = null!, _pfqfCtl = null!;
    private readonly ModelRegister[] _hkey = new ModelRegister[13];
    private readonly ModelRegister[] _hlut = new ModelRegister[128];
    private readonly ModelRegister[] _hena = new ModelRegister[2];

    private void DefineRegisters()
    {
        // Reset and firmware status.
        _rstat = Define(0x000B8188, "GLGEN_RSTAT", 0, RegisterKind.ReadOnly);
        _rstat.OnRead = () => _rstatReads++ == 0 ? 0x1u : 0u; // a reset still settling on the very first look
        _uld = Define(0x000B6008, "GLNVM_ULD", 0x18, RegisterKind.ReadOnly);
        _uld.OnRead = () => _uldReads++ == 0 ? 0u : 0x18u;     // CONF_CORE_DONE | CONF_GLOBAL_DONE
        Define(0x000B612C, "GLGEN_STAT", 0, RegisterKind.ReadOnly);
        _pfgenCtrl = Define(0x00092400, "PFGEN_CTRL", 0);
        _pfgenCtrl.OnWrite = OnPfgenCtrlWrite;
        Define(0x0009C000, "PF_FUNC_RID", 0, RegisterKind.ReadOnly);   // PF 0
        Define(0x001C0480, "PFGEN_PORTNUM", 0, RegisterKind.ReadOnly); // port 0
        _qalloc = Define(0x001C0400, "PFLAN_QALLOC", 0x80000000u | ((Queues - 1u) << 16), RegisterKind.ReadOnly);
        Define(0x0012A500, "GLLAN_RCTL_0", 0);
        Define(0x00038800, "PFINT_ICR0_ENA", 0);
        Define(0x00038480, "PFINT_DYN_CTL0", 0);
        DefineAdminQueueRegisters();
        DefineHmcRegisters();
        DefineQueueRegisters();
        // RSS
        for (int i = 0; i < 13; i++)
            _hkey[i] = Define(0x00244800 + i * 128, $"PFQF_HKEY[{i}]", 0);
        for (int i = 0; i < 128; i++)
            _hlut[i] = Define(0x00240000 + i * 128, $"PFQF_HLUT[{i}]", 0);
        for (int i = 0; i < 2; i++)
            _hena[i] = Define(0x00245900 + i * 128, $"PFQF_HENA[{i}]", 0);
        _pfqfCtl = Define(0x001C0AC0, "PFQF_CTL_0", 0);
        DefineStatistics();
    }

    private void PowerOn()
    {
        ResetRegisters();
        _rstatReads = 0;
        _uldReads = 0;
        PfReset();
    }

    /// <summary>PFGEN_CTRL.PFSWR: a PF software reset, self-clearing once done.</summary>
    private void OnPfgenCtrlWrite(uint value)
    {
        if ((value & 1) == 0)
            return;
        PfReset();
        DeviceUpdate(_pfgenCtrl, value & ~1u);
    }

    /// <summary>
    /// What a PF reset restores (the registers whose reset domain is PFR: queue enables, TX tails, the HMC segment
    /// registers, PFGEN_CTRL, PFINT_DYN_CTL0) and the firmware's per-PF state (VSI queue map, filters, promiscuous
    /// modes). The admin queue registers belong to the EMP reset domain and survive it.
    /// </summary>
    private void PfReset()
    {
        ResetQueues();
        ResetHmc();
        for (int q = 0; q < Queues; q++)
        {
            DeviceUpdate(_rxq[q].Ena, 0);
            DeviceUpdate(_txq[q].Ena, 0);
            DeviceUpdate(_txq[q].Tail, 0);
        }
        DeviceUpdate(_sdCmd, 0);
        DeviceUpdate(_sdLow, 0);
        DeviceUpdate(_sdHigh, 0);
        _vsiQueueBase = 0;
        _vsiQueueCount = 1;
        _promiscuous = 0;
        _macFilters.Clear();
        _macFilters.Add(MacKey(_mac));
        _maxFrame = 9728;
        _pxeCleared = false;
        _rxBuffer.Clear();
    }

    /// <inheritdoc/>
    protected override void OnReleased()
    {
        for (int q = 0; q < Queues; q++)
        {
            if (_rxq[q].Enabled)
                Violation("LAN receive queue disable", $"the driver released the device with RX queue {q} still enabled");
            if (_txq[q].Enabled)
                Violation("LAN transmit queue disable", $"the driver released the device with TX queue {q} still enabled");
        }
        if ((_atqLen.Value & 0x80000000u) != 0)
            Violation("admin queue", "the driver released the device with its admin send queue still enabled (PF_ATQLEN.ATQENABLE)");
    }

    private static ulong MacKey(ReadOnlySpan<byte> mac) =>
        (ulong)mac[0] << 40 | (ulong)mac[1] << 32 | (ulong)mac[2] << 24 | (ulong)mac[3] << 16 | (ulong)mac[4] << 8 | mac[5];

    // The firmware's view of the PF.
    private int _vsiQueueBase;
    private int _vsiQueueCount = 1;
    private ushort _promiscuous;
    private readonly HashSet<ulong> _macFilters = new();
    private int _maxFrame = 9728;
    private bool _pxeCleared;
    private bool _linkEvents;
}
