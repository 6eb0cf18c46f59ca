using System;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

public sealed partial class X710Model
{
    private const int MaxFrameBytes = 16384;
    private const long RxBufferCapacity = 512 * 1024;

    private readonly PacketBuffer _rxBuffer;
    private readonly byte[] _wireScratch = new byte[MaxFrameBytes];
    private readonly byte[] _rssInput = new byte[36];
    private readonly byte[] _rssKey = new byte[52];

    /// <inheritdoc/>
    protected override int Poll()
    {
        int work = ProcessAdminQueue();
        work += Transmit();
        work += ReceiveFromWire();
        work += DeliverToQueues();
        return work;
    }

    // ---- transmit ----

    private int Transmit()
    {
        int work = 0;
        for (int q = 0; q < Queues; q++)
        {
            LanQueue s = _txq[q];
            if (!s.Enabled || s.Halted || s.Count == 0)
                continue;
            int budget = 64;
            while (s.DeviceHead != s.TailValue && budget-- > 0)
            {
                if (!TransmitDescriptor(q, s))
                {
                    s.Halted = true;
                    break;
                }
                s.DeviceHead = (s.DeviceHead + 1) % s.Count;
                DeviceUpdate(s.Head!, s.DeviceHead);
                work++;
            }
        }
        return work;
    }

    private bool TransmitDescriptor(int q, LanQueue s)
    {
        const string Section = "transmit data descriptor";
        ulong d = s.Base + s.DeviceHead * 16UL;
        if (!CheckDma(d, 16, $"TX queue {q} descriptor {s.DeviceHead}"))
            return false;
        ulong addr = Read64(d);
        ulong qw1 = Read64(d + 8);
        uint dtype = (uint)(qw1 & 0xF);
        ulong cmd = (qw1 >> 4) & 0x3FF;
        int size = (int)((qw1 >> 34) & 0x3FFF);
        if (dtype != 0)
        {
            Violation(Section, $"TX queue {q} descriptor {s.DeviceHead} has DTYPE 0x{dtype:x}; the model implements data descriptors (0) only");
            return false;
        }
        if (addr == 0 || size == 0)
        {
            Violation(Section, $"TX queue {q} descriptor {s.DeviceHead} has {(addr == 0 ? "no buffer address" : "a zero buffer size")}");
            return false;
        }
        if (!CheckDma(addr, size, $"TX queue {q} buffer of descriptor {s.DeviceHead}"))
            return false;
        s.Frame ??= new byte[MaxFrameBytes];
        if (s.FrameLength + size > MaxFrameBytes)
        {
            Violation(Section, $"TX queue {q}: a frame of more than {MaxFrameBytes} bytes");
            return false;
        }
        ReadBytes(addr, s.Frame, s.FrameLength, size);
        s.FrameLength += size;
        if ((cmd & 0x1) != 0) // EOP
        {
            EmitFrame(s.Frame, s.FrameLength, insertCrc: (cmd & 0x4) != 0, q);
            s.FrameLength = 0;
        }
        if ((cmd & 0x2) != 0) // RS: written back as done (DTYPE 0xF) once the buffers were read
        {
            WriteFence();
            Write64(d + 8, 0xF);
        }
        return true;
    }

    private void EmitFrame(byte[] frame, int length, bool insertCrc, int q)
    {
        if (!insertCrc)
        {
            if (length < 4 || EthernetCrc.Compute(frame.AsSpan(0, length - 4)) != BitConverter.ToUInt32(frame, length - 4))
                Violation("transmit data descriptor", $"TX queue {q}: frame sent without ICRC and without a valid FCS of its own");
            length -= 4;
        }
        if (length < 60)
        {
            Array.Clear(frame, length, 60 - length); // the MAC pads short frames
            length = 60;
        }
        _portTxBytes.Add((ulong)length + 4);
        _vsiTxBytes.Add((ulong)length + 4);
        CountCast(frame, _portTxUni, _portTxMulti, _portTxBroad);
        CountCast(frame, _vsiTxUni, _vsiTxMulti, _vsiTxBroad);
        FramesTransmitted++;
        BytesTransmitted += length;
        if (_cable)
            _wire.Transmit(frame.AsSpan(0, length));
    }

    private static void CountCast(byte[] frame, FreeCounter uni, FreeCounter multi, FreeCounter broad)
    {
        if ((frame[0] & 1) == 0)
            uni.Add(1);
        else if (frame.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0)
            broad.Add(1);
        else
            multi.Add(1);
    }

    // ---- receive ----

    private int ReceiveFromWire()
    {
        if (!_cable)
            return 0;
        int n = 0;
        while (n < 64 && _rxBuffer.HasRoom(MaxFrameBytes, RxBufferCapacity))
        {
            int len = _wire.Receive(_wireScratch);
            if (len == 0)
                break;
            AcceptFrame(len);
            n++;
        }
        return n;
    }

    private void AcceptFrame(int length)
    {
        if (length + 4 > _maxFrame)
        {
            _oversize.Add(1);
            return;
        }
        if (length + 4 < 64)
        {
            _undersize.Add(1);
            return;
        }
        if (!PassesFilters(_wireScratch))
        {
            FramesFiltered++;
            return;
        }
        Array.Copy(_wireScratch, _rxBuffer.NextSlot, length);
        _rxBuffer.Commit(length);
    }

    /// <summary>The VSI's switch filters: perfect MAC matches, plus the unicast, multicast and broadcast promiscuous modes.</summary>
    private bool PassesFilters(byte[] frame)
    {
        if ((frame[0] & 1) == 0)
            return (_promiscuous & 0x1) != 0 || _macFilters.Contains(MacKey(frame.AsSpan(0, 6)));
        bool broadcast = frame.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0;
        return broadcast ? (_promiscuous & 0x4) != 0 : (_promiscuous & 0x2) != 0 || _macFilters.Contains(MacKey(frame.AsSpan(0, 6)));
    }

    private int DeliverToQueues()
    {
        int n = 0;
        while (_rxBuffer.Count > 0 && n < 64)
        {
            byte[] frame = _rxBuffer.PeekArray(out int length);
            (int q, uint hash, bool hashed, byte ptype) = Classify(frame, length);
            LanQueue s = _rxq[q];
            if (!s.Enabled || s.Halted)
            {
                Drop();
                n++;
                continue;
            }
            if (length + 4 > s.MaxFrame)
            {
                _oversize.Add(1);
                _rxBuffer.Pop();
                n++;
                continue;
            }
            int room = (int)((s.TailValue + s.Count - s.DeviceHead) % s.Count);
            int strip = s.CrcStrip ? 0 : 4;
            int needed = (length + strip + s.BufferBytes - 1) / s.BufferBytes;
            if (room < needed)
            {
                if (!DropWhenNoDescriptor)
                    break; // the frame waits in the packet buffer
                Drop();
                n++;
                continue;
            }
            if (!WriteToRing(q, s, frame, length, hash, hashed, ptype))
                s.Halted = true;
            _rxBuffer.Pop();
            n++;
        }
        return n;
    }

    private void Drop()
    {
        _rxDropped.Add(1);
        FramesDropped++;
        _rxBuffer.Pop();
    }

    private bool WriteToRing(int q, LanQueue s, byte[] frame, int length, uint hash, bool hashed, byte ptype)
    {
        int dataLength = length;
        if (!s.CrcStrip)
        {
            BitConverter.TryWriteBytes(frame.AsSpan(length, 4), EthernetCrc.Compute(frame.AsSpan(0, length)));
            length += 4;
        }
        int offset = 0;
        while (offset < length)
        {
            ulong d = s.Base + s.DeviceHead * 32UL;
            if (!CheckDma(d, 32, $"RX queue {q} descriptor {s.DeviceHead}"))
                return false;
            ulong pktAddr = Read64(d);
            if (pktAddr == 0)
            {
                Violation("receive descriptor", $"RX queue {q} descriptor {s.DeviceHead} has no buffer address (packet buffer address 0)");
                return false;
            }
            int chunk = Math.Min(s.BufferBytes, length - offset);
            if (!CheckDma(pktAddr, chunk, $"RX queue {q} buffer of descriptor {s.DeviceHead}"))
                return false;
            WriteBytes(pktAddr, frame, offset, chunk);
            offset += chunk;
            bool last = offset == length;
            // qword 1: DD, EOF on the last buffer, FLTSTAT = RSS hash when hashed, packet type, buffer length.
            ulong qw1 = 1UL | (last ? 2UL : 0) | (hashed ? 3UL << 12 : 0) | ((ulong)ptype << 30) | ((ulong)chunk << 38);
            Write64(d, (ulong)hash << 32);
            Write64(d + 16, 0);
            Write64(d + 24, 0);
            WriteFence();
            Write64(d + 8, qw1);
            s.DeviceHead = (s.DeviceHead + 1) % s.Count;
        }
        _portRxBytes.Add((ulong)dataLength + 4); // received octets count the frame's CRC
        _vsiRxBytes.Add((ulong)dataLength + 4);
        CountCast(frame, _portRxUni, _portRxMulti, _portRxBroad);
        CountCast(frame, _vsiRxUni, _vsiRxMulti, _vsiRxBroad);
        FramesReceived++;
        BytesReceived += dataLength;
        FramesPerRxQueue[q]++;
        return true;
    }

    /// <summary>
    /// The packet classifier type (PCTYPE) and hardware packet type of a frame, then RSS: when PFQF_HENA enables the
    /// frame's PCTYPE, Toeplitz over the PFQF_HKEY key (4-tuple for TCP/UDP, addresses otherwise), the low bits
    /// index the lookup table (512 entries with PFQF_CTL_0.HASHLUTSIZE, else 128), and the entry is a queue of the
    /// VSI (added to its first queue). Without a hash the frame goes to the VSI's first queue.
    /// </summary>
    private (int Queue, uint Hash, bool Hashed, byte Ptype) Classify(byte[] frame, int length)
    {
        FrameFields f = FrameFields.Parse(frame.AsSpan(0, length));
        (int pctype, byte ptype, bool ports) = (f.L3, f.L4, f.Fragment) switch
        {
            (FrameFields.L3Kind.Ipv4, _, true) => (36, (byte)22, false),
            (FrameFields.L3Kind.Ipv4, FrameFields.L4Kind.Udp, _) => (31, (byte)24, true),
            (FrameFields.L3Kind.Ipv4, FrameFields.L4Kind.Tcp, _) => (33, (byte)26, true),
            (FrameFields.L3Kind.Ipv4, FrameFields.L4Kind.Sctp, _) => (35, (byte)27, false),
            (FrameFields.L3Kind.Ipv4, _, _) => (35, (byte)23, false),
            (FrameFields.L3Kind.Ipv6, _, true) => (46, (byte)88, false),
            (FrameFields.L3Kind.Ipv6, FrameFields.L4Kind.Udp, _) => (41, (byte)90, true),
            (FrameFields.L3Kind.Ipv6, FrameFields.L4Kind.Tcp, _) => (43, (byte)92, true),
            (FrameFields.L3Kind.Ipv6, FrameFields.L4Kind.Sctp, _) => (45, (byte)93, false),
            (FrameFields.L3Kind.Ipv6, _, _) => (45, (byte)89, false),
            _ => (63, (byte)1, false),
        };
        ulong hena = _hena[0].Value | ((ulong)_hena[1].Value << 32);
        if (f.L3 == FrameFields.L3Kind.None || (hena & (1UL << pctype)) == 0)
            return (_vsiQueueBase, 0, false, ptype);
        for (int i = 0; i < 13; i++)
        {
            uint k = _hkey[i].Value;
            _rssKey[4 * i] = (byte)k;
            _rssKey[4 * i + 1] = (byte)(k >> 8);
            _rssKey[4 * i + 2] = (byte)(k >> 16);
            _rssKey[4 * i + 3] = (byte)(k >> 24);
        }
        int n = f.RssInput(frame.AsSpan(0, length), ports, _rssInput);
        uint hash = Toeplitz.Hash(_rssKey, _rssInput.AsSpan(0, n));
        int lutSize = (_pfqfCtl.Value & (1u << 16)) != 0 ? 512 : 128;
        int entry = (int)(hash & (uint)(lutSize - 1));
        int lutQueue = (int)((_hlut[entry / 4].Value >> (8 * (entry % 4))) & 0x3F);
        if (lutQueue >= _vsiQueueCount)
        {
            Violation("RSS", $"lookup table entry {entry} names queue {lutQueue}, outside the VSI's {_vsiQueueCount} queues (Update VSI Parameters queue map)");
            lutQueue = 0;
        }
        return (_vsiQueueBase + lutQueue, hash, true, ptype);
    }

    /// <summary>The RSS key the driver programmed (PFQF_HKEY, byte 0 in bits 7:0 of the first register).</summary>
    public byte[] ProgrammedRssKey()
    {
        lock (Gate)
        {
            var key = new byte[52];
            for (int i = 0; i < 13; i++)
                BitConverter.TryWriteBytes(key.AsSpan(4 * i), _hkey[i].Value);
            return key;
        }
    }

    /// <summary>The lookup table as programmed (512 entries; the first 128 when the table is the short one).</summary>
    public int[] ProgrammedLookupTable()
    {
        lock (Gate)
        {
            int size = (_pfqfCtl.Value & (1u << 16)) != 0 ? 512 : 128;
            var t = new int[size];
            for (int i = 0; i < size; i++)
                t[i] = (int)((_hlut[i / 4].Value >> (8 * (i % 4))) & 0x3F);
            return t;
        }
    }
}
