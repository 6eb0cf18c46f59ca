using System;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

public sealed partial class X710Model
{
    private const uint QENA_REQ = 1u << 0, QENA_STAT = 1u << 2;

    private sealed class LanQueue
    {
        public ModelRegister Ena = null!, Tail = null!;
        public ModelRegister? Ctl, Head;   // TX only
        public bool Requested;             // QENA_REQ as last written
        public bool Enabled;               // QENA_STAT: the queue is running
        public int LatchReads;             // reads that still show the old QENA_STAT
        public bool PreDisableCleared;     // TX: GLLAN_TXPRE_QDIS cleared for this queue
        public bool Halted;
        // From the context at enable.
        public ulong Base;
        public uint Count;
        public uint DeviceHead;
        public int BufferBytes;            // RX: DBUFF * 128
        public bool CrcStrip;
        public int MaxFrame;               // RX: RXMAX
        public byte[]? Frame;              // TX gather
        public int FrameLength;
        public uint TailValue => Tail.Value;
    }

    private readonly LanQueue[] _rxq = new LanQueue[Queues];
    private readonly LanQueue[] _txq = new LanQueue[Queues];

    private void DefineQueueRegisters()
    {
        for (int q = 0; q < Queues; q++)
        {
            int queue = q;
            var rx = new LanQueue
            {
                Ena = Define(0x00120000 + 4 * q, $"QRX_ENA[{q}]", 0, RegisterKind.ReadWrite, readOnlyBits: QENA_STAT),
                Tail = Define(0x00128000 + 4 * q, $"QRX_TAIL[{q}]", 0),
            };
            var tx = new LanQueue
            {
                Ena = Define(0x00100000 + 4 * q, $"QTX_ENA[{q}]", 0, RegisterKind.ReadWrite, readOnlyBits: QENA_STAT),
                Tail = Define(0x00108000 + 4 * q, $"QTX_TAIL[{q}]", 0),
                Ctl = Define(0x00104000 + 4 * q, $"QTX_CTL[{q}]", 0),
                Head = Define(0x000E4000 + 4 * q, $"QTX_HEAD[{q}]", 0),
            };
            rx.Ena.OnWrite = v => OnEnableWrite(rx, queue, v, isRx: true);
            tx.Ena.OnWrite = v => OnEnableWrite(tx, queue, v, isRx: false);
            rx.Ena.OnRead = () => EnableReadBack(rx);
            tx.Ena.OnRead = () => EnableReadBack(tx);
            rx.Tail.OnWrite = v => OnTailWrite(rx, queue, v, isRx: true);
            tx.Tail.OnWrite = v => OnTailWrite(tx, queue, v, isRx: false);
            tx.Head!.OnWrite = v =>
            {
                if (tx.Enabled)
                    Violation("LAN transmit queue enable", $"QTX_HEAD[{queue}] written while TX queue {queue} is enabled");
            };
            tx.Ctl!.OnWrite = _ =>
            {
                if (tx.Enabled)
                    Violation("LAN transmit queue enable", $"QTX_CTL[{queue}] changed while TX queue {queue} is enabled");
            };
            _rxq[q] = rx;
            _txq[q] = tx;
        }
        // Pre-queue-disable for absolute queues 0-127 (this PF's queues start at 0): QINDX names the queue, SET_QDIS or
        // CLEAR_QDIS announces a disable or an enable. The command bits are consumed and read back as 0.
        _txPreQdis = Define(0x000E6500, "GLLAN_TXPRE_QDIS[0]", 0);
        _txPreQdis.OnWrite = v =>
        {
            int q = (int)(v & 0x7FF);
            bool set = (v & (1u << 30)) != 0, clear = (v & (1u << 31)) != 0;
            if (set && clear)
                Violation("LAN transmit queue enable", "GLLAN_TXPRE_QDIS written with both SET_QDIS and CLEAR_QDIS");
            else if (q < Queues && (set || clear))
                _txq[q].PreDisableCleared = clear;
            DeviceUpdate(_txPreQdis, v & 0x7FF);
        };
    }

    private uint EnableReadBack(LanQueue s)
    {
        uint v = s.Ena.Value & ~QENA_STAT;
        bool stat = s.Enabled;
        if (s.LatchReads > 0)
        {
            // The request takes a moment: QENA_STAT still shows the old state on this read.
            s.LatchReads--;
            stat = !s.Requested;
        }
        if (FaultQueueNeverEnables && s.Requested)
            stat = false;
        return stat ? v | QENA_STAT : v;
    }

    private void OnEnableWrite(LanQueue s, int q, uint value, bool isRx)
    {
        bool req = (value & QENA_REQ) != 0;
        if (req == s.Requested)
            return;
        s.Requested = req;
        s.LatchReads = 1;
        if (!req)
        {
            s.Enabled = false;
            return;
        }
        string section = isRx ? "LAN receive queue enable" : "LAN transmit queue enable";
        if (!isRx)
            SyncRegister(s.Ctl!);
        byte[]? ctx = ReadContext(q, isRx);
        if (ctx is null)
            return; // the violation names the broken HMC link; the queue stays off
        if (isRx ? !LoadRxContext(s, q, ctx) : !LoadTxContext(s, q, ctx))
            return;
        if (!isRx)
        {
            uint ctl = s.Ctl!.Value;
            if ((ctl & 0x3) != 0x2 || ((ctl >> 2) & 0xF) != 0)
                Violation(section, $"TX queue {q} enabled while QTX_CTL[{q}] = 0x{ctl:x} does not assign it to this PF (PFVF_Q = 2, PF_INDX = 0)");
            if (!s.PreDisableCleared)
                Violation(section, $"TX queue {q} enabled without first clearing its pre-queue-disable (GLLAN_TXPRE_QDIS with CLEAR_QDIS)");
            DeviceUpdate(s.Head!, 0);
        }
        s.Enabled = true;
        s.Halted = false;
    }

    private bool LoadRxContext(LanQueue s, int q, byte[] ctx)
    {
        const string Section = "LAN receive queue context";
        s.Base = Field(ctx, 32, 57) * 128;
        s.Count = (uint)Field(ctx, 89, 13);
        s.DeviceHead = (uint)Field(ctx, 0, 13);
        s.BufferBytes = (int)Field(ctx, 102, 7) * 128;
        s.CrcStrip = Field(ctx, 117, 1) != 0;
        s.MaxFrame = (int)Field(ctx, 174, 14);
        bool ok = true;
        if (s.Count == 0 || s.Base == 0)
            ok = Fail(Section, $"RX queue {q} enabled with a context that has no ring (base 0x{s.Base:x}, qlen {s.Count})");
        else if (!CheckDma(s.Base, (int)s.Count * 32, $"RX queue {q} ring"))
            ok = false;
        if (s.BufferBytes == 0)
            ok = Fail(Section, $"RX queue {q} enabled with DBUFF 0 (no receive buffer size)");
        if (Field(ctx, 116, 1) == 0)
            ok = Fail(Section, $"RX queue {q} uses 16-byte descriptors (DSIZE 0); the model implements 32-byte descriptors only");
        if (Field(ctx, 114, 2) != 0 || Field(ctx, 120, 4) != 0)
            ok = Fail(Section, $"RX queue {q} enables header split (DTYPE/HSPLIT_0), which the model does not implement");
        if (s.MaxFrame < 64)
            ok = Fail(Section, $"RX queue {q} enabled with RXMAX {s.MaxFrame}: no frame would be accepted");
        return ok;
    }

    private bool LoadTxContext(LanQueue s, int q, byte[] ctx)
    {
        const string Section = "LAN transmit queue context";
        s.Base = Field(ctx, 32, 57) * 128;
        s.Count = (uint)Field(ctx, 128 + 33, 13);
        s.DeviceHead = (uint)Field(ctx, 0, 13);
        s.FrameLength = 0;
        bool ok = true;
        if (s.Count == 0 || s.Base == 0)
            ok = Fail(Section, $"TX queue {q} enabled with a context that has no ring (base 0x{s.Base:x}, qlen {s.Count})");
        else if (!CheckDma(s.Base, (int)s.Count * 16, $"TX queue {q} ring"))
            ok = false;
        if (Field(ctx, 30, 1) == 0)
            ok = Fail(Section, $"TX queue {q} context without NEW_CONTEXT set (a fresh context must say so)");
        if (Field(ctx, 128 + 32, 1) != 0)
            ok = Fail(Section, $"TX queue {q} enables head write-back, which the model does not implement");
        if (Field(ctx, 7 * 128 + 84, 10) != VsiQsHandle)
            ok = Fail(Section, $"TX queue {q} context RDYLIST {Field(ctx, 7 * 128 + 84, 10)} is not the VSI's queue set handle {VsiQsHandle}");
        return ok;
    }

    private bool Fail(string section, string message)
    {
        Violation(section, message);
        return false;
    }

    private void OnTailWrite(LanQueue s, int q, uint value, bool isRx)
    {
        string what = isRx ? "QRX_TAIL" : "QTX_TAIL";
        if (s.Enabled && s.Count > 0 && value >= s.Count)
        {
            Violation(isRx ? "LAN receive queue" : "LAN transmit queue", $"{what}[{q}] = {value} is beyond the {s.Count}-descriptor ring");
            s.Halted = true;
            return;
        }
        // A receive tail may be written before the enable (it hands buffers over in advance); a transmit tail
        // bump on a queue that is off hands the device work it cannot do.
        if (!isRx && !s.Enabled && value != 0)
            Violation("LAN transmit queue enable", $"QTX_TAIL[{q}] bumped to {value} while TX queue {q} is not enabled: the queue is used before it is enabled");
    }

    private void ResetQueues()
    {
        foreach (LanQueue[] set in new[] { _rxq, _txq })
        {
            foreach (LanQueue s in set)
            {
                if (s is null)
                    continue;
                s.Requested = false;
                s.Enabled = false;
                s.LatchReads = 0;
                s.PreDisableCleared = false;
                s.Halted = false;
                s.FrameLength = 0;
            }
        }
    }

    private bool AnyQueueEnabled()
    {
        foreach (LanQueue s in _rxq)
        {
            if (s.Enabled)
                return true;
        }
        foreach (LanQueue s in _txq)
        {
            if (s.Enabled)
                return true;
        }
        return false;
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
