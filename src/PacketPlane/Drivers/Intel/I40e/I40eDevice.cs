using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// The X710/XL710 poll-mode driver. The X710 is run by its firmware: after the PF reset and the firmware-ready wait,
/// everything goes through the admin queue (firmware version, capabilities, the PF's VSI and its queue map, filters,
/// link), and the queue contexts are written into host memory the driver hands the device through the HMC. Queues
/// are then enabled with the request/status handshake on QRX_ENA/QTX_ENA. RSS is programmed directly into the PF's
/// key and lookup-table registers.
/// </summary>
internal sealed unsafe class I40eDevice : EthDevice
{
    public const int MaxQueues = 64;
    private const int EthernetOverhead = 18;
    private const int ApiMajorSupported = 1;
    private static readonly TimeSpan ResetTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(1);

    private readonly IPciFunction _pci;
    private readonly Mmio _regs;
    private readonly ILogger _log = Log.For("PacketPlane.Drivers.I40e");
    private readonly RxPath _rxPathRequest;
    private readonly object _adminLock = new();
    private readonly AdminQueue _aq;
    private readonly AdminCommands _cmd;
    private readonly LanHmc _hmc;
    private readonly I40eStats _stats;
    private readonly int _pf;
    private readonly int _port;
    private readonly FunctionCapabilities _caps;
    private readonly VsiInfo _vsi;
    private I40eRxQueue?[] _rx = [];
    private I40eTxQueue?[] _tx = [];
    private EthConf _conf = new();
    private MacAddress _mac;
    private bool _promiscuous;
    private bool _allMulticast;
    private bool _started;

    public I40eDevice(string name, IPciFunction pci, RxPath rxPath) : base(name)
    {
        if (rxPath == RxPath.Vector)
            throw new DeviceArgumentException($"{name}: the i40e driver has scalar and bulk receive paths; rx_path=vector is only available on ixgbe");
        _pci = pci;
        _rxPathRequest = rxPath == RxPath.Auto ? RxPath.Bulk : rxPath;
        _regs = Mmio.Map(pci, 0, _log);
        pci.EnableBusMaster();
        ResetPf();
        _pf = (int)(_regs.Read32(I40eRegs.PF_FUNC_RID) & I40eRegs.PF_FUNC_RID_FUNCTION_NUMBER_MASK);
        _port = (int)(_regs.Read32(I40eRegs.PFGEN_PORTNUM) & I40eRegs.PFGEN_PORTNUM_PORT_NUM_MASK);
        DisableInterrupts();
        _aq = new AdminQueue(pci, _regs, _log, pci.NumaNode);
        try
        {
            _aq.Enable();
            _cmd = new AdminCommands(_aq);
            CheckFirmware();
            _cmd.ClearPxeMode();
            _regs.Write32(I40eRegs.GLLAN_RCTL_0, 1);
            _caps = _cmd.DiscoverCapabilities();
            CheckQueueAllocation();
            _hmc = LanHmc.Create(pci, _regs, _pf, _caps.TxQueues, _caps.RxQueues, pci.NumaNode, _log);
            _mac = _cmd.ReadMacAddress();
            _vsi = _cmd.GetVsi(_cmd.FindMainVsi());
            _stats = new I40eStats(_port, _vsi.StatCounterIndex);
            _stats.Reset(_regs);
        }
        catch
        {
            _hmc?.Dispose();
            _aq.Dispose();
            throw;
        }
        int queues = Math.Min(MaxQueues, Math.Min(_caps.RxQueues, _caps.TxQueues));
        Info = new DevInfo
        {
            DriverName = I40eDriverInfo.Name,
            MaxRxQueues = queues,
            MaxTxQueues = queues,
            MaxRxPacketLength = 9728,
            MaxMtu = 9728 - EthernetOverhead,
            RxOffloadCapabilities = RxOffloads.RssHash,
            RssCapabilities = RssHashFunctions.Ipv4 | RssHashFunctions.FragIpv4 | RssHashFunctions.NonFragIpv4Other |
                RssHashFunctions.NonFragIpv4Tcp | RssHashFunctions.NonFragIpv4Udp | RssHashFunctions.Ipv6 |
                RssHashFunctions.FragIpv6 | RssHashFunctions.NonFragIpv6Other | RssHashFunctions.NonFragIpv6Tcp |
                RssHashFunctions.NonFragIpv6Udp,
            RssKeySize = I40eRegs.HKEY_REGISTERS * 4,
            RedirectionTableSize = I40eRegs.HLUT_REGISTERS * 4,
            RxDescriptorLimits = new DescriptorLimits(64, 4096, 32),
            TxDescriptorLimits = new DescriptorLimits(64, 4096, 32),
            Mode = $"X710 {pci.Address} PF {_pf} port {_port}",
        };
        _log.LogInformation("{Device}: PF {Pf} port {Port}, MAC {Mac}, VSI {Vsi} (SEID {Seid}), {Rx} RX / {Tx} TX queues from queue {Base}",
            pci.Address, _pf, _port, _mac, _vsi.VsiNumber, _vsi.Seid, _caps.RxQueues, _caps.TxQueues, _caps.BaseQueue);
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    // ---- reset and firmware ----

    /// <summary>
    /// PF reset: wait for any global reset to finish (GLGEN_RSTAT.DEVSTATE back to 0) and for the firmware to have
    /// loaded its configuration (GLNVM_ULD core and global done), then the PF software reset (PFGEN_CTRL.PFSWR,
    /// self-clearing). The sequence DPDK's i40e_pf_reset follows.
    /// </summary>
    private void ResetPf()
    {
        _log.LogInformation("{Device}: PF reset of X710 {Vendor:x4}:{DeviceId:x4}", _pci.Address, _pci.VendorId, _pci.DeviceId);
        _regs.WaitClear32(I40eRegs.GLGEN_RSTAT, I40eRegs.GLGEN_RSTAT_DEVSTATE_MASK, ResetTimeout);
        _regs.WaitSet32(I40eRegs.GLNVM_ULD, I40eRegs.GLNVM_ULD_CONF_CORE_DONE | I40eRegs.GLNVM_ULD_CONF_GLOBAL_DONE, ResetTimeout);
        _regs.Set32(I40eRegs.PFGEN_CTRL, I40eRegs.PFGEN_CTRL_PFSWR);
        _regs.WaitClear32(I40eRegs.PFGEN_CTRL, I40eRegs.PFGEN_CTRL_PFSWR, ResetTimeout);
    }

    private void DisableInterrupts()
    {
        // Polled: no "other" causes, and the PF's interrupt 0 left disabled.
        _regs.Write32(I40eRegs.PFINT_ICR0_ENA, 0);
        _regs.Write32(I40eRegs.PFINT_DYN_CTL0, I40eRegs.PFINT_DYN_CTL0_ITR_INDX_NONE);
        _regs.Flush(I40eRegs.GLGEN_STAT);
    }

    /// <summary>Get Version, retried while the firmware finishes starting (DPDK retries too); the API major must be ours.</summary>
    private void CheckFirmware()
    {
        FirmwareVersion v = default;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                v = _cmd.GetVersion();
                break;
            }
            catch (EthDevException) when (attempt < 4)
            {
                Thread.Sleep(100);
            }
        }
        _log.LogInformation("{Device}: {Version}", _pci.Address, v);
        if (v.ApiMajor != ApiMajorSupported)
        {
            throw new EthDevException($"{_pci.Address}: the firmware speaks admin API {v.ApiMajor}.{v.ApiMinor}; this driver speaks {ApiMajorSupported}.x. " +
                (v.ApiMajor > ApiMajorSupported ? "Update PacketPlane" : "Update the NIC's NVM/firmware (Intel nvmupdate64e)"));
        }
    }

    private void CheckQueueAllocation()
    {
        uint qalloc = _regs.Read32(I40eRegs.PFLAN_QALLOC);
        if ((qalloc & I40eRegs.PFLAN_QALLOC_VALID) == 0 || _caps.RxQueues == 0 || _caps.TxQueues == 0)
            throw new EthDevException($"{_pci.Address}: the firmware gave this PF no LAN queues (PFLAN_QALLOC 0x{qalloc:x8}, capabilities {_caps.RxQueues} RX / {_caps.TxQueues} TX)");
    }

    // ---- configuration ----

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        if (conf.RssKey is ReadOnlyMemory<byte> key && key.Length != Info.RssKeySize)
            throw new EthDevException($"{Name}: the X710 RSS key is {Info.RssKeySize} bytes, {key.Length} given");
        if (conf.Loopback)
            throw new EthDevException($"{Name}: loopback is not supported by the i40e driver (the X710 sets it through firmware commands this driver does not issue); use a cable or the ixgbe driver");
        _conf = conf;
        _rx = new I40eRxQueue?[rxQueues];
        _tx = new I40eTxQueue?[txQueues];
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        RequirePowerOfTwo("RX", descriptors);
        int buffer = (pool.DataRoomSize - pool.Headroom) & ~127;
        if (buffer < 1024)
        {
            throw new EthDevException($"{Name}: pool '{pool.Name}' has {pool.DataRoomSize - pool.Headroom} data bytes per mbuf after headroom; " +
                "the X710 takes receive buffers in 128-byte units and this driver wants at least 1024 (default data room 2048 + 128)");
        }
        _pci.MapDma(pool.Region);
        DmaMemory ring = DmaMemory.Allocate(_pci, $"{Name}_rx{queueId}", descriptors * 32, numaNode, 0xFF);
        var q = new I40eRxQueue(portId, queueId, descriptors, pool, conf, ring, _regs);
        _rx[queueId] = q;
        return q;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        RequirePowerOfTwo("TX", descriptors);
        DmaMemory ring = DmaMemory.Allocate(_pci, $"{Name}_tx{queueId}", descriptors * 16, numaNode, 0);
        try
        {
            var q = new I40eTxQueue(portId, queueId, descriptors, conf, ring, _regs);
            _tx[queueId] = q;
            return q;
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    private void RequirePowerOfTwo(string kind, int descriptors)
    {
        if (descriptors < 64 || (descriptors & (descriptors - 1)) != 0)
            throw new EthDevException($"{Name}: {descriptors} {kind} descriptors requested; this driver takes a power of two from 64 to 4096 (e.g. 512, 1024)");
    }

    // ---- start ----

    public override void Start()
    {
        int frame = Mtu + EthernetOverhead;
        foreach (I40eRxQueue q in _rx.Select(q => q!))
        {
            if (q.BufferBytes < frame)
            {
                throw new EthDevException($"{Name}: MTU {Mtu} needs {frame}-byte frames but RX queue {q.QueueId}'s buffers hold {q.BufferBytes} bytes " +
                    "and this driver does not chain buffers (no scatter); use a pool with a larger data room or a smaller MTU");
            }
        }
        lock (_adminLock)
        {
            // The VSI owns PF queues 0..2^n-1 (TC 0), so the RSS table can name them directly.
            _cmd.MapQueues(_vsi.Seid, Math.Max(_rx.Length, _tx.Length));
            _cmd.SetMacConfig(frame);
            ApplyPromiscuous();
        }
        ConfigureRss();
        foreach (I40eTxQueue q in _tx.Select(q => q!))
            StartTxQueue(q);
        foreach (I40eRxQueue q in _rx.Select(q => q!))
            StartRxQueue(q);
        _started = true;
    }

    /// <summary>
    /// RSS: the 52-byte key into PFQF_HKEY (byte 0 in bits 7:0 of the first register), a 512-entry lookup table of
    /// queue indexes dealt round-robin (entry i in byte i), the hashed packet classifier types in PFQF_HENA.
    /// </summary>
    private void ConfigureRss()
    {
        if (!_conf.RssEnabled || _rx.Length < 2)
        {
            _regs.Write32(I40eRegs.PFQF_HENA(0), 0);
            _regs.Write32(I40eRegs.PFQF_HENA(1), 0);
            return;
        }
        ReadOnlySpan<byte> key = _conf.RssKey is ReadOnlyMemory<byte> k ? k.Span : IntelRss.DefaultKey52;
        for (int i = 0; i < I40eRegs.HKEY_REGISTERS; i++)
            _regs.Write32(I40eRegs.PFQF_HKEY(i), (uint)(key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 | key[4 * i + 3] << 24));
        _regs.Set32(I40eRegs.PFQF_CTL_0, I40eRegs.PFQF_CTL_0_HASHLUTSIZE_512);
        for (int reg = 0; reg < I40eRegs.HLUT_REGISTERS; reg++)
        {
            uint value = 0;
            for (int b = 0; b < 4; b++)
                value |= (uint)((reg * 4 + b) % _rx.Length) << (8 * b);
            _regs.Write32(I40eRegs.PFQF_HLUT(reg), value);
        }
        ulong hena = HashEnable(_conf.RssHashFunctions);
        _regs.Write32(I40eRegs.PFQF_HENA(0), (uint)hena);
        _regs.Write32(I40eRegs.PFQF_HENA(1), (uint)(hena >> 32));
    }

    private static ulong HashEnable(RssHashFunctions f)
    {
        ulong m = 0;
        if ((f & RssHashFunctions.NonFragIpv4Udp) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV4_UDP;
        if ((f & RssHashFunctions.NonFragIpv4Tcp) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV4_TCP;
        if ((f & (RssHashFunctions.Ipv4 | RssHashFunctions.NonFragIpv4Other)) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV4_OTHER;
        if ((f & (RssHashFunctions.Ipv4 | RssHashFunctions.FragIpv4)) != 0)
            m |= 1UL << I40eRegs.PCTYPE_FRAG_IPV4;
        if ((f & RssHashFunctions.NonFragIpv6Udp) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV6_UDP;
        if ((f & RssHashFunctions.NonFragIpv6Tcp) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV6_TCP;
        if ((f & (RssHashFunctions.Ipv6 | RssHashFunctions.NonFragIpv6Other)) != 0)
            m |= 1UL << I40eRegs.PCTYPE_NONF_IPV6_OTHER;
        if ((f & (RssHashFunctions.Ipv6 | RssHashFunctions.FragIpv6)) != 0)
            m |= 1UL << I40eRegs.PCTYPE_FRAG_IPV6;
        return m;
    }

    private void StartTxQueue(I40eTxQueue q)
    {
        int i = q.QueueId;
        q.Arm();
        // Context: a new context, ring base in 128-byte units, length, and the VSI's queue set for scheduling.
        Span<byte> ctx = _hmc.TxContext(i);
        ctx.Clear();
        QueueContext.Set(ctx, QueueContext.TxNewContext, 1, 1);
        QueueContext.Set(ctx, QueueContext.TxBase, QueueContext.TxBaseWidth, q.RingIova / I40eDesc.QueueBaseUnit);
        QueueContext.Set(ctx, QueueContext.TxQlen, QueueContext.TxQlenWidth, q.Count);
        QueueContext.Set(ctx, QueueContext.TxRdylist, QueueContext.TxRdylistWidth, _vsi.QsHandle);
        // The queue belongs to this PF, and starts empty (a tail left from an earlier run would hand the device
        // descriptors that are not there any more).
        _regs.Write32(I40eRegs.QTX_CTL(i), I40eRegs.QTX_CTL_PF_QUEUE | ((uint)_pf << I40eRegs.QTX_CTL_PF_INDX_SHIFT));
        _regs.Write32(I40eRegs.QTX_TAIL(i), 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
        // Announce the enable (clear the pre-queue-disable of the queue's absolute index), then the handshake:
        // no request pending, head to 0, QENA_REQ, wait for QENA_STAT.
        PreTxQueueConfig(i, enable: true);
        WaitNoPendingRequest(I40eRegs.QTX_ENA(i));
        _regs.Write32(I40eRegs.QTX_HEAD(i), 0);
        _regs.Set32(I40eRegs.QTX_ENA(i), I40eRegs.QENA_REQ);
        _regs.WaitSet32(I40eRegs.QTX_ENA(i), I40eRegs.QENA_STAT, QueueTimeout);
    }

    private void StartRxQueue(I40eRxQueue q)
    {
        int i = q.QueueId;
        q.Arm(_rxPathRequest);
        Span<byte> ctx = _hmc.RxContext(i);
        ctx.Clear();
        QueueContext.Set(ctx, QueueContext.RxBase, QueueContext.RxBaseWidth, q.RingIova / I40eDesc.QueueBaseUnit);
        QueueContext.Set(ctx, QueueContext.RxQlen, QueueContext.RxQlenWidth, q.Count);
        QueueContext.Set(ctx, QueueContext.RxDbuff, QueueContext.RxDbuffWidth, q.BufferBytes >> 7);
        QueueContext.Set(ctx, QueueContext.RxDsize, 1, 1);      // 32-byte descriptors
        QueueContext.Set(ctx, QueueContext.RxCrcStrip, 1, 1);
        QueueContext.Set(ctx, QueueContext.RxL2tsel, 1, 1);
        QueueContext.Set(ctx, QueueContext.RxRxmax, QueueContext.RxRxmaxWidth, (ulong)(Mtu + EthernetOverhead));
        QueueContext.Set(ctx, QueueContext.RxLrxqthresh, QueueContext.RxLrxqthreshWidth, 2);
        QueueContext.Set(ctx, QueueContext.RxPrefena, 1, 1);
        _regs.Write32(I40eRegs.QRX_TAIL(i), 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
        WaitNoPendingRequest(I40eRegs.QRX_ENA(i));
        _regs.Set32(I40eRegs.QRX_ENA(i), I40eRegs.QENA_REQ);
        _regs.WaitSet32(I40eRegs.QRX_ENA(i), I40eRegs.QENA_STAT, QueueTimeout);
        // Enabled: hand the device every descriptor but one.
        _regs.Write32(I40eRegs.QRX_TAIL(i), q.InitialTail);
        _log.LogInformation("{Device}: RX queue {Queue}: {Path} receive path ({Count} descriptors, refill every {Free})",
            Name, i, q.Path == RxPath.Scalar ? "scalar" : "bulk-allocation", q.Count, q.FreeThreshold);
    }

    /// <summary>GLLAN_TXPRE_QDIS: tell the device a TX queue is about to be enabled (clear) or disabled (set), by absolute index.</summary>
    private void PreTxQueueConfig(int queue, bool enable)
    {
        int absolute = _caps.BaseQueue + queue;
        int block = absolute / 128;
        uint v = _regs.Read32(I40eRegs.GLLAN_TXPRE_QDIS(block)) & ~I40eRegs.GLLAN_TXPRE_QDIS_QINDX_MASK;
        v |= (uint)(absolute % 128);
        v |= enable ? I40eRegs.GLLAN_TXPRE_QDIS_CLEAR_QDIS : I40eRegs.GLLAN_TXPRE_QDIS_SET_QDIS;
        _regs.Write32(I40eRegs.GLLAN_TXPRE_QDIS(block), v);
        _regs.Flush(I40eRegs.GLGEN_STAT);
    }

    /// <summary>A previous enable/disable request must have completed (QENA_REQ equal to QENA_STAT) before a new one.</summary>
    private void WaitNoPendingRequest(int register)
    {
        DateTime deadline = DateTime.UtcNow + QueueTimeout;
        while (true)
        {
            uint v = _regs.Read32(register);
            if (((v & I40eRegs.QENA_REQ) != 0) == ((v & I40eRegs.QENA_STAT) != 0))
                return;
            if (DateTime.UtcNow > deadline)
                throw new EthDevException($"{Name}: a queue enable/disable request is still pending on register 0x{register:x} (0x{v:x8}) after {QueueTimeout.TotalMilliseconds} ms");
            Thread.Sleep(1);
        }
    }

    // ---- stop, close ----

    public override void Stop()
    {
        foreach (I40eRxQueue q in _rx.Select(q => q!))
        {
            _regs.Clear32(I40eRegs.QRX_ENA(q.QueueId), I40eRegs.QENA_REQ);
            _regs.WaitClear32(I40eRegs.QRX_ENA(q.QueueId), I40eRegs.QENA_STAT, QueueTimeout);
            q.OnStopped();
        }
        foreach (I40eTxQueue q in _tx.Select(q => q!))
        {
            PreTxQueueConfig(q.QueueId, enable: false);
            _regs.Clear32(I40eRegs.QTX_ENA(q.QueueId), I40eRegs.QENA_REQ);
            _regs.WaitClear32(I40eRegs.QTX_ENA(q.QueueId), I40eRegs.QENA_STAT, QueueTimeout);
            q.OnStopped();
        }
        _started = false;
    }

    public override void Close()
    {
        try
        {
            lock (_adminLock)
            {
                try
                {
                    _cmd.QueueShutdown();
                }
                finally
                {
                    _hmc.Dispose();
                    _aq.Dispose();
                }
            }
            // A last PF reset stops whatever a failed start may have left enabled, before the memory goes.
            _regs.Set32(I40eRegs.PFGEN_CTRL, I40eRegs.PFGEN_CTRL_PFSWR);
            _regs.WaitClear32(I40eRegs.PFGEN_CTRL, I40eRegs.PFGEN_CTRL_PFSWR, ResetTimeout);
        }
        finally
        {
            _pci.Dispose();
        }
    }

    // ---- link, filters, MAC ----

    public override LinkStatus Link
    {
        get
        {
            lock (_adminLock)
            {
                _aq.DrainEvents(static (_, _) => { });
                I40eLink l = _cmd.GetLinkStatus();
                return new LinkStatus(l.Up, l.Up ? l.SpeedMbps : 0, FullDuplex: true, Autonegotiated: l.Autonegotiated);
            }
        }
    }

    public override bool Promiscuous
    {
        get => _promiscuous;
        set
        {
            _promiscuous = value;
            lock (_adminLock)
                ApplyPromiscuous();
        }
    }

    public override bool AllMulticast
    {
        get => _allMulticast;
        set
        {
            _allMulticast = value;
            lock (_adminLock)
                ApplyPromiscuous();
        }
    }

    /// <summary>Broadcast always on; unicast and multicast promiscuous for promiscuous mode; multicast alone for all-multicast.</summary>
    private void ApplyPromiscuous()
    {
        ushort flags = AdminCommands.PromiscBroadcast;
        if (_promiscuous)
            flags |= AdminCommands.PromiscUnicast | AdminCommands.PromiscMulticast;
        else if (_allMulticast)
            flags |= AdminCommands.PromiscMulticast;
        const ushort valid = AdminCommands.PromiscUnicast | AdminCommands.PromiscMulticast | AdminCommands.PromiscBroadcast;
        _cmd.SetPromiscuous(_vsi.Seid, flags, valid);
    }

    public override void SetMacAddress(MacAddress mac)
    {
        lock (_adminLock)
        {
            _cmd.WriteMacAddress(mac);
            _cmd.MacFilter(_vsi.Seid, mac, add: true);
            if (_mac != mac)
                _cmd.MacFilter(_vsi.Seid, _mac, add: false);
        }
        _mac = mac;
    }

    public override void SetMtu(int mtu)
    {
        if (_started)
            throw new EthDevException($"{Name}: stop the port before changing the MTU (the X710 takes the new maximum frame at start)");
        base.SetMtu(mtu);
    }

    // ---- statistics ----

    public override DeviceCounters DeviceCounters
    {
        get
        {
            _stats.Update(_regs);
            return new DeviceCounters(InMissed: _stats.RxDropped, InErrors: _stats.ReceiveErrors);
        }
    }

    public override IEnumerable<XStat> XStats
    {
        get
        {
            _stats.Update(_regs);
            return _stats.Named();
        }
    }

    public override void ResetStats() => _stats.Reset(_regs);
}
