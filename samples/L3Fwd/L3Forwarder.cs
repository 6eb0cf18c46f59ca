using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Samples.L3Fwd;

/// <summary>The forwarding loop's constants (l3fwd.h) and its per-packet header checks.</summary>
public static class L3Forwarder
{
    /// <summary>Packets per RX burst and per TX buffer (MAX_PKT_BURST).</summary>
    public const int MaxBurst = 32;

    /// <summary>TX buffers are flushed at least this often (BURST_TX_DRAIN_US).</summary>
    public const int DrainMicroseconds = 100;

    private const int Ethernet = EthernetHeader.Length;

    /// <summary>
    /// The RFC 1812 checks (section 5.2.2: link-layer length, version, header length, total length; the checksum
    /// unless the port verified it; section 5.3.1: a TTL of 1 or 0 is not forwarded) and their IPv6 counterparts.
    /// </summary>
    /// <param name="packet">The packet; its headers must be in the first segment.</param>
    /// <param name="ipv4Destination">The IPv4 destination address (host order) when the verdict is <see cref="Verdict.Ipv4"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Verdict Classify(Packet packet, out uint ipv4Destination)
    {
        ipv4Destination = 0;
        Span<byte> frame = packet.Data;
        if (frame.Length < Ethernet)
            return Verdict.NotIp;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == EtherType.Ipv4)
            return CheckIpv4(packet, frame[Ethernet..], out ipv4Destination);
        if (etherType == EtherType.Ipv6)
            return CheckIpv6(packet, frame[Ethernet..]);
        return Verdict.NotIp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Verdict CheckIpv4(Packet packet, Span<byte> bytes, out uint destination)
    {
        destination = 0;
        if (!Ipv4Header.TryCreate(bytes, out Ipv4Header ip))
            return Verdict.BadHeader;
        int headerLength = ip.HeaderLength;
        int totalLength = ip.TotalLength;
        if (ip.Version != 4 || headerLength < Ipv4Header.MinLength || headerLength > bytes.Length
            || totalLength < headerLength || totalLength > packet.Length - Ethernet)
            return Verdict.BadHeader;
        OffloadFlags checksum = packet.Flags & OffloadFlags.RxIpChecksumMask;
        if (checksum == OffloadFlags.RxIpChecksumBad || (checksum != OffloadFlags.RxIpChecksumGood && !ip.IsChecksumValid))
            return Verdict.BadChecksum;
        if (ip.TimeToLive <= 1)
            return Verdict.Expired;
        destination = ip.DestinationAddress;
        return Verdict.Ipv4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Verdict CheckIpv6(Packet packet, Span<byte> bytes)
    {
        if (!Ipv6Header.TryCreate(bytes, out Ipv6Header ip))
            return Verdict.BadHeader;
        if (ip.Version != 6 || Ipv6Header.Length + ip.PayloadLength > packet.Length - Ethernet)
            return Verdict.BadHeader;
        if (ip.HopLimit <= 1)
            return Verdict.Expired;
        return Verdict.Ipv6;
    }
}

/// <summary>What the header checks decided for one packet.</summary>
public enum Verdict : byte
{
    /// <summary>A valid IPv4 datagram with TTL of 2 or more: route it.</summary>
    Ipv4,

    /// <summary>A valid IPv6 packet with hop limit of 2 or more: route it.</summary>
    Ipv6,

    /// <summary>Dropped: neither IPv4 nor IPv6 (ARP, VLAN-tagged, a frame shorter than an Ethernet header).</summary>
    NotIp,

    /// <summary>Dropped: RFC 1812 5.2.2 (version, header length, total length, truncated datagram), or IPv6's equivalent.</summary>
    BadHeader,

    /// <summary>Dropped: the IPv4 header checksum is wrong (checked in software unless the port checked it).</summary>
    BadChecksum,

    /// <summary>Dropped: TTL or hop limit of 1 or 0 on arrival, which must not be forwarded (RFC 1812 5.3.1, RFC 8200 section 3).</summary>
    Expired,
}

/// <summary>
/// One port's counters as one lcore's loop keeps them (only that lcore writes; readers see recent values). 64 bytes,
/// a cache line, so two ports' or two lcores' counters never share one.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
public struct L3FwdCounters
{
    /// <summary>Packets received on the port.</summary>
    public long Received;

    /// <summary>Received packets sent back out of this port: no route, or a route to a port outside the port mask.</summary>
    public long NoRoute;

    /// <summary>Dropped: not IP.</summary>
    public long NotIp;

    /// <summary>Dropped: bad IP header.</summary>
    public long BadHeader;

    /// <summary>Dropped: bad IPv4 checksum.</summary>
    public long BadChecksum;

    /// <summary>Dropped: TTL or hop limit expired.</summary>
    public long Expired;

    /// <summary>All packets dropped on receive.</summary>
    public readonly long Dropped => NotIp + BadHeader + BadChecksum + Expired;
}

/// <summary>
/// Where packets for one output port go from one lcore: its TX buffer (one per lcore and port, so no lock) and the
/// 12 bytes of Ethernet addresses they get, destination then source (l3fwd's val_eth).
/// </summary>
public sealed class TxPort(TxBuffer buffer, MacAddress destination, MacAddress source)
{
    // Lanes 0-11 take the new addresses, lanes 12-15 (the EtherType and the first IP bytes) keep the packet's own.
    private static readonly Vector128<byte> s_addressLanes = Vector128.Create(
        (byte)0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0);

    private readonly Vector128<byte> _addresses = Addresses(destination, source);

    /// <summary>The buffer in front of the port's TX queue.</summary>
    public TxBuffer Buffer { get; } = buffer;

    /// <summary>Writes destination and source MAC over the first 12 bytes with one 16-byte load, blend and store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RewriteAddresses(Span<byte> frame)
    {
        Vector128<byte> head = Vector128.Create((ReadOnlySpan<byte>)frame);
        Vector128.ConditionalSelect(s_addressLanes, _addresses, head).CopyTo(frame);
    }

    private static Vector128<byte> Addresses(MacAddress destination, MacAddress source)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        destination.CopyTo(bytes);
        source.CopyTo(bytes[6..]);
        return Vector128.Create((ReadOnlySpan<byte>)bytes);
    }
}

/// <summary>One RX queue an lcore polls, with the id of its port (its position in the port list).</summary>
public readonly record struct RxQueueRef(EthDev Port, int PortId, int QueueId);

/// <summary>
/// One lcore's forwarding loop (DPDK l3fwd's lpm_main_loop / em_main_loop): receive a burst, check every header
/// (<see cref="Classify"/>), look up all next hops of the burst at once (<typeparamref name="TLookup"/>), then
/// decrement TTL or hop limit, rewrite the MACs and put each packet in its output port's TX buffer; buffers are
/// flushed when full and at least every 100 µs. Allocates nothing, takes no lock and throws nothing per packet.
/// </summary>
/// <typeparam name="TLookup">The lookup (<see cref="LpmLookup"/> or <see cref="EmLookup"/>); a struct, so its call is inlined.</typeparam>
public sealed class L3Forwarder<TLookup> : IPollWorker
    where TLookup : struct, IRouteLookup
{
    private const int Ethernet = EthernetHeader.Length;

    private readonly TLookup _lookup;
    private readonly RxQueueRef[] _rxQueues;
    private readonly TxPort?[] _txByPort;
    private readonly TxPort[] _txPorts;
    private readonly L3FwdCounters[] _counters;
    private readonly long _drainTicks = (Stopwatch.Frequency * L3Forwarder.DrainMicroseconds + 999_999) / 1_000_000;
    private long _lastDrain = Stopwatch.GetTimestamp();

    // The clock is a vDSO clock_gettime, about 50 cycles: perf put it at 3.5 % of the loop at full load. Under load
    // the TX buffers fill and flush by themselves, and the 100 µs drain matters only for light traffic; so after a
    // poll that filled every burst the clock is read only every 8th poll (8 full bursts take a few microseconds),
    // and after any other poll every time, as l3fwd does.
    private const int FullPollsPerClockRead = 8;
    private readonly int _fullPoll;
    private bool _lastPollFull;
    private int _fullPollsSinceClock;

    // Scratch for one burst, reused by every poll.
    private readonly Packet[] _burst = new Packet[L3Forwarder.MaxBurst];
    private readonly Verdict[] _verdicts = new Verdict[L3Forwarder.MaxBurst];
    private readonly uint[] _hops = new uint[L3Forwarder.MaxBurst];
    private readonly byte[] _ipv4Slots = new byte[L3Forwarder.MaxBurst];
    private readonly uint[] _ipv4Destinations = new uint[L3Forwarder.MaxBurst];
    private readonly byte[] _ipv6Slots = new byte[L3Forwarder.MaxBurst];
    private readonly Packet[] _dropped = new Packet[L3Forwarder.MaxBurst];

    /// <summary>Creates the loop of one lcore.</summary>
    /// <param name="lookup">This lcore's lookup (its own scratch space over shared tables).</param>
    /// <param name="rxQueues">The RX queues it polls.</param>
    /// <param name="txByPort">Its TX target for each enabled port id, null for the others (indexes up to 255).</param>
    /// <param name="counters">Its counters, indexed by port id + 1 (one spare entry at each end keeps other objects off their cache lines).</param>
    public L3Forwarder(TLookup lookup, RxQueueRef[] rxQueues, TxPort?[] txByPort, L3FwdCounters[] counters)
    {
        ArgumentNullException.ThrowIfNull(rxQueues);
        ArgumentNullException.ThrowIfNull(txByPort);
        ArgumentNullException.ThrowIfNull(counters);
        if (txByPort.Length != 256)
            throw new ArgumentException("txByPort needs 256 entries, one per possible next hop", nameof(txByPort));
        foreach (RxQueueRef rx in rxQueues)
        {
            if (txByPort[rx.PortId] is null)
                throw new ArgumentException($"RX port {rx.PortId} has no TX target: misses must go back out of it", nameof(txByPort));
        }
        _lookup = lookup;
        _rxQueues = rxQueues;
        _txByPort = txByPort;
        _txPorts = Array.FindAll(txByPort, t => t is not null)!;
        _counters = counters;
        _fullPoll = rxQueues.Length * L3Forwarder.MaxBurst;
    }

    /// <summary>The RX queues this loop polls.</summary>
    public ReadOnlySpan<RxQueueRef> RxQueues => _rxQueues;

    /// <summary>This lcore's TX targets, one per enabled port.</summary>
    public ReadOnlySpan<TxPort> TxPorts => _txPorts;

    /// <summary>This lcore's counters for <paramref name="portId"/>.</summary>
    public L3FwdCounters CountersOf(int portId) => _counters[portId + 1];

    /// <summary>One iteration: drain the TX buffers if 100 µs passed, then receive and route a burst from each RX queue.</summary>
    /// <remarks>
    /// Poll, Route and Send are compiled apart (NoInlining): folded into the caller's loop they would exhaust the JIT's
    /// inlining budget for one method, and the small header accessors they call would then stay calls.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Poll()
    {
        if (!_lastPollFull || ++_fullPollsSinceClock >= FullPollsPerClockRead)
        {
            _fullPollsSinceClock = 0;
            long now = Stopwatch.GetTimestamp();
            if (now - _lastDrain > _drainTicks)
            {
                Drain();
                _lastDrain = now;
            }
        }
        int received = 0;
        foreach (RxQueueRef rx in _rxQueues)
        {
            int n = rx.Port.RxBurst(rx.QueueId, _burst);
            if (n > 0)
            {
                Route(_burst.AsSpan(0, n), rx.PortId);
                received += n;
            }
        }
        _lastPollFull = received == _fullPoll;
        return received;
    }

    /// <summary>Sends what every TX buffer holds (also the last step on shutdown).</summary>
    public void Drain()
    {
        foreach (TxPort tx in _txPorts)
            tx.Buffer.Flush();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Route(Span<Packet> burst, int ingress)
    {
        ref L3FwdCounters counters = ref _counters[ingress + 1];
        counters.Received += burst.Length;
        int ipv4 = 0, ipv6 = 0;
        for (int i = 0; i < burst.Length; i++)
        {
            Verdict verdict = L3Forwarder.Classify(burst[i], out uint destination);
            _verdicts[i] = verdict;
            if (verdict == Verdict.Ipv4)
            {
                _ipv4Slots[ipv4] = (byte)i;
                _ipv4Destinations[ipv4++] = destination;
            }
            else if (verdict == Verdict.Ipv6)
            {
                _ipv6Slots[ipv6++] = (byte)i;
            }
        }
        _lookup.Lookup(burst, _ipv4Slots.AsSpan(0, ipv4), _ipv4Destinations.AsSpan(0, ipv4), _ipv6Slots.AsSpan(0, ipv6), _hops);
        Send(burst, ingress, ref counters);
    }

    /// <summary>Forwards each routed packet (misses back out of <paramref name="ingress"/>), frees the rest.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Send(Span<Packet> burst, int ingress, ref L3FwdCounters counters)
    {
        TxPort back = _txByPort[ingress]!;
        int dropped = 0;
        for (int i = 0; i < burst.Length; i++)
        {
            Packet packet = burst[i];
            Verdict verdict = _verdicts[i];
            if (verdict > Verdict.Ipv6)
            {
                _dropped[dropped++] = packet;
                Count(ref counters, verdict);
                continue;
            }
            uint hop = _hops[i];
            TxPort? tx = hop < (uint)_txByPort.Length ? _txByPort[hop] : null;
            if (tx is null)
            {
                tx = back;
                counters.NoRoute++;
            }
            Span<byte> frame = packet.Data;
            if (verdict == Verdict.Ipv4)
                new Ipv4Header(frame[Ethernet..]).DecrementTimeToLive();
            else
                frame[Ethernet + HopLimitOffset]--;
            tx.RewriteAddresses(frame);
            tx.Buffer.Add(packet);
        }
        if (dropped > 0)
            Packet.FreeBulk(_dropped.AsSpan(0, dropped));
    }

    private const int HopLimitOffset = 7;

    private static void Count(ref L3FwdCounters counters, Verdict verdict)
    {
        switch (verdict)
        {
            case Verdict.NotIp:
                counters.NotIp++;
                break;
            case Verdict.BadHeader:
                counters.BadHeader++;
                break;
            case Verdict.BadChecksum:
                counters.BadChecksum++;
                break;
            default:
                counters.Expired++;
                break;
        }
    }
}
