using System;
using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Shutdown;

/// <summary>
/// The peer-loss harness checked against a test driver whose "peer" is a flag (the real drivers with peers are
/// pointed at the harness by their integration tests). The driver below is a test double for the harness only.
/// </summary>
public class PeerLossHarnessTests
{
    private sealed class PeerDriver : EthDriver
    {
        public static volatile bool PeerPresent = true;
        public override string Name => "net_testpeer";
        public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>();
        public override EthDevice Create(DeviceArguments args) => new PeerDevice(args.DeviceName);
    }

    private sealed class PeerDevice(string name) : EthDevice(name)
    {
        public override DevInfo Info { get; } = new() { DriverName = "net_testpeer" };
        public override LinkStatus Link => new(PeerDriver.PeerPresent, 1000);
        public override void Configure(EthConf conf, int rxQueues, int txQueues) { }
        public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool) => new Rx(portId, queueId);
        public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf) => new Tx(portId, queueId);
        public override void Start() { }
        public override void Stop() { }
        public override void Close() { }
    }

    private sealed class Rx(ushort port, int queue) : RxQueue(port, queue)
    {
        public override int RxBurst(Span<Packet> packets)
        {
            if (!PeerDriver.PeerPresent)
                Counters.Errors++;
            return 0;
        }
    }

    private sealed class Tx(ushort port, int queue) : TxQueue(port, queue)
    {
        public override int TxBurst(Span<Packet> packets)
        {
            if (PeerDriver.PeerPresent)
            {
                Packet.FreeBulk(packets);
                Counters.Packets += (ulong)packets.Length;
                return packets.Length;
            }
            Counters.Errors += (ulong)packets.Length;
            return 0;
        }
    }

    [Fact]
    public void A_driver_that_keeps_the_contract_passes()
    {
        EthDriverRegistry.Register(new PeerDriver());
        PeerDriver.PeerPresent = true;
        using MbufPool pool = MbufPool.Create("peer_pool", 512, 0);
        EthDev port = EthDev.Create("net_testpeer0");
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        int inUse = pool.InUse;
        PeerLossResult r = PeerLossHarness.Run(port, pool, () => PeerDriver.PeerPresent = false, TimeSpan.FromSeconds(2));
        PeerLossHarness.AssertContract(r, port, pool, inUse);
        Assert.True(r.TimeToLinkDown < TimeSpan.FromSeconds(2));
    }
}
