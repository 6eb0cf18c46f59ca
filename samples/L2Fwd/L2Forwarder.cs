using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Samples.L2Fwd;

/// <summary>One lcore's forwarding loop (DPDK l2fwd_main_loop): receive, rewrite MACs, buffer, drain every 100 µs.</summary>
public sealed class L2Forwarder
{
    /// <summary>Packets per RX burst (l2fwd's MAX_PKT_BURST).</summary>
    public const int MaxBurst = 32;

    /// <summary>TX buffers are flushed at least this often (l2fwd's BURST_TX_DRAIN_US).</summary>
    public const int DrainMicroseconds = 100;

    private readonly RxPort[] _rxPorts;
    private readonly TxPort[] _txPorts;
    private readonly PortCounters[] _counters;
    private readonly ForwardingControl _control;
    private readonly bool _macUpdating;

    internal L2Forwarder(int lcoreId, RxPort[] rxPorts, TxPort[] txPorts, PortCounters[] counters, ForwardingControl control, bool macUpdating)
    {
        LcoreId = lcoreId;
        _rxPorts = rxPorts;
        _txPorts = txPorts;
        _counters = counters;
        _control = control;
        _macUpdating = macUpdating;
    }

    /// <summary>The lcore this loop runs on.</summary>
    public int LcoreId { get; }

    /// <summary>Port numbers this lcore receives from.</summary>
    public int[] RxPortIds => Array.ConvertAll(_rxPorts, r => r.PortId);

    /// <summary>Time the last <see cref="Run"/> spent in its loop, in <see cref="Stopwatch"/> ticks.</summary>
    public long ElapsedTicks { get; private set; }

    /// <summary>Managed bytes this thread allocated during the last <see cref="Run"/> (should be 0).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Forwards until <see cref="ForwardingControl.RequestStop"/>, then sends what is buffered.</summary>
    public void Run()
    {
        Span<Packet> burst = stackalloc Packet[MaxBurst];
        long drainTicks = Stopwatch.Frequency * DrainMicroseconds / 1_000_000;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long lastDrain = Stopwatch.GetTimestamp();
        long start = lastDrain;
        while (!_control.StopRequested)
        {
            long now = Stopwatch.GetTimestamp();
            if (now - lastDrain > drainTicks)
            {
                Drain();
                lastDrain = now;
            }
            foreach (RxPort rx in _rxPorts)
            {
                int n = rx.Port.RxBurst(0, burst);
                if (n == 0)
                    continue;
                _counters[rx.PortId].Received += n;
                for (int i = 0; i < n; i++)
                {
                    if (_macUpdating)
                        rx.RewriteMacs(burst[i]);
                    _counters[rx.TxPortId].Sent += rx.TxBuffer.Add(burst[i]);
                }
            }
        }
        Drain();
        ElapsedTicks = Stopwatch.GetTimestamp() - start;
        AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    }

    private void Drain()
    {
        foreach (TxPort tx in _txPorts)
            _counters[tx.PortId].Sent += tx.Buffer.Flush();
    }
}

/// <summary>A TX port of a forwarder: its buffer and its number in the application's port list.</summary>
internal readonly record struct TxPort(TxBuffer Buffer, int PortId);

/// <summary>
/// An RX port of a forwarder, with where its packets go and the MAC bytes they get (l2fwd_mac_updating). Port
/// numbers are positions in the application's port list (DPDK's port ids).
/// </summary>
internal readonly struct RxPort
{
    private readonly ulong _head;
    private readonly uint _tail;

    public RxPort(EthDev port, int portId, TxPort tx)
    {
        Port = port;
        PortId = portId;
        TxBuffer = tx.Buffer;
        TxPortId = tx.PortId;
        // Destination 02:00:00:00:00:<tx port>, source the TX port's MAC: 12 bytes written as 8 + 4.
        Span<byte> macs = stackalloc byte[12];
        macs.Clear();
        macs[0] = 0x02;
        macs[5] = (byte)TxPortId;
        tx.Buffer.Port.MacAddress.CopyTo(macs[6..]);
        _head = MemoryMarshal.Read<ulong>(macs);
        _tail = MemoryMarshal.Read<uint>(macs[8..]);
    }

    public EthDev Port { get; }

    public int PortId { get; }

    public TxBuffer TxBuffer { get; }

    public int TxPortId { get; }

    public void RewriteMacs(Packet packet)
    {
        Span<byte> frame = packet.Data;
        if (frame.Length < 12)
            return; // a runt has no addresses to rewrite
        MemoryMarshal.Write(frame, in _head);
        MemoryMarshal.Write(frame[8..], in _tail);
    }
}

/// <summary>Per-port counters, each field written by one lcore (l2fwd_port_statistics), padded against false sharing.</summary>
public sealed class PortCounters
{
#pragma warning disable CS0169, IDE0051 // padding keeps two ports' counters off one cache line
    private readonly CacheLinePad _before;
#pragma warning restore CS0169, IDE0051

    /// <summary>Packets received.</summary>
    public long Received;

    /// <summary>Packets the TX port took.</summary>
    public long Sent;

#pragma warning disable CS0169, IDE0051
    private readonly CacheLinePad _after;
#pragma warning restore CS0169, IDE0051
}

[System.Runtime.CompilerServices.InlineArray(8)]
internal struct CacheLinePad
{
    private long _element;
}

/// <summary>The stop flag every forwarding loop polls (l2fwd's force_quit).</summary>
public sealed class ForwardingControl
{
    private volatile bool _stop;

    /// <summary>True once a stop was asked for.</summary>
    public bool StopRequested => _stop;

    /// <summary>Asks every loop to finish its current iteration, send what it buffered, and return.</summary>
    public void RequestStop() => _stop = true;

    /// <summary>Re-arms the flag after a stop, so the loops can run again (tests warm up, then measure).</summary>
    public void Reset() => _stop = false;
}
