using System;
using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Ring;

namespace PacketPlane.Drivers.Ring;

/// <summary>
/// Ports made from rings (DPDK's <c>rte_eth_from_rings</c>): RX queue i dequeues from <c>rxRings[i]</c>, TX queue
/// i enqueues onto <c>txRings[i]</c>. Packets move by handle, nothing is copied, so a pair of such ports is the
/// cheapest wire between two forwarding stages or two lcores.
/// </summary>
/// <example><code>
/// // L2Fwd over a software wire: what port A sends, port B receives, and back.
/// (EthDev a, EthDev b) = RingPort.CreatePair("a", "b");
/// </code></example>
public static class RingPort
{
    /// <summary>
    /// Creates port <c>net_ring_NAME</c> over the given rings, which stay the caller's (never disposed by the port;
    /// packets still in an RX ring are freed when the port's RX queue is released). Each ring needs a single
    /// producer and a single consumer at a time, or MP/MC flags.
    /// </summary>
    /// <exception cref="DeviceArgumentException">No rings, or a port of that name exists.</exception>
    public static EthDev FromRings(string name, IReadOnlyList<Ring<Packet>> rxRings, IReadOnlyList<Ring<Packet>> txRings)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(rxRings);
        ArgumentNullException.ThrowIfNull(txRings);
        if (rxRings.Count == 0 && txRings.Count == 0)
            throw new DeviceArgumentException($"ring port '{name}' needs at least one RX or TX ring");
        var wrapped = new Dictionary<Ring<Packet>, SharedRing>();
        SharedRing Wrap(Ring<Packet> r) => wrapped.TryGetValue(r, out SharedRing? s) ? s : wrapped[r] = SharedRing.Wrap(r);
        var set = new RingSet([.. Map(rxRings, Wrap)], [.. Map(txRings, Wrap)]);
        try
        {
            return Attach(DeviceName(name), set);
        }
        finally
        {
            foreach (SharedRing s in wrapped.Values)
                s.Release();
        }
    }

    /// <summary>A loopback port over one ring (rte_eth_from_ring): what it sends it receives.</summary>
    public static EthDev FromRing(Ring<Packet> ring, string? name = null) =>
        FromRings(name ?? ring.Name, [ring], [ring]);

    /// <summary>
    /// Creates two ports wired back to back: <paramref name="nameA"/>'s TX queue i feeds
    /// <paramref name="nameB"/>'s RX queue i and the other way round. The ports own the rings; whichever closes
    /// last frees what is left in them.
    /// </summary>
    /// <param name="nameA">Name of the first port (created as net_ring_NAME).</param>
    /// <param name="nameB">Name of the second port.</param>
    /// <param name="queues">RX and TX queues per port.</param>
    /// <param name="ringSize">Slots per ring (a power of two; holds one less).</param>
    public static (EthDev A, EthDev B) CreatePair(string nameA, string nameB, int queues = 1, int ringSize = RingDriver.DefaultRingSize)
    {
        if (queues < 1 || queues > 1024)
            throw new DeviceArgumentException($"a ring pair has 1 to 1024 queues, got {queues}");
        var aToB = new SharedRing[queues];
        var bToA = new SharedRing[queues];
        for (int i = 0; i < queues; i++)
        {
            aToB[i] = SharedRing.Create($"{nameA}_to_{nameB}_{i}", ringSize);
            bToA[i] = SharedRing.Create($"{nameB}_to_{nameA}_{i}", ringSize);
        }
        try
        {
            EthDev a = Attach(DeviceName(nameA), new RingSet(bToA, aToB));
            try
            {
                return (a, Attach(DeviceName(nameB), new RingSet(aToB, bToA)));
            }
            catch
            {
                a.Close();
                throw;
            }
        }
        finally
        {
            foreach (SharedRing r in aToB)
                r.Release();
            foreach (SharedRing r in bToA)
                r.Release();
        }
    }

    private static string DeviceName(string name) => name.StartsWith("net_ring", StringComparison.Ordinal) ? name : "net_ring_" + name;

    private static EthDev Attach(string deviceName, RingSet set)
    {
        RingDriver.Stage(deviceName, set);
        try
        {
            return EthDev.Create(deviceName);
        }
        finally
        {
            RingDriver.Unstage(deviceName);
        }
    }

    private static IEnumerable<SharedRing> Map(IReadOnlyList<Ring<Packet>> rings, Func<Ring<Packet>, SharedRing> wrap)
    {
        foreach (Ring<Packet> r in rings)
        {
            ArgumentNullException.ThrowIfNull(r);
            yield return wrap(r);
        }
    }
}
