using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;
using PacketPlane.DeviceModels.Ixgbe;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Tests.Ixgbe;

/// <summary>
/// An 82599 model attached at a fresh PCI address, and a port opened on it through the real device-string path
/// (pci:ADDRESS -> PciPortDriver -> IxgbeDevice), with a pool. Disposing closes the port, checks the pool is whole
/// again, and fails the test on any datasheet violation the model saw.
/// </summary>
internal sealed class IxgbeHarness : IDisposable
{
    private static int s_bus = 0x40;
    private readonly IDisposable _attachment;
    private bool _disposed;

    public IxgbeHarness(IEthernetWire? wire = null, int poolSize = 4096, string? deviceArgs = null, bool create = true)
    {
        int bus = Interlocked.Increment(ref s_bus);
        Address = new PciAddress(0, (byte)bus, 0, 0);
        Model = new Ixgbe82599Model(Address, wire);
        _attachment = PciFunctions.Attach(Model.Function);
        Pool = MbufPool.Create($"ixgbe{bus:x}", poolSize, cacheSize: 0);
        PoolInUseAtStart = Pool.InUse;
        if (create)
            Port = EthDev.Create($"pci:{Address}{(deviceArgs is null ? "" : "," + deviceArgs)}");
    }

    public PciAddress Address { get; }

    public Ixgbe82599Model Model { get; }

    public MbufPool Pool { get; }

    public EthDev Port { get; private set; } = null!;

    public int PoolInUseAtStart { get; }

    /// <summary>Configures <paramref name="queues"/> RX and TX queues and starts the port.</summary>
    public void Start(int queues = 1, EthConf? conf = null, int rxDescriptors = 512, int txDescriptors = 512, bool dropWhenFull = false,
        bool promiscuous = true)
    {
        Port.Configure(queues, queues, conf ?? new EthConf());
        // Before Start, so the first frame off the wire already passes the filter.
        Port.Promiscuous = promiscuous;
        for (int q = 0; q < queues; q++)
        {
            Port.SetupRxQueue(q, rxDescriptors, Pool, new RxQueueConf { DropWhenFull = dropWhenFull });
            Port.SetupTxQueue(q, txDescriptors);
        }
        Port.Start();
        Model.ThrowIfViolated();
    }

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes; fails fast on a violation.</summary>
    public void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Model.ThrowIfViolated();
            if (sw.Elapsed > timeout)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            Port?.Close();
            Model.ThrowIfViolated();
        }
        finally
        {
            _attachment.Dispose();
            Model.Dispose();
            Pool.Dispose();
        }
    }
}
