using System;
using System.Runtime.CompilerServices;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Ethdev;

/// <summary>
/// Receives the packets a <see cref="TxBuffer"/> flush could not send. The handler owns them: it must send,
/// free, or keep each one.
/// </summary>
public delegate void TxBufferUnsentHandler(ReadOnlySpan<Packet> unsent);

/// <summary>
/// Collects packets for one TX queue and sends them in bursts (DPDK's <c>rte_eth_dev_tx_buffer</c>): a send
/// happens when <see cref="Size"/> packets are waiting, or when the application calls <see cref="Flush"/> (l2fwd
/// and l3fwd drain every 100 µs so a quiet link still gets its packets out). Packets the port refuses are freed
/// and counted in <see cref="Dropped"/> (rte_eth_tx_buffer_count_callback), or handed to
/// <see cref="UnsentHandler"/> when one is set.
/// </summary>
/// <remarks>
/// One buffer per (port, queue) per lcore: like the queue itself, it is not thread-safe. <see cref="Add"/> and
/// <see cref="Flush"/> allocate nothing and never throw.
/// </remarks>
public sealed class TxBuffer
{
    /// <summary>DPDK samples' burst: 32 packets.</summary>
    public const int DefaultSize = 32;

    private readonly Packet[] _packets;
    private int _count;

    /// <summary>Creates a buffer that sends on <paramref name="port"/>'s TX queue <paramref name="queueId"/>.</summary>
    public TxBuffer(EthDev port, int queueId, int size = DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(port);
        if (size < 1 || size > 1024)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(size), $"a TX buffer holds 1 to 1024 packets, got {size}");
        if (queueId < 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(queueId), $"queue id {queueId} is negative");
        Port = port;
        QueueId = queueId;
        _packets = new Packet[size];
    }

    /// <summary>The port packets go out on.</summary>
    public EthDev Port { get; }

    /// <summary>The TX queue packets go out on.</summary>
    public int QueueId { get; }

    /// <summary>Packets collected before a send.</summary>
    public int Size => _packets.Length;

    /// <summary>Packets waiting.</summary>
    public int Count => _count;

    /// <summary>Packets the port refused that were freed (when no <see cref="UnsentHandler"/> is set).</summary>
    public ulong Dropped { get; private set; }

    /// <summary>Packets the port took.</summary>
    public ulong Sent { get; private set; }

    /// <summary>
    /// Called with the packets a send could not place, instead of freeing them. Set it before forwarding starts.
    /// </summary>
    public TxBufferUnsentHandler? UnsentHandler { get; set; }

    /// <summary>
    /// Adds a packet (the buffer owns it now). When the buffer is full, sends it; returns the number of packets
    /// the port took in that send, else 0 (rte_eth_tx_buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(Packet packet)
    {
        Packet[] packets = _packets;
        int count = _count;
        packets[count++] = packet;
        _count = count;
        return count < packets.Length ? 0 : Flush();
    }

    /// <summary>Sends whatever is waiting; returns how many packets the port took (rte_eth_tx_buffer_flush).</summary>
    public int Flush()
    {
        int count = _count;
        if (count == 0)
            return 0;
        _count = 0;
        Span<Packet> waiting = _packets.AsSpan(0, count);
        int sent = Port.TxBurst(QueueId, waiting);
        Sent += (ulong)sent;
        if (sent < count)
            HandleUnsent(waiting[sent..]);
        return sent;
    }

    /// <summary>Frees whatever is waiting without sending it (for teardown when the port is gone).</summary>
    public void Discard()
    {
        Packet.FreeBulk(_packets.AsSpan(0, _count));
        _count = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandleUnsent(Span<Packet> unsent)
    {
        TxBufferUnsentHandler? handler = UnsentHandler;
        if (handler is not null)
        {
            handler(unsent);
            return;
        }
        Dropped += (ulong)unsent.Length;
        Packet.FreeBulk(unsent);
    }
}
