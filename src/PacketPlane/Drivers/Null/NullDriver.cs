using System;
using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Null;

/// <summary>
/// <c>net_null</c>: a port with no wire. RX hands out freshly allocated packets of <c>size</c> bytes (so a
/// forwarding loop can be measured without I/O), TX frees what it is given. Arguments as DPDK's null PMD:
/// <c>size</c>, <c>copy</c>, <c>no-rx</c>.
/// </summary>
internal sealed class NullDriver : EthDriver
{
    public override string Name => "net_null";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["size"] = "packet size in bytes for RX, default 64",
        ["copy"] = "1 to copy packet data on RX and TX (measures memory bandwidth too), default 0",
        ["no-rx"] = "1 for a TX-only port whose RX returns nothing, default 0",
    };

    public override EthDevice Create(DeviceArguments args) => new NullDevice(
        args.DeviceName,
        args.GetInt32("size", 64, 0, 65535),
        args.GetBool("copy", false),
        args.GetBool("no-rx", false));
}

internal sealed class NullDevice(string name, int packetSize, bool copy, bool noRx) : EthDevice(name)
{
    // 02:00:00:00:00:00 plus a hash of the name, so two null ports differ (DPDK uses a random locally administered MAC).
    private MacAddress _mac = new(0x0200_0000_0000UL | ((ulong)(uint)StableHash(name) & 0xffff_ffffUL));

    public override DevInfo Info { get; } = new()
    {
        DriverName = "net_null",
        MaxRxQueues = 1024,
        MaxTxQueues = 1024,
        MaxRxPacketLength = ushort.MaxValue,
        MaxMtu = ushort.MaxValue,
        RxOffloadCapabilities = RxOffloads.None,
        TxOffloadCapabilities = TxOffloads.MtLockFree | TxOffloads.MultiSegs,
    };

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        if (packetSize > pool.DataRoomSize - pool.Headroom)
            throw new EthDevException($"{Name}: size={packetSize} does not fit the pool '{pool.Name}' buffers ({pool.DataRoomSize - pool.Headroom} data bytes)");
        return new NullRxQueue(portId, queueId, pool, noRx ? 0 : packetSize, noRx, copy);
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf) =>
        new NullTxQueue(portId, queueId, copy);

    public override void Start()
    {
    }

    public override void Stop()
    {
    }

    public override void Close()
    {
    }

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s)
            h = h * 31 + c;
        return h;
    }
}

/// <summary>Allocates a burst of packets of the configured size (eth_null_rx / eth_null_copy_rx).</summary>
internal sealed unsafe class NullRxQueue(ushort portId, int queueId, MbufPool pool, int size, bool noRx, bool copy)
    : RxQueue(portId, queueId)
{
    private readonly byte[] _template = GC.AllocateArray<byte>(Math.Max(size, 1), pinned: true);

    public override int RxBurst(Span<Packet> packets)
    {
        if (noRx || packets.IsEmpty)
            return 0;
        uint n = (uint)packets.Length;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            if (!pool.GetBulkRaw(mbufs, n, pool.CacheFor(Lcore.CurrentId)))
            {
                Counters.NoMbuf += n;
                return 0;
            }
            for (uint i = 0; i < n; i++)
            {
                Mbuf* m = mbufs[i];
                pool.ResetForAlloc(m);
                m->DataLen = (ushort)size;
                m->PktLen = (uint)size;
                m->Port = PortId;
                if (copy)
                    _template.AsSpan(0, size).CopyTo(new Span<byte>(m->Data, size));
            }
        }
        Counters.Packets += n;
        Counters.Bytes += n * (ulong)size;
        return (int)n;
    }
}

/// <summary>Counts and frees every packet (eth_null_tx / eth_null_copy_tx).</summary>
internal sealed unsafe class NullTxQueue(ushort portId, int queueId, bool copy) : TxQueue(portId, queueId)
{
    private readonly byte[] _sink = GC.AllocateArray<byte>(ushort.MaxValue, pinned: true);

    public override int TxBurst(Span<Packet> packets)
    {
        ulong bytes = 0;
        fixed (Packet* p = packets)
        {
            Mbuf** mbufs = (Mbuf**)p;
            for (int i = 0; i < packets.Length; i++)
            {
                Mbuf* m = mbufs[i];
                bytes += m->PktLen;
                if (copy)
                    new ReadOnlySpan<byte>(m->Data, m->DataLen).CopyTo(_sink);
            }
            MbufPool.FreeBulkRaw(mbufs, (uint)packets.Length);
        }
        Counters.Packets += (ulong)packets.Length;
        Counters.Bytes += bytes;
        return packets.Length;
    }
}
