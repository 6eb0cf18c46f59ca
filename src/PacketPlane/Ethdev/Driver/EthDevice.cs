using System;
using System.Collections.Generic;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Ethdev.Driver;

/// <summary>Device-level counters a driver adds to the sums of its queues (e.g. kernel drop counts).</summary>
public readonly record struct DeviceCounters(ulong InMissed = 0, ulong InErrors = 0, ulong OutErrors = 0, ulong RxNoMbuf = 0);

/// <summary>
/// A device as a driver implements it (DPDK's eth_dev_ops). <see cref="EthDev"/> validates arguments and
/// state before calling in, so implementations only do the device work: by the time <see cref="Start"/> runs,
/// every queue is set up; <see cref="Stop"/> is called only on a started device; <see cref="Close"/> once.
/// </summary>
public abstract class EthDevice
{
    /// <summary>Creates the device.</summary>
    protected EthDevice(string name) => Name = name;

    /// <summary>Device name from the device string (net_null0).</summary>
    public string Name { get; }

    /// <summary>Capabilities and limits.</summary>
    public abstract DevInfo Info { get; }

    /// <summary>The port's MAC address.</summary>
    public virtual MacAddress MacAddress => default;

    /// <summary>Changes the MAC address.</summary>
    public virtual void SetMacAddress(MacAddress mac) =>
        throw new NotSupportedException($"{Name}: the driver cannot change the MAC address");

    /// <summary>Applies the port configuration (offloads already checked against <see cref="Info"/>).</summary>
    public abstract void Configure(EthConf conf, int rxQueues, int txQueues);

    /// <summary>Creates RX queue <paramref name="queueId"/> filling from <paramref name="pool"/>.</summary>
    public abstract RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool);

    /// <summary>Creates TX queue <paramref name="queueId"/>.</summary>
    public abstract TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf);

    /// <summary>Starts the device: after this the queues' bursts move packets.</summary>
    public abstract void Start();

    /// <summary>Stops the device. No burst is in flight (the application stopped polling first, as in DPDK).</summary>
    public abstract void Stop();

    /// <summary>Releases the device's resources (the queues were released just before).</summary>
    public abstract void Close();

    /// <summary>Link state.</summary>
    public virtual LinkStatus Link => new(true, 10_000);

    /// <summary>Promiscuous mode.</summary>
    public virtual bool Promiscuous { get; set; }

    /// <summary>All-multicast mode.</summary>
    public virtual bool AllMulticast { get; set; }

    /// <summary>Current MTU.</summary>
    public virtual int Mtu { get; protected set; } = 1500;

    /// <summary>Sets the MTU (already checked against <see cref="DevInfo.MinMtu"/>/<see cref="DevInfo.MaxMtu"/>).</summary>
    public virtual void SetMtu(int mtu) => Mtu = mtu;

    /// <summary>Counters kept by the device rather than the queues.</summary>
    public virtual DeviceCounters DeviceCounters => default;

    /// <summary>Driver-specific named statistics.</summary>
    public virtual IEnumerable<XStat> XStats => Array.Empty<XStat>();

    /// <summary>Clears device-level counters and driver statistics.</summary>
    public virtual void ResetStats()
    {
    }
}

/// <summary>
/// A driver: the name prefix it claims (<c>net_pcap</c>), the device-string arguments it takes, and the factory
/// for its devices. Register third-party drivers with <see cref="EthDriverRegistry.Register"/>.
/// </summary>
public abstract class EthDriver
{
    /// <summary>Name prefix, e.g. net_pcap; device names start with it (net_pcap0).</summary>
    public abstract string Name { get; }

    /// <summary>Accepted arguments and what each means; anything else is refused.</summary>
    public abstract IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Arguments that may be given more than once (net_pcap: one rx_pcap per queue); none by default.</summary>
    public virtual IReadOnlyCollection<string> RepeatableParameters => Array.Empty<string>();

    /// <summary>What the driver needs to run (privileges, kernel features), for errors and documentation.</summary>
    public virtual string Requirements => "nothing (runs unprivileged)";

    /// <summary>Creates a device from parsed arguments (already checked against <see cref="Parameters"/>).</summary>
    public abstract EthDevice Create(DeviceArguments args);
}
