using System;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.Ixgbe;

public sealed partial class Ixgbe82599Model
{
    private const int MaxFrame = 16384;
    private const uint TXD_DEXT = 1u << 29, TXD_EOP = 1u << 24, TXD_IFCS = 1u << 25, TXD_RS = 1u << 27;
    private const uint HLREG0_TXCRCEN = 1u << 0, HLREG0_RXCRCSTRP = 1u << 1, HLREG0_JUMBOEN = 1u << 2, HLREG0_TXPADEN = 1u << 10, HLREG0_LPBK = 1u << 15;
    private const uint FCTRL_MPE = 1u << 8, FCTRL_UPE = 1u << 9, FCTRL_BAM = 1u << 10;

    private readonly PacketBuffer _rxBuffer;
    private readonly byte[] _wireScratch = new byte[MaxFrame];
    private readonly byte[] _rssInput = new byte[36];
    private readonly byte[] _rssKey = new byte[40];

    /// <inheritdoc/>
    protected override int Poll()
    {
        int work = Transmit();
        work += ReceiveFromWire();
        work += DeliverToQueues();
        return work;
    }

    // ---- transmit (7.2) ----

    private int Transmit()
    {
        if ((_dmatxctl.Value & 1) == 0)
            return 0;
        int work = 0;
        for (int q = 0; q < Queues; q++)
        {
            QueueState s = _txq[q];
            if (!s.Enabled || s.Halted || s.Count == 0)
                continue;
            int budget = 64;
            while (s.DeviceHead != s.TailValue && budget-- > 0)
            {
                // In loopback the transmitted frame lands in the receive packet buffer; wait while it is full.
                if ((_hlreg0.Value & HLREG0_LPBK) != 0 && !_rxBuffer.HasRoom(MaxFrame, RxBufferCapacity))
                    break;
                if (!TransmitDescriptor(q, s))
                {
                    s.Halted = true;
                    break;
                }
                AdvanceHead(s);
                work++;
            }
        }
        return work;
    }

    private bool TransmitDescriptor(int q, QueueState s)
    {
        ulong d = s.Base + s.DeviceHead * 16UL;
        if (!CheckDma(d, 16, $"TX queue {q} descriptor {s.DeviceHead}"))
            return false;
        ulong addr = Read64(d);
        uint ctl = Read32(d + 8);
        uint olinfo = Read32(d + 12);
        if ((ctl & TXD_DEXT) == 0 || ((ctl >> 20) & 0xF) != 0x3)
        {
            Violation("7.2.3.2.4", $"TX queue {q} descriptor {s.DeviceHead} is not an advanced data descriptor (DEXT {(ctl >> 29) & 1}, DTYP 0x{(ctl >> 20) & 0xF:x}); the model implements advanced data descriptors only");
            return false;
        }
        int len = (int)(ctl & 0xFFFF);
        if (addr == 0 || len == 0)
        {
            Violation("7.2.3.2.4", $"TX queue {q} descriptor {s.DeviceHead} has {(addr == 0 ? "no buffer address" : "a zero length")}");
            return false;
        }
        if (!CheckDma(addr, len, $"TX queue {q} buffer of descriptor {s.DeviceHead}"))
            return false;
        s.Frame ??= new byte[MaxFrame];
        if (s.FrameLength == 0)
            s.PayLen = olinfo >> 14; // PAYLEN is taken from the first descriptor of a frame
        if (s.FrameLength + len > MaxFrame)
        {
            Violation("7.2.3.2.4", $"TX queue {q}: a frame of more than {MaxFrame} bytes");
            return false;
        }
        ReadBytes(addr, s.Frame, s.FrameLength, len);
        s.FrameLength += len;
        if ((ctl & TXD_EOP) != 0)
        {
            if (s.PayLen != s.FrameLength)
                Violation("7.2.3.2.4", $"TX queue {q}: PAYLEN {s.PayLen} in the first descriptor differs from the {s.FrameLength} bytes the frame's descriptors hold");
            EmitFrame(q, s.Frame, s.FrameLength, (ctl & TXD_IFCS) != 0);
            s.FrameLength = 0;
        }
        if ((ctl & TXD_RS) != 0)
        {
            // 7.2.3.5 (WTHRESH = 0): the descriptor is written back with DD once the device is done with it; the
            // buffer was read above, so the driver may free it after seeing DD.
            WriteFence();
            Write64(d + 8, 1UL << 32);
        }
        return true;
    }

    private void EmitFrame(int q, byte[] frame, int length, bool insertFcs)
    {
        if (!insertFcs && (_hlreg0.Value & HLREG0_TXCRCEN) == 0)
        {
            // Software supplied the FCS itself: it must be right, and it is not part of the frame on our wire.
            if (length < 4 || EthernetCrc.Compute(frame.AsSpan(0, length - 4)) != BitConverter.ToUInt32(frame, length - 4))
                Violation("7.2.3.2.4", $"TX queue {q}: frame sent without IFCS or HLREG0.TXCRCEN and without a valid FCS of its own");
            length -= 4;
        }
        if (length < 60 && (_hlreg0.Value & HLREG0_TXPADEN) != 0)
        {
            Array.Clear(frame, length, 60 - length);
            length = 60;
        }
        int stat = StatIndex(q, rx: false);
        Count(_gptc);
        _gotc.Add((ulong)length + 4); // good octets transmitted include the FCS
        Count(_tpt);
        Count(_qptc[stat]);
        _qbtc[stat].Add((ulong)length);
        if ((frame[0] & 1) != 0)
            Count(frame.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0 ? _bptc : _mptc);
        FramesTransmitted++;
        BytesTransmitted += length;
        if ((_hlreg0.Value & HLREG0_LPBK) != 0)
            AcceptFrame(frame, length);
        else if (IsLinkUp())
            _wire.Transmit(frame.AsSpan(0, length));
    }

    // ---- receive (7.1) ----

    private long RxBufferCapacity => Math.Max(MaxFrame, (long)_rxpbsize[0].Value);

    private int ReceiveFromWire()
    {
        // In loopback the MAC takes nothing from the wire; without RXEN or link nothing is received.
        if ((_rxctrl.Value & 1) == 0 || (_hlreg0.Value & HLREG0_LPBK) != 0 || !IsLinkUp())
            return 0;
        int n = 0;
        while (n < 64 && _rxBuffer.HasRoom(MaxFrame, RxBufferCapacity))
        {
            int len = _wire.Receive(_wireScratch);
            if (len == 0)
                break;
            AcceptFrame(_wireScratch, len);
            n++;
        }
        return n;
    }

    /// <summary>The MAC's receive side: size checks, the address filter (8.2.3.7), then the packet buffer.</summary>
    private void AcceptFrame(byte[] frame, int length)
    {
        if ((_rxctrl.Value & 1) == 0)
            return;
        Count(_tpr);
        _tor.Add((ulong)length + 4);
        int maxFrame = (_hlreg0.Value & HLREG0_JUMBOEN) != 0 ? (int)(_maxfrs.Value >> 16) : 1518;
        if (length + 4 > maxFrame)
        {
            Count(_roc);
            return;
        }
        if (length + 4 < 64)
        {
            Count(_ruc);
            return;
        }
        if (!PassesFilter(frame))
        {
            FramesFiltered++;
            return;
        }
        if (!_rxBuffer.HasRoom(length, RxBufferCapacity))
        {
            Count(_mpc[0]); // packet buffer full: missed
            return;
        }
        Array.Copy(frame, _rxBuffer.NextSlot, length);
        _rxBuffer.Commit(length);
    }

    private bool PassesFilter(byte[] frame)
    {
        uint fctrl = _fctrl.Value;
        bool multicast = (frame[0] & 1) != 0;
        if (multicast)
        {
            bool broadcast = frame.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0;
            return broadcast ? (fctrl & FCTRL_BAM) != 0 || (fctrl & FCTRL_MPE) != 0 : (fctrl & FCTRL_MPE) != 0;
        }
        if ((fctrl & FCTRL_UPE) != 0)
            return true;
        uint low = (uint)(frame[0] | frame[1] << 8 | frame[2] << 16 | frame[3] << 24);
        uint high = (uint)(frame[4] | frame[5] << 8);
        for (int i = 0; i < 16; i++)
        {
            if ((_rah[i].Value & 0x80000000u) != 0 && _ral[i].Value == low && (_rah[i].Value & 0xFFFF) == high)
                return true;
        }
        return false;
    }

    private int DeliverToQueues()
    {
        int n = 0;
        while (_rxBuffer.Count > 0 && n < 64)
        {
            byte[] frame = _rxBuffer.PeekArray(out int length);
            (int q, uint hash, uint rssType) = Classify(frame, length);
            QueueState s = _rxq[q];
            bool dropEnabled = (s.Srrctl!.Value & SRRCTL_DROP_EN) != 0;
            int room = s.Enabled && !s.Halted ? FreeDescriptors(s) : 0;
            int needed = DescriptorsFor(s, length);
            if (room < needed)
            {
                if (!dropEnabled && s.Enabled && !s.Halted)
                    break; // head-of-line: the frame waits in the packet buffer for descriptors
                Count(_qprdc[StatIndex(q, rx: true)]);
                FramesDroppedNoDescriptor++;
                _rxBuffer.Pop();
                n++;
                continue;
            }
            if (!WriteToRing(q, s, frame, length, hash, rssType))
                s.Halted = true;
            _rxBuffer.Pop();
            n++;
        }
        return n;
    }

    private static int FreeDescriptors(QueueState s)
    {
        uint count = s.Count;
        return count == 0 ? 0 : (int)((s.TailValue + count - s.DeviceHead) % count);
    }

    private int DescriptorsFor(QueueState s, int length)
    {
        int strip = (_hlreg0.Value & HLREG0_RXCRCSTRP) != 0 ? 0 : 4;
        int buffer = (int)(s.Srrctl!.Value & 0x7F) * 1024;
        return buffer == 0 ? int.MaxValue : (length + strip + buffer - 1) / buffer;
    }

    /// <summary>DMA of one frame into the ring from the device head, one descriptor per buffer, EOP on the last (7.1.6, 7.1.9).</summary>
    private bool WriteToRing(int q, QueueState s, byte[] frame, int length, uint hash, uint rssType)
    {
        if ((_hlreg0.Value & HLREG0_RXCRCSTRP) == 0)
        {
            // CRC not stripped: the FCS follows the data in the buffer, as it came off the wire.
            BitConverter.TryWriteBytes(frame.AsSpan(length, 4), EthernetCrc.Compute(frame.AsSpan(0, length)));
            length += 4;
        }
        int buffer = (int)(s.Srrctl!.Value & 0x7F) * 1024;
        ushort pktInfo = (ushort)(rssType | PacketTypeBits(frame, length));
        uint hiDword = (_rxcsum.Value & (1u << 13)) != 0 ? hash : 0; // RXCSUM.PCSD: RSS hash instead of the checksum
        int offset = 0;
        while (offset < length)
        {
            ulong d = s.Base + s.DeviceHead * 16UL;
            if (!CheckDma(d, 16, $"RX queue {q} descriptor {s.DeviceHead}"))
                return false;
            ulong pktAddr = Read64(d);
            if (pktAddr == 0)
            {
                Violation("7.1.6.1", $"RX queue {q} descriptor {s.DeviceHead} has no buffer address (packet buffer address 0)");
                return false;
            }
            int chunk = Math.Min(buffer, length - offset);
            if (!CheckDma(pktAddr, chunk, $"RX queue {q} buffer of descriptor {s.DeviceHead}"))
                return false;
            WriteBytes(pktAddr, frame, offset, chunk);
            offset += chunk;
            uint status = 1u | (offset == length ? 2u : 0u); // DD, EOP
            // Write-back (7.1.6.2): packet info and hash first, then (after a fence) the status word with DD.
            Write64(d, pktInfo | ((ulong)hiDword << 32));
            WriteFence();
            Write64(d + 8, status | ((ulong)chunk << 32));
            AdvanceHead(s);
        }
        int stat = StatIndex(q, rx: true);
        int dataLength = (_hlreg0.Value & HLREG0_RXCRCSTRP) == 0 ? length - 4 : length;
        Count(_gprc);
        // With CRC stripping the 82599 counts received octets without the FCS (DPDK's ixgbe driver corrects for it).
        _gorc.Add((ulong)length);
        Count(_qprc[stat]);
        _qbrc[stat].Add((ulong)length);
        if ((frame[0] & 1) != 0)
            Count(frame.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0 ? _bprc : _mprc);
        FramesReceived++;
        BytesReceived += dataLength;
        FramesPerRxQueue[q]++;
        return true;
    }

    /// <summary>7.1.6.2 packet type: IPv4 0x010 (0x020 with options), IPv6 0x040, TCP 0x100, UDP 0x200, SCTP 0x400.</summary>
    private static uint PacketTypeBits(byte[] frame, int length)
    {
        FrameFields f = FrameFields.Parse(frame.AsSpan(0, length));
        uint t = f.L3 switch
        {
            FrameFields.L3Kind.Ipv4 => 0x010u | (f.Ipv4Options ? 0x020u : 0),
            FrameFields.L3Kind.Ipv6 => 0x040u,
            _ => 0,
        };
        t |= f.L4 switch
        {
            FrameFields.L4Kind.Tcp => 0x100u,
            FrameFields.L4Kind.Udp => 0x200u,
            FrameFields.L4Kind.Sctp => 0x400u,
            _ => 0,
        };
        return t;
    }

    /// <summary>
    /// Receive queue selection (7.1.2.8): with MRQC.MRQE = RSS, the hash function is chosen by the packet kind
    /// and the MRQC field bits (TCP, then UDP, then the address-only hash), Toeplitz over the RSSRK key, and the
    /// 7 low hash bits index the 128-entry redirection table. Without RSS, or for packets no enabled function
    /// covers, queue 0 and RSS type 0.
    /// </summary>
    private (int Queue, uint Hash, uint RssType) Classify(byte[] frame, int length)
    {
        uint mrqc = _mrqc.Value;
        if ((mrqc & 0xF) != 0x1)
            return (0, 0, 0);
        FrameFields f = FrameFields.Parse(frame.AsSpan(0, length));
        (uint type, bool ports) = (f.L3, f.L4) switch
        {
            (FrameFields.L3Kind.Ipv4, FrameFields.L4Kind.Tcp) when (mrqc & 0x00010000) != 0 => (1u, true),
            (FrameFields.L3Kind.Ipv4, FrameFields.L4Kind.Udp) when (mrqc & 0x00400000) != 0 => (7u, true),
            (FrameFields.L3Kind.Ipv4, _) when (mrqc & 0x00020000) != 0 => (2u, false),
            (FrameFields.L3Kind.Ipv6, FrameFields.L4Kind.Tcp) when (mrqc & 0x00200000) != 0 => (3u, true),
            (FrameFields.L3Kind.Ipv6, FrameFields.L4Kind.Udp) when (mrqc & 0x00800000) != 0 => (8u, true),
            (FrameFields.L3Kind.Ipv6, _) when (mrqc & 0x00100000) != 0 => (5u, false),
            _ => (0u, false),
        };
        if (type == 0)
            return (0, 0, 0);
        for (int i = 0; i < 10; i++)
        {
            uint k = _rssrk[i].Value;
            _rssKey[4 * i] = (byte)k;
            _rssKey[4 * i + 1] = (byte)(k >> 8);
            _rssKey[4 * i + 2] = (byte)(k >> 16);
            _rssKey[4 * i + 3] = (byte)(k >> 24);
        }
        int n = f.RssInput(frame.AsSpan(0, length), ports, _rssInput);
        uint hash = Toeplitz.Hash(_rssKey, _rssInput.AsSpan(0, n));
        int entry = (int)(hash & 0x7F);
        int queue = (int)((_reta[entry / 4].Value >> (8 * (entry % 4))) & 0xF);
        return (queue, hash, type);
    }

    /// <summary>The RSS key as the driver programmed it (RSSRK, byte 0 in bits 7:0 of RSSRK[0]).</summary>
    public byte[] ProgrammedRssKey()
    {
        lock (Gate)
        {
            var key = new byte[40];
            for (int i = 0; i < 10; i++)
                BitConverter.TryWriteBytes(key.AsSpan(4 * i), _rssrk[i].Value);
            return key;
        }
    }

    /// <summary>The redirection table as the driver programmed it: queue per entry.</summary>
    public int[] ProgrammedRedirectionTable()
    {
        lock (Gate)
        {
            var table = new int[128];
            for (int i = 0; i < 128; i++)
                table[i] = (int)((_reta[i / 4].Value >> (8 * (i % 4))) & 0xF);
            return table;
        }
    }

    /// <summary>MRQC as programmed.</summary>
    public uint ProgrammedMrqc
    {
        get
        {
            lock (Gate)
                return _mrqc.Value;
        }
    }
}
