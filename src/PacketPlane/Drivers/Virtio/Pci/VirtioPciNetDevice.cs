using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;
using PacketPlane.Drivers.Virtio.Net;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;
using static PacketPlane.Drivers.Virtio.Pci.VirtioPciCommonConfig;
using static PacketPlane.Drivers.Virtio.Spec.VirtioStatus;

namespace PacketPlane.Drivers.Virtio.Pci;

/// <summary>
/// virtio-net over modern virtio-pci (virtio 1.2 sections 3.1 and 4.1), written against <see cref="IPciFunction"/>
/// only: capabilities locate the structures, the status handshake goes ACKNOWLEDGE, DRIVER, FEATURES_OK (checked),
/// queue setup, DRIVER_OK; the rings are the same driver rings virtio-user uses, with IOVAs in the descriptors and
/// MMIO notifications. One queue pair (more would need the control virtqueue, not implemented).
/// </summary>
internal sealed unsafe class VirtioPciNetDevice : EthDevice
{
    /// <summary>PCI vendor id of virtio devices.</summary>
    public const ushort VendorId = 0x1af4;

    /// <summary>Modern virtio-net (0x1040 + device type 1) and the transitional id.</summary>
    public const ushort ModernNetDeviceId = 0x1041, TransitionalNetDeviceId = 0x1000;

    private const int NetConfigMac = 0, NetConfigStatus = 6;

    private readonly IPciFunction _fn;
    private readonly bool _ownsFunction;
    private readonly VirtioPciCapabilities _caps;
    private readonly VirtioPciCommonConfig _common;
    private readonly nint _notifyBase;
    private readonly nint _deviceConfig;
    private readonly VirtioNetRequest _request;
    private readonly int _queueSize;
    private readonly ILogger _log;
    private readonly IVirtioNetQueue?[] _rx = new IVirtioNetQueue?[1];
    private readonly IVirtioNetQueue?[] _tx = new IVirtioNetQueue?[1];
    private readonly DmaPoolTable _reachable = new();
    private readonly HashSet<MemoryRegion> _dmaMapped = new();
    private NegotiatedFeatures _features;
    private VirtioRingArea? _rings;
    private MacAddress _mac;
    private bool _needsHandshake;     // after a reset (Stop) the device must be initialised again
    private volatile bool _running;

    /// <summary>True for a virtio-net function (modern or transitional id).</summary>
    public static bool Supports(IPciFunction fn) =>
        fn.VendorId == VendorId && (fn.DeviceId == ModernNetDeviceId || fn.DeviceId == TransitionalNetDeviceId);

    /// <param name="name">Device name.</param>
    /// <param name="fn">The opened function.</param>
    /// <param name="request">Ring layout and features wanted (one queue pair).</param>
    /// <param name="queueSize">Descriptors per ring (at most what the device offers).</param>
    /// <param name="mac">MAC to use when the device has none (no VIRTIO_NET_F_MAC).</param>
    /// <param name="ownsFunction">Dispose <paramref name="fn"/> at close.</param>
    public VirtioPciNetDevice(string name, IPciFunction fn, VirtioNetRequest request, int queueSize, MacAddress? mac, bool ownsFunction)
        : base(name)
    {
        if (request.QueuePairs != 1)
            throw new DeviceArgumentException($"device '{name}': virtio-pci supports one queue pair (several need the control virtqueue, which this driver does not implement)");
        _fn = fn;
        _ownsFunction = ownsFunction;
        _request = request;
        _queueSize = queueSize;
        _log = Log.For("PacketPlane.Drivers.VirtioPci");
        _caps = VirtioPciCapabilities.Parse(fn);
        _common = new VirtioPciCommonConfig(Locate(_caps.Common), fn);
        _notifyBase = Locate(_caps.Notify);
        _deviceConfig = Locate(_caps.Device);
        Handshake();
        _mac = _features.Mac ? ReadMac() : mac ?? new MacAddress(0x0200_0000_0000UL | (ulong)(uint)name.GetHashCode(StringComparison.Ordinal));
        Info = new DevInfo
        {
            DriverName = "net_virtio_pci",
            MaxRxQueues = 1,
            MaxTxQueues = 1,
            MaxRxPacketLength = 65535,
            MaxMtu = 65535 - 14,
            TxOffloadCapabilities = TxOffloads.MultiSegs,
            RxDescriptorLimits = new DescriptorLimits(1, VringFlags.MaxQueueSize, 1),
            TxDescriptorLimits = new DescriptorLimits(1, VringFlags.MaxQueueSize, 1),
            Mode = $"virtio-pci modern, {(request.Packed ? "packed" : "split")} rings of {queueSize}, features {VirtioFeatureBits.Describe(_features.Features)}",
        };
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    /// <summary>With VIRTIO_NET_F_STATUS the device's link bit (5.1.4), otherwise up while running.</summary>
    public override LinkStatus Link
    {
        get
        {
            bool up = _running && (!_features.Status || (ReadDeviceConfig16(NetConfigStatus) & VirtioNet.VIRTIO_NET_S_LINK_UP) != 0);
            return up ? new LinkStatus(true, 10_000) : new LinkStatus(false, 0);
        }
    }

    /// <summary>Features accepted at the handshake.</summary>
    internal ulong NegotiatedFeatures => _features.Features;

    private nint Locate(VirtioPciRegion r)
    {
        (nint address, long length) = _fn.MapBar(r.Bar);
        if (r.Offset + r.Length > length)
            throw new EthDevException($"{_fn.Address}: a virtio structure lies past the end of BAR {r.Bar} (offset {r.Offset} + {r.Length} > {length})");
        return address + (nint)r.Offset;
    }

    // 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK and its check.
    private void Handshake()
    {
        if (!_common.Reset(TimeSpan.FromSeconds(1)))
            throw new EthDevException($"{_fn.Address}: the device did not finish resetting (device_status stayed non-zero for 1 s)");
        _common.SetStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
        _common.SetStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
        ulong offered = _common.DeviceFeatures();
        _features = FeatureNegotiation.Negotiate(offered, _request, requireVersion1: true, arg => $"{Name},...,{arg}");
        if (!_features.Ok)
            Fail(_features.Error!);
        _common.SetDriverFeatures(_features.Features);
        const byte featuresOk = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
        _common.SetStatus(featuresOk);
        if ((_common.Status & VIRTIO_CONFIG_S_FEATURES_OK) == 0)
            Fail($"the device refused the features {VirtioFeatureBits.Describe(_features.Features)} (FEATURES_OK did not stick)");
        int queues = _common.Read16(VIRTIO_PCI_COMMON_NUMQ);
        if (queues < 2)
            Fail($"the device has {queues} virtqueue(s); a virtio-net queue pair needs 2");
        _needsHandshake = false;
        _log.LogInformation("{Name}: {Address} features {Features}", Name, _fn.Address, VirtioFeatureBits.Describe(_features.Features));
    }

    private void Fail(string why)
    {
        _common.SetStatus((byte)(_common.Status | VIRTIO_CONFIG_S_FAILED));
        throw new EthDevException($"{_fn.Address}: {why}");
    }

    private MacAddress ReadMac()
    {
        // 4.1.4.3: reread until config_generation is the same before and after, so the 6 bytes are consistent.
        Span<byte> mac = stackalloc byte[6];
        byte before, after;
        do
        {
            before = _common.Read8(VIRTIO_PCI_COMMON_CFGGENERATION);
            for (int i = 0; i < 6; i++)
                mac[i] = Volatile.Read(ref *((byte*)_deviceConfig + NetConfigMac + i));
            after = _common.Read8(VIRTIO_PCI_COMMON_CFGGENERATION);
        }
        while (before != after);
        return new MacAddress(mac);
    }

    private ushort ReadDeviceConfig16(int offset) => Volatile.Read(ref *(ushort*)((byte*)_deviceConfig + offset));

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        if (_rings is null)
        {
            _rings = new VirtioRingArea(Name, 2, _queueSize, _request.Packed, _fn.NumaNode);
            MapForDma(_rings.Region);
        }
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        MapForDma(pool.Region);
        int vring = VirtioNet.RxVring(queueId);
        VringLayout layout = _rings!.Fresh(vring);
        VirtioNotifier notifier = Notifier(vring);
        RxQueue q = _request.Packed
            ? new VirtioNetRxQueue<PackedDriverRing>(portId, queueId, layout, _request.InOrder, pool, notifier, useVirtualAddresses: false)
            : new VirtioNetRxQueue<SplitDriverRing>(portId, queueId, layout, _request.InOrder, pool, notifier, useVirtualAddresses: false);
        _rx[queueId] = (IVirtioNetQueue)q;
        return q;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        int vring = VirtioNet.TxVring(queueId);
        VringLayout layout = _rings!.Fresh(vring);
        nint headers = _rings.HeaderSlots(vring);
        ulong headersIova = _rings.Region.Iova(headers);
        VirtioNotifier notifier = Notifier(vring);
        TxQueue q = _request.Packed
            ? new VirtioNetTxQueue<PackedDriverRing>(portId, queueId, layout, _request.InOrder, headers, headersIova, notifier, _reachable, useVirtualAddresses: false)
            : new VirtioNetTxQueue<SplitDriverRing>(portId, queueId, layout, _request.InOrder, headers, headersIova, notifier, _reachable, useVirtualAddresses: false);
        _tx[queueId] = (IVirtioNetQueue)q;
        return q;
    }

    // 4.1.4.4: queue N is notified by writing N at notify base + queue_notify_off * notify_off_multiplier.
    private VirtioNotifier Notifier(int vring)
    {
        _common.SelectQueue(vring);
        ushort off = _common.Read16(VIRTIO_PCI_COMMON_Q_NOFF);
        long at = (long)off * _caps.NotifyOffMultiplier;
        if (at + 2 > _caps.Notify.Length)
            throw new EthDevException($"{_fn.Address}: queue {vring}'s notify address lies outside the notification structure");
        return VirtioNotifier.Mmio(_notifyBase + (nint)at, (ushort)vring);
    }

    private void MapForDma(MemoryRegion region)
    {
        if (_dmaMapped.Add(region))
            _fn.MapDma(region);
    }

    public override void Start()
    {
        if (_needsHandshake)
            Handshake();
        _fn.EnableBusMaster();
        var reachable = new List<MbufPool>();
        foreach (MbufPool pool in MbufPool.All)
        {
            MapForDma(pool.Region);
            reachable.Add(pool);
        }
        _reachable.Set(reachable);
        var queues = new List<IVirtioNetQueue>();
        for (int vring = 0; vring < 2; vring++)
        {
            IVirtioNetQueue? q = (vring & 1) == 0 ? _rx[0] : _tx[0];
            VringLayout layout = q?.Layout ?? _rings!.Layout(vring);
            SetUpQueue(vring, layout);
            if (q is not null)
                queues.Add(q);
        }
        _common.SetStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
        var features = VirtioQueueFeatures.From(_features);
        foreach (IVirtioNetQueue q in queues)
        {
            q.Apply(features);
            q.Gate.Open();
            q.Kick();                  // allowed now that DRIVER_OK is set (3.1.1)
        }
        _running = true;
    }

    // 4.1.5.1.3: select, check the size offered, set ours, write the three addresses, then enable.
    private void SetUpQueue(int vring, VringLayout layout)
    {
        _common.SelectQueue(vring);
        ushort max = _common.Read16(VIRTIO_PCI_COMMON_Q_SIZE);
        if (max == 0)
            Fail($"virtqueue {vring} is not available (queue_size 0)");
        if (layout.Size > max)
            Fail($"virtqueue {vring}: {layout.Size} descriptors requested, the device offers at most {max}; use queue_size={max}");
        MemoryRegion region = _rings!.Region;
        _common.Write16(VIRTIO_PCI_COMMON_Q_SIZE, (ushort)layout.Size);
        _common.Write64(VIRTIO_PCI_COMMON_Q_DESCLO, region.Iova(layout.Desc));
        _common.Write64(VIRTIO_PCI_COMMON_Q_AVAILLO, region.Iova(layout.Driver));
        _common.Write64(VIRTIO_PCI_COMMON_Q_USEDLO, region.Iova(layout.Device));
        _common.Settle();
        _common.Write16(VIRTIO_PCI_COMMON_Q_ENABLE, 1);
        _common.Settle();
    }

    /// <summary>Resets the device, which stops all its DMA into our buffers, then starts every ring afresh for the next Start.</summary>
    public override void Stop()
    {
        _running = false;
        foreach (IVirtioNetQueue? q in new[] { _rx[0], _tx[0] })
            q?.Gate.Close(TimeSpan.FromSeconds(5));
        if (!_common.Reset(TimeSpan.FromSeconds(1)))
            _log.LogError("{Name}: the device did not finish resetting; its rings are abandoned", Name);
        _rx[0]?.Reinitialize();
        _tx[0]?.Reinitialize();
        _needsHandshake = true;
    }

    public override void Close()
    {
        if (!_needsHandshake)
            _common.Reset(TimeSpan.FromSeconds(1));
        _rings?.Dispose();
        _rings = null;
        if (_ownsFunction)
            _fn.Dispose();
    }
}
