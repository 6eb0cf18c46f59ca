using System;
using System.Collections.Generic;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;
using PacketPlane.Net;
using PacketPlane.Ring;

namespace PacketPlane.Drivers.Ring;

/// <summary>
/// <c>net_ring</c>: ports whose queues are <see cref="Ring{T}"/>s of packet handles, for in-process pipelines and
/// tests (DPDK's ring PMD). <c>--vdev net_ringN</c> creates <c>queues</c> SP/SC rings and uses each as both RX
/// and TX queue i, so what the port sends comes back on its RX (a loopback). <see cref="RingPort"/> makes ports
/// from given rings (rte_eth_from_rings) and back-to-back pairs. Packets move by handle: nothing is copied.
/// </summary>
internal sealed class RingDriver : EthDriver
{
    // Rings handed to RingPort.FromRings, waiting for the driver to pick them up by device name.
    private static readonly Dictionary<string, RingSet> s_staged = new(StringComparer.Ordinal);
    private static readonly object s_stagedLock = new();

    /// <summary>DPDK's RTE_PMD_RING_MAX_RX_RINGS / TX_RINGS.</summary>
    public const int DefaultQueues = 16;

    /// <summary>DPDK's ring PMD creates rings of 1024 slots.</summary>
    public const int DefaultRingSize = 1024;

    public override string Name => "net_ring";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["queues"] = $"loopback ring pairs (the most RX and TX queues), 1 to 1024, default {DefaultQueues} as DPDK",
        ["size"] = $"slots per ring, a power of two from 2 to 1048576 (holds size-1 packets), default {DefaultRingSize}",
    };

    public override EthDevice Create(DeviceArguments args)
    {
        RingSet? staged;
        lock (s_stagedLock)
        {
            if (s_staged.Remove(args.DeviceName, out staged) && args.Keys.Count > 0)
                throw new DeviceArgumentException($"device '{args.DeviceName}' is made from given rings and takes no arguments");
        }
        if (staged is not null)
            return new RingDevice(args.DeviceName, staged);
        int queues = args.GetInt32("queues", DefaultQueues, 1, 1024);
        int size = args.GetInt32("size", DefaultRingSize, 2, 1 << 20);
        if ((size & (size - 1)) != 0)
            throw new DeviceArgumentException($"device '{args.DeviceName}': size={size} is not a power of two; use 512, 1024, 2048, ...");
        var rings = new SharedRing[queues];
        for (int i = 0; i < queues; i++)
            rings[i] = SharedRing.Create($"ETH_RXTX{i}_{args.DeviceName}", size);
        try
        {
            return new RingDevice(args.DeviceName, new RingSet(rings, rings));
        }
        finally
        {
            // The device took its own references; drop the creation ones.
            foreach (SharedRing r in rings)
                r.Release();
        }
    }

    /// <summary>Registers rings for the device <paramref name="deviceName"/>, which EthDev.Create then builds.</summary>
    internal static void Stage(string deviceName, RingSet rings)
    {
        lock (s_stagedLock)
        {
            if (!s_staged.TryAdd(deviceName, rings))
                throw new DeviceArgumentException($"rings for '{deviceName}' are already being attached");
        }
    }

    /// <summary>Drops staged rings that no device picked up (creation failed).</summary>
    internal static void Unstage(string deviceName)
    {
        lock (s_stagedLock)
            s_staged.Remove(deviceName);
    }
}

/// <summary>The RX and TX rings of one device.</summary>
internal sealed record RingSet(SharedRing[] Rx, SharedRing[] Tx);

/// <summary>
/// A ring of packets with a count of the devices using it. When the last lets go of a ring the driver created,
/// packets still in it are freed and the ring is disposed: back-to-back ports share rings, and whichever closes
/// last cleans up. Rings the application gave are never disposed by us.
/// </summary>
internal sealed class SharedRing
{
    private int _references = 1;

    private SharedRing(Ring<Packet> ring, bool owned)
    {
        Ring = ring;
        Owned = owned;
    }

    public Ring<Packet> Ring { get; }

    /// <summary>True when the driver created the ring and disposes it.</summary>
    public bool Owned { get; }

    public static SharedRing Create(string name, int size) =>
        new(Ring<Packet>.Create(size, RingFlags.SingleProducer | RingFlags.SingleConsumer, name), owned: true);

    public static SharedRing Wrap(Ring<Packet> ring) => new(ring, owned: false);

    public void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>
    /// Drops one reference; the last one frees the packets left in an owned ring and disposes it. An application's
    /// ring is left as it is (its consumer may be someone else).
    /// </summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0 || !Owned)
            return;
        Drain();
        Ring.Dispose();
    }

    /// <summary>Frees every packet in the ring (control path, when no consumer is polling it).</summary>
    public void Drain()
    {
        Span<Packet> batch = stackalloc Packet[64];
        int n;
        while ((n = Ring.DequeueBurst(batch)) > 0)
            Packet.FreeBulk(batch[..n]);
    }
}

internal sealed class RingDevice : EthDevice
{
    private readonly RingSet _rings;
    private MacAddress _mac;
    private bool _started;
    private int _closed;

    public RingDevice(string name, RingSet rings) : base(name)
    {
        _rings = rings;
        foreach (SharedRing r in rings.Rx)
            r.AddReference();
        foreach (SharedRing r in rings.Tx)
            r.AddReference();
        // Locally administered, derived from the name so two ring ports differ and tests can predict it
        // (DPDK picks a random one).
        _mac = new MacAddress(0x0200_0000_0000UL | ((ulong)(uint)StableHash(name) & 0xFFFF_FFFFUL));
        Info = new DevInfo
        {
            DriverName = "net_ring",
            MaxRxQueues = rings.Rx.Length,
            MaxTxQueues = rings.Tx.Length,
            MaxRxPacketLength = ushort.MaxValue,
            MaxMtu = ushort.MaxValue - 18,
            TxOffloadCapabilities = TxOffloads.MtLockFree | TxOffloads.MultiSegs,
            RxOffloadCapabilities = RxOffloads.Scatter,
            Mode = "zero-copy rings",
        };
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    public override LinkStatus Link => new(_started, 10_000);

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool) =>
        new RingRxQueue(portId, queueId, _rings.Rx[queueId]);

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf) =>
        new RingTxQueue(portId, queueId, _rings.Tx[queueId].Ring);

    public override void Start() => _started = true;

    public override void Stop() => _started = false;

    public override void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        foreach (SharedRing r in _rings.Rx)
            r.Release();
        foreach (SharedRing r in _rings.Tx)
            r.Release();
    }

    private static int StableHash(string s)
    {
        int h = 23;
        foreach (char c in s)
            h = h * 31 + c;
        return h;
    }
}
