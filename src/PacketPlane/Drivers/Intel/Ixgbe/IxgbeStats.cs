using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Internal;

namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>
/// The 82599 statistics registers (datasheet 8.2.3.23) accumulated into 64-bit totals. They clear on read, so
/// every read is added; reading them once at init clears what was there before (4.6.5). 36-bit byte counters are
/// a low register (32 bits) and a high one (4 bits), each clearing on its own read.
/// <para>Byte counts: the 82599 leaves the 4 CRC bytes out of received byte counters when it strips the CRC, and
/// counts them in transmitted ones (DPDK's ixgbe driver corrects for both); <see cref="TxGoodBytes"/> has them
/// taken out so both directions count frame bytes without CRC, like the queue counters.</para>
/// </summary>
internal sealed class IxgbeStats
{
    private const int Crc = 4;
    private readonly object _lock = new();
    private readonly ulong[] _qprc = new ulong[IxgbeRegs.QUEUE_STAT_COUNTERS];
    private readonly ulong[] _qptc = new ulong[IxgbeRegs.QUEUE_STAT_COUNTERS];
    private readonly ulong[] _qbrc = new ulong[IxgbeRegs.QUEUE_STAT_COUNTERS];
    private readonly ulong[] _qbtc = new ulong[IxgbeRegs.QUEUE_STAT_COUNTERS];
    private readonly ulong[] _qprdc = new ulong[IxgbeRegs.QUEUE_STAT_COUNTERS];
    private ulong _crcerrs, _illerrc, _errbc, _mpc, _rlec, _ruc, _roc, _rjc;
    private ulong _gprc, _gptc, _gorc, _gotc, _bprc, _mprc, _bptc, _mptc, _tpr, _tpt, _tor;

    public ulong TxGoodBytes => _gotc;

    /// <summary>Reads every counter once and throws the values away (4.6.5: counters clear on read).</summary>
    public void Clear(in Mmio regs)
    {
        lock (_lock)
        {
            Accumulate(regs);
            System.Array.Clear(_qprc);
            System.Array.Clear(_qptc);
            System.Array.Clear(_qbrc);
            System.Array.Clear(_qbtc);
            System.Array.Clear(_qprdc);
            _crcerrs = _illerrc = _errbc = _mpc = _rlec = _ruc = _roc = _rjc = 0;
            _gprc = _gptc = _gorc = _gotc = _bprc = _mprc = _bptc = _mptc = _tpr = _tpt = _tor = 0;
        }
    }

    /// <summary>Adds what the registers counted since the last read.</summary>
    public void Update(in Mmio regs)
    {
        lock (_lock)
            Accumulate(regs);
    }

    private void Accumulate(in Mmio regs)
    {
        _crcerrs += regs.Read32(IxgbeRegs.CRCERRS);
        _illerrc += regs.Read32(IxgbeRegs.ILLERRC);
        _errbc += regs.Read32(IxgbeRegs.ERRBC);
        for (int i = 0; i < 8; i++)
            _mpc += regs.Read32(IxgbeRegs.MPC(i));
        _rlec += regs.Read32(IxgbeRegs.RLEC);
        _ruc += regs.Read32(IxgbeRegs.RUC);
        _roc += regs.Read32(IxgbeRegs.ROC);
        _rjc += regs.Read32(IxgbeRegs.RJC);
        _gprc += regs.Read32(IxgbeRegs.GPRC);
        _bprc += regs.Read32(IxgbeRegs.BPRC);
        _mprc += regs.Read32(IxgbeRegs.MPRC);
        ulong gptc = regs.Read32(IxgbeRegs.GPTC);
        _gptc += gptc;
        _bptc += regs.Read32(IxgbeRegs.BPTC);
        _mptc += regs.Read32(IxgbeRegs.MPTC);
        _gorc += Read36(regs, IxgbeRegs.GORCL, IxgbeRegs.GORCH);
        _gotc += Read36(regs, IxgbeRegs.GOTCL, IxgbeRegs.GOTCH) - gptc * Crc;
        _tor += Read36(regs, IxgbeRegs.TORL, IxgbeRegs.TORH);
        _tpr += regs.Read32(IxgbeRegs.TPR);
        _tpt += regs.Read32(IxgbeRegs.TPT);
        for (int i = 0; i < IxgbeRegs.QUEUE_STAT_COUNTERS; i++)
        {
            _qprc[i] += regs.Read32(IxgbeRegs.QPRC(i));
            _qptc[i] += regs.Read32(IxgbeRegs.QPTC(i));
            _qprdc[i] += regs.Read32(IxgbeRegs.QPRDC(i));
            _qbrc[i] += Read36(regs, IxgbeRegs.QBRC_L(i), IxgbeRegs.QBRC_H(i));
            ulong qbtc = Read36(regs, IxgbeRegs.QBTC_L(i), IxgbeRegs.QBTC_H(i));
            _qbtc[i] += qbtc;
        }
    }

    private static ulong Read36(in Mmio regs, int low, int high) =>
        regs.Read32(low) + ((ulong)(regs.Read32(high) & 0xF) << 32);

    /// <summary>Packets the device dropped: no room in the packet buffer (MPC) or no descriptor with DROP_EN (QPRDC).</summary>
    public ulong Missed
    {
        get
        {
            lock (_lock)
            {
                ulong total = _mpc;
                foreach (ulong d in _qprdc)
                    total += d;
                return total;
            }
        }
    }

    /// <summary>Frames received with errors (CRC, illegal bytes, length, size).</summary>
    public ulong ReceiveErrors
    {
        get
        {
            lock (_lock)
                return _crcerrs + _illerrc + _errbc + _rlec + _ruc + _roc;
        }
    }

    /// <summary>Named counters, DPDK's ixgbe xstat names where DPDK has one.</summary>
    public IEnumerable<XStat> Named(int rxQueues, int txQueues)
    {
        lock (_lock)
        {
            var list = new List<XStat>
            {
                new("rx_crc_errors", _crcerrs),
                new("rx_illegal_byte_errors", _illerrc),
                new("rx_error_bytes", _errbc),
                new("rx_length_errors", _rlec),
                new("rx_undersize_errors", _ruc),
                new("rx_oversize_errors", _roc),
                new("rx_jabber_errors", _rjc),
                new("rx_no_buffer_packets_dropped", _mpc),
                new("mac_rx_good_packets", _gprc),
                new("mac_rx_good_bytes", _gorc),
                new("mac_tx_good_packets", _gptc),
                new("mac_tx_good_bytes", _gotc),
                new("rx_broadcast_packets", _bprc),
                new("rx_multicast_packets", _mprc),
                new("tx_broadcast_packets", _bptc),
                new("tx_multicast_packets", _mptc),
                new("rx_total_packets", _tpr),
                new("rx_total_bytes", _tor),
                new("tx_total_packets", _tpt),
            };
            for (int q = 0; q < rxQueues && q < IxgbeRegs.QUEUE_STAT_COUNTERS; q++)
            {
                list.Add(new($"hw_rx_q{q}_packets", _qprc[q]));
                list.Add(new($"hw_rx_q{q}_bytes", _qbrc[q]));
                list.Add(new($"hw_rx_q{q}_dropped", _qprdc[q]));
            }
            for (int q = 0; q < txQueues && q < IxgbeRegs.QUEUE_STAT_COUNTERS; q++)
            {
                list.Add(new($"hw_tx_q{q}_packets", _qptc[q]));
                list.Add(new($"hw_tx_q{q}_bytes", _qbtc[q]));
            }
            return list;
        }
    }
}
