using System;
using System.Diagnostics;
using System.Threading;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;
using PacketPlane.DeviceModels.I40e;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Tests.I40e;

/// <summary>An X710 model attached at a fresh PCI address with a port opened on it (pci:ADDRESS); checks on dispose.</summary>
internal sealed class I40eHarness : IDisposable
{
    private static int s_bus = 0x80;
    private readonly IDisposable _attachment;
    private bool _disposed;

    public I40eHarness(IEthernetWire? wire = null, int poolSize = 4096, string? deviceArgs = null, bool create = true)
    {
        int bus = Interlocked.Increment(ref s_bus);
        Address = new PciAddress(0, (byte)bus, 0, 0);
        Model = new X710Model(Address, wire);
        _attachment = PciFunctions.Attach(Model.Function);
        Pool = MbufPool.Create($"i40e{bus:x}", poolSize, cacheSize: 0);
        PoolInUseAtStart = Pool.InUse;
        if (create)
            Port = EthDev.Create($"pci:{Address}{(deviceArgs is null ? "" : "," + deviceArgs)}");
    }

    public PciAddress Address { get; }

    public X710Model Model { get; }

    public MbufPool Pool { get; }

    public EthDev Port { get; private set; } = null!;

    public int PoolInUseAtStart { get; }

    public void Start(int queues = 1, EthConf? conf = null, int rxDescriptors = 512, int txDescriptors = 512, bool promiscuous = true)
    {
        Port.Configure(queues, queues, conf ?? new EthConf());
        Port.Promiscuous = promiscuous;
        for (int q = 0; q < queues; q++)
        {
            Port.SetupRxQueue(q, rxDescriptors, Pool);
            Port.SetupTxQueue(q, txDescriptors);
        }
        Port.Start();
        Model.ThrowIfViolated();
    }

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
