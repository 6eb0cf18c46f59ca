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

namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>
/// The 82599 (X520) poll-mode driver, written from the datasheet's initialisation chapter (4.6) in its order:
/// at open, interrupts masked, global reset, EEPROM auto-read and DMA init done, 10G SFP+ link setup, statistics
/// cleared (4.6.3-4.6.5); at start, receive and transmit set-up (4.6.7, 4.6.8), then each queue enabled with
/// its enable bit read back before its tail is written. Queues use advanced descriptors; RSS spreads flows over
/// up to 16 queues.
/// </summary>
internal sealed unsafe class IxgbeDevice : EthDevice
{
    public const int MaxQueues = IxgbeRegs.QUEUE_STAT_COUNTERS; // RSS indexes 16 queues (4-bit RETA entries)
    private const int EthernetOverhead = 18;                     // header 14 + CRC 4

    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(1);

    private readonly IPciFunction _pci;
    private readonly Mmio _regs;
    private readonly ILogger _log = Log.For("PacketPlane.Drivers.Ixgbe");
    private readonly IxgbeStats _stats = new();
    private readonly RxPath _rxPathRequest;
    private IxgbeRxQueue?[] _rx = [];
    private IxgbeTxQueue?[] _tx = [];
    private EthConf _conf = new();
    private MacAddress _mac;
    private bool _promiscuous;
    private bool _allMulticast;
    private bool _started;

    public IxgbeDevice(string name, IPciFunction pci, RxPath rxPath) : base(name)
    {
        _pci = pci;
        _rxPathRequest = rxPath;
        _regs = Mmio.Map(pci, 0, _log);
        pci.EnableBusMaster();
        ResetAndInit();
        Info = new DevInfo
        {
            DriverName = IxgbeDriverInfo.Name,
            MaxRxQueues = MaxQueues,
            MaxTxQueues = MaxQueues,
            MaxRxPacketLength = 15872,
            MaxMtu = 15872 - EthernetOverhead,
            RxOffloadCapabilities = RxOffloads.RssHash,
            TxOffloadCapabilities = TxOffloads.None,
            RssCapabilities = RssHashFunctions.Ipv4 | RssHashFunctions.FragIpv4 | RssHashFunctions.NonFragIpv4Other |
                RssHashFunctions.NonFragIpv4Tcp | RssHashFunctions.NonFragIpv4Udp | RssHashFunctions.Ipv6 |
                RssHashFunctions.FragIpv6 | RssHashFunctions.NonFragIpv6Other | RssHashFunctions.NonFragIpv6Tcp |
                RssHashFunctions.NonFragIpv6Udp,
            RssKeySize = IxgbeRegs.RSS_KEY_SIZE,
            RedirectionTableSize = IxgbeRegs.RETA_ENTRIES,
            RxDescriptorLimits = new DescriptorLimits(32, 4096, 8),
            TxDescriptorLimits = new DescriptorLimits(32, 4096, 8),
            Mode = $"82599 {pci.Address}",
        };
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    // ---- 4.6.3 initialisation at open ----

    private void ResetAndInit()
    {
        _log.LogInformation("{Device}: resetting 82599 {Vendor:x4}:{DeviceId:x4}", _pci.Address, _pci.VendorId, _pci.DeviceId);
        // 4.6.3.1: interrupts masked before the reset, and again after it (the reset restores their defaults).
        DisableInterrupts();
        // 4.6.3.2: global reset (device and link), then wait for the self-clearing bits and 10 ms more before
        // touching other registers.
        _regs.Write32(IxgbeRegs.CTRL, _regs.Read32(IxgbeRegs.CTRL) | IxgbeRegs.CTRL_RST_MASK);
        _regs.WaitClear32(IxgbeRegs.CTRL, IxgbeRegs.CTRL_RST_MASK, RegisterTimeout);
        Thread.Sleep(10);
        DisableInterrupts();
        // 4.6.3: the EEPROM auto-read must be done, and DMA initialisation, before configuring anything.
        _regs.WaitSet32(IxgbeRegs.EEC, IxgbeRegs.EEC_ARD, RegisterTimeout);
        _regs.WaitSet32(IxgbeRegs.RDRXCTL, IxgbeRegs.RDRXCTL_DMAIDONE, RegisterTimeout);
        // Tell the manageability firmware a driver owns the port now.
        _regs.Set32(IxgbeRegs.CTRL_EXT, IxgbeRegs.CTRL_EXT_DRV_LOAD);
        _mac = ReadMac();
        SetupLink();
        // 4.6.5: the statistics registers clear on read; read them once so counting starts from zero.
        _stats.Clear(_regs);
        MapQueueStatistics();
        _log.LogInformation("{Device}: initialised, MAC {Mac}", _pci.Address, _mac);
    }

    private void DisableInterrupts()
    {
        // EIMC: a 1 masks the cause; EICR clears on read, dropping anything latched meanwhile.
        _regs.Write32(IxgbeRegs.EIMC, IxgbeRegs.IRQ_CLEAR_MASK);
        _regs.Read32(IxgbeRegs.EICR);
    }

    /// <summary>4.6.4: 10 Gb/s serial link for SFP+ (SFI), then restart autonegotiation; the link comes up on its own.</summary>
    private void SetupLink()
    {
        _regs.Modify32(IxgbeRegs.AUTOC2, IxgbeRegs.AUTOC2_10G_SERIAL_PMA_PMD_MASK, IxgbeRegs.AUTOC2_10G_SFI);
        _regs.Modify32(IxgbeRegs.AUTOC, IxgbeRegs.AUTOC_LMS_MASK, IxgbeRegs.AUTOC_LMS_10G_SERIAL);
        _regs.Set32(IxgbeRegs.AUTOC, IxgbeRegs.AUTOC_AN_RESTART);
    }

    /// <summary>Queue n counts into statistics counter n (RQSMR/TQSM, one byte per queue, 4 queues per register).</summary>
    private void MapQueueStatistics()
    {
        for (int reg = 0; reg < MaxQueues / 4; reg++)
        {
            uint map = 0;
            for (int k = 0; k < 4; k++)
                map |= (uint)(reg * 4 + k) << (8 * k);
            _regs.Write32(IxgbeRegs.RQSMR(reg), map);
            _regs.Write32(IxgbeRegs.TQSM(reg), map);
        }
    }

    private MacAddress ReadMac()
    {
        // RAL(0) holds address bytes 0-3 (byte 0 in bits 7:0), RAH(0) bytes 4-5 and the address-valid bit (31).
        uint low = _regs.Read32(IxgbeRegs.RAL(0));
        uint high = _regs.Read32(IxgbeRegs.RAH(0));
        Span<byte> b = [(byte)low, (byte)(low >> 8), (byte)(low >> 16), (byte)(low >> 24), (byte)high, (byte)(high >> 8)];
        return new MacAddress(b);
    }

    public override void SetMacAddress(MacAddress mac)
    {
        Span<byte> b = stackalloc byte[6];
        mac.CopyTo(b);
        _regs.Write32(IxgbeRegs.RAL(0), (uint)(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24));
        _regs.Write32(IxgbeRegs.RAH(0), (uint)(b[4] | b[5] << 8) | IxgbeRegs.RAH_AV);
        _mac = mac;
    }

    // ---- configuration ----

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        if (conf.RssKey is ReadOnlyMemory<byte> key && key.Length != IxgbeRegs.RSS_KEY_SIZE)
            throw new EthDevException($"{Name}: the 82599 RSS key is {IxgbeRegs.RSS_KEY_SIZE} bytes, {key.Length} given");
        _conf = conf;
        _rx = new IxgbeRxQueue?[rxQueues];
        _tx = new IxgbeTxQueue?[txQueues];
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        RequirePowerOfTwo("RX", descriptors);
        int buffer = pool.DataRoomSize - pool.Headroom;
        if (buffer < 1024)
        {
            throw new EthDevException($"{Name}: pool '{pool.Name}' has {buffer} data bytes per mbuf after headroom; the 82599 takes receive " +
                "buffers in whole KiB (SRRCTL.BSIZEPKT), so use a data room of at least 1024 + headroom (default 2048 + 128)");
        }
        _pci.MapDma(pool.Region);
        DmaMemory ring = DmaMemory.Allocate(_pci, $"{Name}_rx{queueId}", descriptors * 16, numaNode, 0xFF);
        var queue = new IxgbeRxQueue(portId, queueId, descriptors, pool, conf, ring, _regs);
        _rx[queueId] = queue;
        return queue;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        RequirePowerOfTwo("TX", descriptors);
        DmaMemory ring = DmaMemory.Allocate(_pci, $"{Name}_tx{queueId}", descriptors * 16, numaNode, 0);
        try
        {
            var queue = new IxgbeTxQueue(portId, queueId, descriptors, conf, ring, _regs);
            _tx[queueId] = queue;
            return queue;
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    private void RequirePowerOfTwo(string kind, int descriptors)
    {
        if (descriptors <= 0 || (descriptors & (descriptors - 1)) != 0)
            throw new EthDevException($"{Name}: {descriptors} {kind} descriptors requested; this driver takes a power of two from 32 to 4096 (e.g. 512, 1024)");
    }

    // ---- start: 4.6.7 receive and 4.6.8 transmit initialisation, then the queues ----

    public override void Start()
    {
        CheckFrameFitsBuffers();
        InitReceive();
        InitTransmit();
        foreach (IxgbeTxQueue q in _tx.Select(q => q!))
            StartTxQueue(q);
        foreach (IxgbeRxQueue q in _rx.Select(q => q!))
            StartRxQueue(q);
        // 4.6.7: the receive path is enabled last, after every queue is ready.
        _regs.Set32(IxgbeRegs.RXCTRL, IxgbeRegs.RXCTRL_RXEN);
        if (_conf.Loopback)
        {
            // MAC loopback (HLREG0.LPBK, set in InitReceive) with the link forced up at 10G without autonegotiation.
            _regs.Write32(IxgbeRegs.AUTOC, IxgbeRegs.AUTOC_LMS_10G_LINK_NO_AN | IxgbeRegs.AUTOC_FLU);
        }
        _started = true;
    }

    private void CheckFrameFitsBuffers()
    {
        int frame = Mtu + EthernetOverhead;
        foreach (IxgbeRxQueue q in _rx.Select(q => q!))
        {
            if (q.BufferKiB * 1024 < frame)
            {
                throw new EthDevException($"{Name}: MTU {Mtu} needs {frame}-byte frames but RX queue {q.QueueId}'s buffers hold {q.BufferKiB * 1024} " +
                    "bytes and this driver does not chain buffers (no scatter); use a pool with a larger data room or a smaller MTU");
            }
        }
    }

    private void InitReceive()
    {
        // 4.6.7: receive off while it is configured.
        _regs.Clear32(IxgbeRegs.RXCTRL, IxgbeRegs.RXCTRL_RXEN);
        // No DCB or virtualisation: one 128 KB packet buffer.
        _regs.Write32(IxgbeRegs.RXPBSIZE(0), IxgbeRegs.RXPBSIZE_128KB);
        for (int i = 1; i < 8; i++)
            _regs.Write32(IxgbeRegs.RXPBSIZE(i), 0);
        uint hlreg0 = _regs.Read32(IxgbeRegs.HLREG0) | IxgbeRegs.HLREG0_RXCRCSTRP;
        hlreg0 = Mtu + EthernetOverhead > 1518 ? hlreg0 | IxgbeRegs.HLREG0_JUMBOEN : hlreg0 & ~IxgbeRegs.HLREG0_JUMBOEN;
        hlreg0 = _conf.Loopback ? hlreg0 | IxgbeRegs.HLREG0_LPBK : hlreg0 & ~IxgbeRegs.HLREG0_LPBK;
        _regs.Write32(IxgbeRegs.HLREG0, hlreg0);
        _regs.Write32(IxgbeRegs.MAXFRS, (uint)(Mtu + EthernetOverhead) << IxgbeRegs.MAXFRS_MFS_SHIFT);
        // CRC stripping is set in both HLREG0 and RDRXCTL; RSCFRSTSIZE must be cleared (4.6.7).
        _regs.Modify32(IxgbeRegs.RDRXCTL, IxgbeRegs.RDRXCTL_CRCSTRIP | IxgbeRegs.RDRXCTL_RSCFRSTSIZE, IxgbeRegs.RDRXCTL_CRCSTRIP);
        ApplyFilterControl();
        // The RSS hash goes into the descriptor instead of the fragment checksum (RXCSUM.PCSD).
        _regs.Set32(IxgbeRegs.RXCSUM, IxgbeRegs.RXCSUM_PCSD);
        ConfigureRss();
        foreach (IxgbeRxQueue q in _rx.Select(q => q!))
            ConfigureRxRing(q);
        // Last sentence of 4.6.7: no-snoop off, and DCA_RXCTRL bit 12 (reserved, resets to 1) cleared per queue.
        _regs.Set32(IxgbeRegs.CTRL_EXT, IxgbeRegs.CTRL_EXT_NS_DIS);
        for (int q = 0; q < _rx.Length; q++)
            _regs.Clear32(IxgbeRegs.DCA_RXCTRL(q), IxgbeRegs.DCA_RXCTRL_BIT12);
    }

    private void ConfigureRxRing(IxgbeRxQueue q)
    {
        int i = q.QueueId;
        // Advanced one-buffer descriptors, buffer size in KiB, drop when no descriptor is free (so one full queue
        // cannot fill the shared packet buffer and stall the others).
        uint srrctl = IxgbeRegs.SRRCTL_DESCTYPE_ADV_ONEBUF | (q.BufferKiB & IxgbeRegs.SRRCTL_BSIZEPKT_MASK);
        if (q.DropWhenFull)
            srrctl |= IxgbeRegs.SRRCTL_DROP_EN;
        _regs.Write32(IxgbeRegs.SRRCTL(i), srrctl);
        _regs.Write32(IxgbeRegs.RDBAL(i), (uint)q.RingIova);
        _regs.Write32(IxgbeRegs.RDBAH(i), (uint)(q.RingIova >> 32));
        _regs.Write32(IxgbeRegs.RDLEN(i), q.RingBytes);
        _regs.Write32(IxgbeRegs.RDH(i), 0);
        _regs.Write32(IxgbeRegs.RDT(i), 0);
    }

    /// <summary>
    /// RSS (7.1.2.8): the Toeplitz key into RSSRK (byte 0 in bits 7:0 of RSSRK[0]), a redirection table that deals
    /// queues round-robin (entry i in byte i of RETA), and the hashed packet kinds in MRQC.
    /// </summary>
    private void ConfigureRss()
    {
        if (!_conf.RssEnabled || _rx.Length < 2)
        {
            _regs.Write32(IxgbeRegs.MRQC, 0);
            return;
        }
        ReadOnlySpan<byte> key = _conf.RssKey is ReadOnlyMemory<byte> k ? k.Span : IntelRss.DefaultKey40;
        for (int i = 0; i < IxgbeRegs.RSS_KEY_SIZE / 4; i++)
            _regs.Write32(IxgbeRegs.RSSRK(i), (uint)(key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 | key[4 * i + 3] << 24));
        for (int reg = 0; reg < IxgbeRegs.RETA_ENTRIES / 4; reg++)
        {
            uint value = 0;
            for (int b = 0; b < 4; b++)
                value |= (uint)((reg * 4 + b) % _rx.Length) << (8 * b);
            _regs.Write32(IxgbeRegs.RETA(reg), value);
        }
        _regs.Write32(IxgbeRegs.MRQC, IxgbeRegs.MRQC_RSSEN | RssFields(_conf.RssHashFunctions));
    }

    private static uint RssFields(RssHashFunctions f)
    {
        uint m = 0;
        if ((f & (RssHashFunctions.Ipv4 | RssHashFunctions.FragIpv4 | RssHashFunctions.NonFragIpv4Other)) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV4;
        if ((f & RssHashFunctions.NonFragIpv4Tcp) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV4_TCP;
        if ((f & RssHashFunctions.NonFragIpv4Udp) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV4_UDP;
        if ((f & (RssHashFunctions.Ipv6 | RssHashFunctions.FragIpv6 | RssHashFunctions.NonFragIpv6Other)) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV6;
        if ((f & RssHashFunctions.NonFragIpv6Tcp) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV6_TCP;
        if ((f & RssHashFunctions.NonFragIpv6Udp) != 0)
            m |= IxgbeRegs.MRQC_RSS_FIELD_IPV6_UDP;
        return m;
    }

    private void InitTransmit()
    {
        // 4.6.8: CRC insertion and padding of short frames, one 40 KB packet buffer, no DCB arbitration limits.
        _regs.Set32(IxgbeRegs.HLREG0, IxgbeRegs.HLREG0_TXCRCEN | IxgbeRegs.HLREG0_TXPADEN);
        _regs.Write32(IxgbeRegs.TXPBSIZE(0), IxgbeRegs.TXPBSIZE_40KB);
        for (int i = 1; i < 8; i++)
            _regs.Write32(IxgbeRegs.TXPBSIZE(i), 0);
        _regs.Write32(IxgbeRegs.DTXMXSZRQ, 0xFFFF);
        _regs.Clear32(IxgbeRegs.RTTDCS, IxgbeRegs.RTTDCS_ARBDIS);
        foreach (IxgbeTxQueue q in _tx.Select(q => q!))
        {
            int i = q.QueueId;
            _regs.Write32(IxgbeRegs.TDBAL(i), (uint)q.RingIova);
            _regs.Write32(IxgbeRegs.TDBAH(i), (uint)(q.RingIova >> 32));
            _regs.Write32(IxgbeRegs.TDLEN(i), q.RingBytes);
            _regs.Write32(IxgbeRegs.TDH(i), 0);
            _regs.Write32(IxgbeRegs.TDT(i), 0);
            // Prefetch when 32 descriptors are waiting; write back only descriptors with RS (WTHRESH 0), which is
            // what the RS-batched free relies on.
            _regs.Write32(IxgbeRegs.TXDCTL(i), 32u << IxgbeRegs.TXDCTL_PTHRESH_SHIFT);
        }
        _regs.Set32(IxgbeRegs.DMATXCTL, IxgbeRegs.DMATXCTL_TE);
    }

    private void StartTxQueue(IxgbeTxQueue q)
    {
        q.Arm();
        // 4.6.8: enable, then poll until the bit reads back set (the queue is really on).
        _regs.Set32(IxgbeRegs.TXDCTL(q.QueueId), IxgbeRegs.TXDCTL_ENABLE);
        _regs.WaitSet32(IxgbeRegs.TXDCTL(q.QueueId), IxgbeRegs.TXDCTL_ENABLE, RegisterTimeout);
    }

    private void StartRxQueue(IxgbeRxQueue q)
    {
        RxPath path = ChooseRxPath(q);
        q.Arm(path);
        // 4.6.7: enable, poll until enabled, and only then bump the tail so the device may fetch descriptors.
        _regs.Set32(IxgbeRegs.RXDCTL(q.QueueId), IxgbeRegs.RXDCTL_ENABLE);
        _regs.WaitSet32(IxgbeRegs.RXDCTL(q.QueueId), IxgbeRegs.RXDCTL_ENABLE, RegisterTimeout);
        _regs.Write32(IxgbeRegs.RDT(q.QueueId), q.InitialTail);
        _log.LogInformation("{Device}: RX queue {Queue}: {Path} receive path ({Count} descriptors, refill every {Free})",
            Name, q.QueueId, Describe(path), q.Count, q.FreeThreshold);
    }

    private RxPath ChooseRxPath(IxgbeRxQueue q)
    {
        RxPath path = _rxPathRequest;
        if (path == RxPath.Vector && !IxgbeRxQueue.VectorSupported)
            throw new EthDevException($"{Name}: rx_path=vector asked for, but this CPU has no hardware Vector128 shuffle (SSSE3 or Arm64 AdvSimd); use rx_path=bulk");
        if (path == RxPath.Auto)
            path = IxgbeRxQueue.VectorSupported ? RxPath.Vector : RxPath.Bulk;
        return path;
    }

    private static string Describe(RxPath path) => path switch
    {
        RxPath.Vector => "vector (Vector128)",
        RxPath.Bulk => "bulk-allocation",
        _ => "scalar",
    };

    // ---- stop and close ----

    public override void Stop()
    {
        _regs.Clear32(IxgbeRegs.RXCTRL, IxgbeRegs.RXCTRL_RXEN);
        foreach (IxgbeRxQueue q in _rx.Select(q => q!))
        {
            // 4.6.7.1: clear the enable bit and wait until it reads 0 before reusing the ring's buffers.
            _regs.Clear32(IxgbeRegs.RXDCTL(q.QueueId), IxgbeRegs.RXDCTL_ENABLE);
            _regs.WaitClear32(IxgbeRegs.RXDCTL(q.QueueId), IxgbeRegs.RXDCTL_ENABLE, RegisterTimeout);
            q.OnStopped();
        }
        foreach (IxgbeTxQueue q in _tx.Select(q => q!))
        {
            // 4.6.8.1: disable and wait; what was not sent yet is dropped with the queue.
            _regs.Clear32(IxgbeRegs.TXDCTL(q.QueueId), IxgbeRegs.TXDCTL_ENABLE);
            _regs.WaitClear32(IxgbeRegs.TXDCTL(q.QueueId), IxgbeRegs.TXDCTL_ENABLE, RegisterTimeout);
            q.OnStopped();
        }
        _started = false;
        _stats.Update(_regs);
    }

    public override void Close()
    {
        try
        {
            // Quiesce: a global reset stops all DMA and forgets the ring addresses before their memory goes.
            DisableInterrupts();
            _regs.Clear32(IxgbeRegs.CTRL_EXT, IxgbeRegs.CTRL_EXT_DRV_LOAD);
            _regs.Write32(IxgbeRegs.CTRL, _regs.Read32(IxgbeRegs.CTRL) | IxgbeRegs.CTRL_RST_MASK);
            _regs.WaitClear32(IxgbeRegs.CTRL, IxgbeRegs.CTRL_RST_MASK, RegisterTimeout);
        }
        finally
        {
            _pci.Dispose();
        }
    }

    // ---- link, filters, MTU ----

    public override LinkStatus Link
    {
        get
        {
            uint links = _regs.Read32(IxgbeRegs.LINKS);
            if ((links & IxgbeRegs.LINKS_UP) == 0)
                return new LinkStatus(false, 0);
            uint speed = (links & IxgbeRegs.LINKS_SPEED_MASK) switch
            {
                IxgbeRegs.LINKS_SPEED_10G => 10_000u,
                IxgbeRegs.LINKS_SPEED_1G => 1_000u,
                IxgbeRegs.LINKS_SPEED_100 => 100u,
                _ => 0u,
            };
            return new LinkStatus(true, speed, FullDuplex: true, Autonegotiated: !_conf.Loopback);
        }
    }

    public override bool Promiscuous
    {
        get => _promiscuous;
        set
        {
            _promiscuous = value;
            ApplyFilterControl();
        }
    }

    public override bool AllMulticast
    {
        get => _allMulticast;
        set
        {
            _allMulticast = value;
            ApplyFilterControl();
        }
    }

    /// <summary>FCTRL: broadcast always accepted; UPE and MPE for promiscuous; MPE alone for all-multicast.</summary>
    private void ApplyFilterControl()
    {
        uint fctrl = _regs.Read32(IxgbeRegs.FCTRL) | IxgbeRegs.FCTRL_BAM;
        fctrl &= ~(IxgbeRegs.FCTRL_UPE | IxgbeRegs.FCTRL_MPE);
        if (_promiscuous)
            fctrl |= IxgbeRegs.FCTRL_UPE | IxgbeRegs.FCTRL_MPE;
        else if (_allMulticast)
            fctrl |= IxgbeRegs.FCTRL_MPE;
        _regs.Write32(IxgbeRegs.FCTRL, fctrl);
    }

    public override void SetMtu(int mtu)
    {
        base.SetMtu(mtu);
        if (_started)
        {
            _regs.Write32(IxgbeRegs.MAXFRS, (uint)(mtu + EthernetOverhead) << IxgbeRegs.MAXFRS_MFS_SHIFT);
            _regs.Modify32(IxgbeRegs.HLREG0, IxgbeRegs.HLREG0_JUMBOEN, mtu + EthernetOverhead > 1518 ? IxgbeRegs.HLREG0_JUMBOEN : 0);
        }
    }

    // ---- statistics ----

    public override DeviceCounters DeviceCounters
    {
        get
        {
            _stats.Update(_regs);
            return new DeviceCounters(InMissed: _stats.Missed, InErrors: _stats.ReceiveErrors);
        }
    }

    public override IEnumerable<XStat> XStats
    {
        get
        {
            _stats.Update(_regs);
            return _stats.Named(_rx.Length, _tx.Length);
        }
    }

    public override void ResetStats() => _stats.Clear(_regs);
}
