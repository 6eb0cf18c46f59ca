using System;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.Ixgbe;

public sealed partial class Ixgbe82599Model
{
    private const uint ENABLE = 1u << 25;           // RXDCTL/TXDCTL.ENABLE
    private const uint SRRCTL_DESCTYPE_MASK = 0x0E000000;
    private const uint SRRCTL_ADV_ONEBUF = 0x02000000;
    private const uint SRRCTL_DROP_EN = 1u << 28;

    /// <summary>A receive or transmit queue's registers and the device's view of its ring.</summary>
    private sealed class QueueState
    {
        public ModelRegister Bal = null!, Bah = null!, Len = null!, Head = null!, Tail = null!, Ctl = null!;
        public ModelRegister? Srrctl;
        public bool Enabled;       // the device works the ring
        public bool Requested;     // the ENABLE bit as last written
        public bool Confirmed;     // the driver has read ENABLE back as 1
        public int LatchReads;     // reads that still show the old ENABLE state
        public uint DeviceHead => Head.Value;
        public bool Halted;        // stopped after a violation, so one mistake is reported once
        public byte[]? Frame;      // TX: the frame being gathered from its descriptors
        public int FrameLength;
        public uint PayLen;        // TX: PAYLEN from the frame's first descriptor
        public ulong Base => Bal.Value | ((ulong)Bah.Value << 32);
        public uint Count => Len.Value / 16;
        public uint TailValue => Tail.Value;
    }

    private readonly QueueState[] _rxq = new QueueState[Queues];
    private readonly QueueState[] _txq = new QueueState[Queues];

    private void DefineQueues()
    {
        for (int q = 0; q < Queues; q++)
        {
            _rxq[q] = DefineQueue(q, rx: true);
            _txq[q] = DefineQueue(q, rx: false);
        }
    }

    private QueueState DefineQueue(int q, bool rx)
    {
        int b = rx ? 0x01000 + 0x40 * q : 0x06000 + 0x40 * q;
        string p = rx ? "R" : "T";
        var s = new QueueState
        {
            Bal = Define(b + 0x00, $"{p}DBAL[{q}]", 0),
            Bah = Define(b + 0x04, $"{p}DBAH[{q}]", 0),
            Len = Define(b + 0x08, $"{p}DLEN[{q}]", 0),
            Head = Define(b + 0x10, $"{p}DH[{q}]", 0),
            Tail = Define(b + 0x18, $"{p}DT[{q}]", 0),
            Ctl = Define(b + 0x28, rx ? $"RXDCTL[{q}]" : $"TXDCTL[{q}]", 0),
        };
        if (rx)
        {
            s.Srrctl = Define(0x02100 + 4 * q, $"SRRCTL[{q}]", 0x2u); // reset: BSIZEPKT 2 KB, legacy descriptors
            Define(0x02200 + 4 * q, $"DCA_RXCTRL[{q}]", 1u << 12);
        }
        else
        {
            Define(0x0600C + 0x40 * q, $"DCA_TXCTRL[{q}]", 0);
        }
        string section = rx ? "4.6.7" : "4.6.8";
        foreach (ModelRegister? ring in new[] { s.Bal, s.Bah, s.Len, s.Srrctl })
        {
            if (ring is not ModelRegister r)
                continue;
            r.OnWrite = _ =>
            {
                if (s.Enabled)
                    Violation(section, $"{r.Name} written while queue {q} is enabled; program the ring before setting ENABLE");
            };
        }
        // The head's value is the device's head; the driver may set it only while the queue is off.
        s.Head.OnWrite = v =>
        {
            if (s.Enabled)
                Violation(section, $"{s.Head.Name} written ({v}) while queue {q} is enabled; only the device moves the head of a running queue");
        };
        s.Tail.OnWrite = v => OnTailWrite(s, q, v, rx);
        s.Ctl.OnWrite = v => OnQueueControlWrite(s, q, v, rx);
        s.Ctl.OnRead = () =>
        {
            if (s.LatchReads > 0 || (FaultQueueEnableNeverLatches && s.Requested))
            {
                if (FaultQueueEnableNeverLatches && s.Requested)
                    return s.Ctl.Value & ~ENABLE;
                // The enable (or disable) takes effect after this read: it still shows the old state.
                s.LatchReads--;
                return s.Requested ? s.Ctl.Value & ~ENABLE : s.Ctl.Value | ENABLE;
            }
            if (s.Requested && s.Enabled)
                s.Confirmed = true;
            return s.Requested ? s.Ctl.Value | ENABLE : s.Ctl.Value & ~ENABLE;
        };
        return s;
    }

    private void OnQueueControlWrite(QueueState s, int q, uint value, bool rx)
    {
        bool on = (value & ENABLE) != 0;
        if (on == s.Requested)
            return;
        s.Requested = on;
        s.LatchReads = 1;
        s.Confirmed = false;
        if (!on)
        {
            s.Enabled = false;
            return;
        }
        // The ring registers were written before the enable, whatever order this sync pass visits them in.
        foreach (ModelRegister? r in new[] { s.Bal, s.Bah, s.Len, s.Head, s.Srrctl, _dmatxctl })
        {
            if (r is not null)
                SyncRegister(r);
        }
        string section = rx ? "7.1.9" : "7.2.3";
        if (s.Len.Value == 0 || s.Len.Value % 128 != 0)
            Violation(section, $"queue {q} enabled with {(rx ? "RDLEN" : "TDLEN")} = {s.Len.Value}; the ring length must be a non-zero multiple of 128 bytes");
        if (s.Base % 128 != 0)
            Violation(section, $"queue {q} enabled with a ring base 0x{s.Base:x} that is not 128-byte aligned");
        CheckDma(s.Base, (int)s.Len.Value, $"{(rx ? "RX" : "TX")} queue {q} ring");
        if (rx)
        {
            uint srrctl = s.Srrctl!.Value;
            if ((srrctl & SRRCTL_DESCTYPE_MASK) != SRRCTL_ADV_ONEBUF)
                Violation("7.1.6", $"RX queue {q} enabled with SRRCTL.DESCTYPE 0x{(srrctl & SRRCTL_DESCTYPE_MASK) >> 25:x}; the model implements advanced one-buffer descriptors (001b)");
            if ((srrctl & 0x7F) == 0)
                Violation("8.2.3.8", $"RX queue {q} enabled with SRRCTL.BSIZEPKT = 0 (no receive buffer size)");
        }
        else
        {
            if ((_dmatxctl.Value & 1) == 0)
                Violation("4.6.8", $"TX queue {q} enabled while DMATXCTL.TE is clear; transmit DMA is enabled before the queues");
            if (((value >> 16) & 0x7F) != 0)
                Violation("7.2.3.5", $"TX queue {q} enabled with TXDCTL.WTHRESH = {(value >> 16) & 0x7F}; the model implements RS-driven write-back (WTHRESH = 0) only");
        }
        s.Enabled = true;
        s.Halted = false;
        if (s.DeviceHead >= Math.Max(1, s.Count))
            DeviceUpdate(s.Head, 0);
    }

    private void OnTailWrite(QueueState s, int q, uint value, bool rx)
    {
        string what = rx ? "RDT" : "TDT";
        if (s.Count > 0 && value >= s.Count)
        {
            Violation(rx ? "7.1.9" : "7.2.3", $"{what}[{q}] = {value} is beyond the {s.Count}-descriptor ring");
            s.Halted = true;
            return;
        }
        if (!s.Enabled)
        {
            // Writing 0 to a disabled queue's tail is its initialisation (4.6.7, 4.6.8); anything else hands the
            // device descriptors of a queue that is off.
            if (value != 0)
            {
                Violation(rx ? "4.6.7" : "4.6.8", rx
                    ? $"RDT[{q}] bumped to {value} while RX queue {q} is disabled: enable it, read RXDCTL.ENABLE back as 1, then write the tail"
                    : $"TDT[{q}] bumped to {value} while TX queue {q} is disabled: the queue is used before it is enabled");
            }
            return;
        }
        if (!s.Confirmed)
        {
            Violation(rx ? "4.6.7" : "4.6.8",
                $"{what}[{q}] written before {(rx ? "RXDCTL" : "TXDCTL")}[{q}].ENABLE was read back as 1 (the queue may not be on yet)");
        }
    }

    private void ResetQueues()
    {
        foreach (QueueState s in _rxq)
            ResetQueue(s);
        foreach (QueueState s in _txq)
            ResetQueue(s);
    }

    private static void ResetQueue(QueueState s)
    {
        s.Enabled = false;
        s.Requested = false;
        s.Confirmed = false;
        s.LatchReads = 0;
        s.Halted = false;
        s.FrameLength = 0;
    }

    /// <summary>The device moves a queue head one descriptor on (mirrored into the BAR word, see DeviceUpdate).</summary>
    private void AdvanceHead(QueueState s) => DeviceUpdate(s.Head, (s.DeviceHead + 1) % s.Count);

    /// <summary>The statistics counter a queue counts into (RQSMR/TQSM: one byte per queue, four queues per register).</summary>
    private int StatIndex(int q, bool rx)
    {
        ModelRegister map = rx ? _rqsmr[q / 4] : _tqsm[q / 4];
        return (int)((map.Value >> (8 * (q % 4))) & 0xF);
    }

    /// <summary>Whether RX queue <paramref name="q"/> is enabled (test inspection).</summary>
    public bool RxQueueEnabled(int q)
    {
        lock (Gate)
            return _rxq[q].Enabled;
    }

    /// <summary>Whether TX queue <paramref name="q"/> is enabled (test inspection).</summary>
    public bool TxQueueEnabled(int q)
    {
        lock (Gate)
            return _txq[q].Enabled;
    }
}
