using System;
using System.Buffers.Binary;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

public sealed partial class X710Model
{
    // Descriptor flags (i40e_adminq_cmd.h).
    private const ushort DD = 0x0001, CMP = 0x0002, ERR = 0x0004, LB = 0x0200, RD = 0x0400, BUF = 0x1000;
    private const uint AQ_ENABLE = 0x80000000u;
    private const int AqBufferMax = 4096;

    // Return codes.
    private const ushort EPERM = 1, ENOENT = 2, ESRCH = 3, ENOMEM = 9, EEXIST = 13, EINVAL = 14, ENOSYS = 17;

    private readonly byte[] _aqDesc = new byte[32];
    private readonly byte[] _aqBuffer = new byte[AqBufferMax];
    private int _atqDeviceHead;

    private void DefineAdminQueueRegisters()
    {
        _atqBal = Define(0x00080000, "PF_ATQBAL", 0);
        _atqBah = Define(0x00080100, "PF_ATQBAH", 0);
        _atqLen = Define(0x00080200, "PF_ATQLEN", 0);
        _atqH = Define(0x00080300, "PF_ATQH", 0);
        _atqT = Define(0x00080400, "PF_ATQT", 0);
        _arqBal = Define(0x00080080, "PF_ARQBAL", 0);
        _arqBah = Define(0x00080180, "PF_ARQBAH", 0);
        _arqLen = Define(0x00080280, "PF_ARQLEN", 0);
        _arqH = Define(0x00080380, "PF_ARQH", 0);
        _arqT = Define(0x00080480, "PF_ARQT", 0);
        _atqLen.OnWrite = v => OnQueueLengthWrite(v, send: true);
        _arqLen.OnWrite = v => OnQueueLengthWrite(v, send: false);
        _atqH.OnWrite = v =>
        {
            if ((_atqLen.Value & AQ_ENABLE) != 0 && v != _atqDeviceHead)
                Violation("admin queue", $"PF_ATQH written ({v}) while the send queue is enabled; only the firmware moves it");
            _atqDeviceHead = (int)v;
        };
        _atqT.OnWrite = v =>
        {
            if ((_atqLen.Value & AQ_ENABLE) == 0 && v != 0)
                Violation("admin queue", $"PF_ATQT bumped to {v} while the admin send queue is disabled: the queue is used before it is enabled");
            else if (v >= (_atqLen.Value & 0x3FF))
                Violation("admin queue", $"PF_ATQT = {v} is beyond the {_atqLen.Value & 0x3FF}-descriptor send queue");
        };
    }

    private void OnQueueLengthWrite(uint value, bool send)
    {
        string name = send ? "send (ATQ)" : "receive (ARQ)";
        if ((value & AQ_ENABLE) == 0)
            return;
        uint len = value & 0x3FF;
        // The driver wrote the base before the length, but the polling thread's sync pass may have visited the base
        // registers just before those writes landed and the length just after: take the base in first, as the
        // hardware would have (a CI run saw "DMA to 0x0" from exactly that race).
        SyncRegister(send ? _atqBal : _arqBal);
        SyncRegister(send ? _atqBah : _arqBah);
        ulong bas = send ? _atqBal.Value | ((ulong)_atqBah.Value << 32) : _arqBal.Value | ((ulong)_arqBah.Value << 32);
        if (len == 0)
            Violation("admin queue", $"admin {name} queue enabled with length 0");
        else
            CheckDma(bas, (int)len * 32, $"admin {name} queue ring");
        if (send)
            _atqDeviceHead = (int)_atqH.Value;
    }

    private bool SendQueueEnabled => (_atqLen.Value & AQ_ENABLE) != 0 && (_atqLen.Value & 0x3FF) != 0;

    /// <summary>Executes every command between the firmware's head and PF_ATQT, writing each back.</summary>
    private int ProcessAdminQueue()
    {
        if (!SendQueueEnabled || FaultFirmwareSilent)
            return 0;
        uint len = _atqLen.Value & 0x3FF;
        int work = 0;
        ulong ring = _atqBal.Value | ((ulong)_atqBah.Value << 32);
        while (_atqDeviceHead != (int)_atqT.Value && _atqT.Value < len)
        {
            ulong d = ring + (ulong)_atqDeviceHead * 32;
            if (!CheckDma(d, 32, $"admin send queue descriptor {_atqDeviceHead}"))
                return work;
            ReadBytes(d, _aqDesc, 0, 32);
            Execute(d);
            _atqDeviceHead = (_atqDeviceHead + 1) % (int)len;
            // The descriptor is written back before the head moves past it.
            WriteFence();
            DeviceUpdate(_atqH, (uint)_atqDeviceHead);
            work++;
        }
        return work;
    }

    private ushort Flags => BinaryPrimitives.ReadUInt16LittleEndian(_aqDesc);
    private ushort Opcode => BinaryPrimitives.ReadUInt16LittleEndian(_aqDesc.AsSpan(2));
    private ushort DataLen => BinaryPrimitives.ReadUInt16LittleEndian(_aqDesc.AsSpan(4));
    private Span<byte> Params => _aqDesc.AsSpan(16, 16);
    private ulong BufferAddress => (ulong)BinaryPrimitives.ReadUInt32LittleEndian(Params[8..]) << 32 | BinaryPrimitives.ReadUInt32LittleEndian(Params[12..]);

    /// <summary>Runs one command and writes the descriptor back: DD and CMP always, ERR with a non-zero return code.</summary>
    private void Execute(ulong descriptor)
    {
        ushort flags = Flags;
        if ((flags & (DD | CMP)) != 0)
            Violation("admin queue", $"admin command 0x{Opcode:x4} posted with DD/CMP already set; software clears them");
        int length = 0;
        bool indirect = (flags & BUF) != 0;
        if (indirect)
        {
            length = DataLen;
            if (length == 0 || length > AqBufferMax)
                Violation("admin queue", $"indirect admin command 0x{Opcode:x4} with a {length}-byte buffer (1 to {AqBufferMax})");
            else if (length > 512 && (flags & LB) == 0)
                Violation("admin queue", $"admin command 0x{Opcode:x4} has a {length}-byte buffer without the LB (large buffer) flag");
            else if (!CheckDma(BufferAddress, length, $"admin command 0x{Opcode:x4} buffer"))
                length = 0;
            Array.Clear(_aqBuffer);
            if (length > 0 && (flags & RD) != 0)
                ReadBytes(BufferAddress, _aqBuffer, 0, length);
        }
        (ushort ret, int responseLength) = Dispatch(indirect, length, (flags & RD) != 0);
        if (indirect && length > 0 && (flags & RD) == 0 && responseLength > 0)
            WriteBytes(BufferAddress, _aqBuffer, 0, Math.Min(responseLength, length));
        ushort done = (ushort)(flags | DD | CMP | (ret != 0 ? ERR : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(_aqDesc, done);
        BinaryPrimitives.WriteUInt16LittleEndian(_aqDesc.AsSpan(6), ret);
        if (indirect)
            BinaryPrimitives.WriteUInt16LittleEndian(_aqDesc.AsSpan(4), (ushort)(responseLength > 0 ? responseLength : length));
        WriteBytes(descriptor + 4, _aqDesc, 4, 28);
        WriteFence();
        WriteBytes(descriptor, _aqDesc, 0, 4); // flags (with DD) last
    }

    private (ushort Ret, int ResponseLength) Dispatch(bool indirect, int length, bool toFirmware)
    {
        ushort op = Opcode;
        switch (op)
        {
            case 0x0001: return GetVersion();
            case 0x0003: return (0, 0); // queue shutdown: the driver is leaving
            case 0x000A: return NeedBuffer(op, indirect, length) ? Capabilities(length) : (EINVAL, 0);
            case 0x0107: return NeedBuffer(op, indirect, length) ? MacRead(length) : (EINVAL, 0);
            case 0x0108: return (0, 0); // LAA write: the filters that matter are the MAC filters below
            case 0x0110: return ClearPxe();
            case 0x0200: return NeedBuffer(op, indirect, length) ? SwitchConfig(length) : (EINVAL, 0);
            case 0x0211: return NeedData(op, indirect, length, toFirmware) ? UpdateVsi() : (EINVAL, 0);
            case 0x0212: return NeedBuffer(op, indirect, length) ? GetVsi(length) : (EINVAL, 0);
            case 0x0250: return NeedData(op, indirect, length, toFirmware) ? MacVlan(add: true) : (EINVAL, 0);
            case 0x0251: return NeedData(op, indirect, length, toFirmware) ? MacVlan(add: false) : (EINVAL, 0);
            case 0x0254: return Promiscuous();
            case 0x0603: return MacConfig();
            case 0x0607: return LinkStatus();
            default:
                Violation("admin queue", $"admin command 0x{op:x4} is not one the model implements");
                return (ESRCH, 0);
        }
    }

    private bool NeedBuffer(ushort op, bool indirect, int length)
    {
        if (indirect && length > 0)
            return true;
        Violation("admin queue", $"admin command 0x{op:x4} is indirect: it needs a buffer (BUF flag, data length, address)");
        return false;
    }

    private bool NeedData(ushort op, bool indirect, int length, bool toFirmware)
    {
        if (!NeedBuffer(op, indirect, length))
            return false;
        if (toFirmware)
            return true;
        Violation("admin queue", $"admin command 0x{op:x4} sends data to the firmware but its descriptor lacks the RD flag");
        return false;
    }

    private ushort SeidParam(int offset) => (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(Params[offset..]) & 0x3FF);

    private (ushort, int) GetVersion()
    {
        // rom_ver u32, fw_build u32, fw_major u16, fw_minor u16, api_major u16, api_minor u16
        BinaryPrimitives.WriteUInt32LittleEndian(Params, 0x00001234);
        BinaryPrimitives.WriteUInt32LittleEndian(Params[4..], 54321);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[8..], 8);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[10..], 15);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[12..], ApiMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[14..], 15);
        return (0, 0);
    }

    private (ushort, int) ClearPxe()
    {
        if (_pxeCleared)
            return (EEXIST, 0);
        _pxeCleared = true;
        return (0, 0);
    }

    private (ushort, int) Capabilities(int length)
    {
        // 32-byte elements: id u16, major u8, minor u8, number u32, logical_id u32, phys_id u32, reserved
        (ushort Id, uint Number, uint Logical, uint Phys)[] caps =
        [
            (0x0017, 384, 0, 0),          // VSIs
            (0x0040, 512, 6, 0),          // RSS: 512-entry table, 6-bit entries
            (0x0041, Queues, 0, 0),       // RX queues, first at PF queue 0
            (0x0042, Queues, 0, 0),       // TX queues
            (0x0043, 129, 0, 0),          // MSI-X vectors
        ];
        int needed = caps.Length * 32;
        BinaryPrimitives.WriteUInt32LittleEndian(Params[4..], (uint)caps.Length);
        if (length < needed)
            return (ENOMEM, needed);
        for (int i = 0; i < caps.Length; i++)
        {
            Span<byte> e = _aqBuffer.AsSpan(i * 32, 32);
            BinaryPrimitives.WriteUInt16LittleEndian(e, caps[i].Id);
            e[2] = 1;
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], caps[i].Number);
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], caps[i].Logical);
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], caps[i].Phys);
        }
        return (0, needed);
    }

    private (ushort, int) MacRead(int length)
    {
        if (length < 24)
            return (ENOMEM, 24);
        // pf_lan_mac, pf_san_mac, port_mac, pf_wol_mac; LAN and port addresses valid.
        _mac.CopyTo(_aqBuffer, 0);
        _mac.CopyTo(_aqBuffer, 12);
        BinaryPrimitives.WriteUInt16LittleEndian(Params, 0x10 | 0x40);
        return (0, 24);
    }

    private (ushort, int) SwitchConfig(int length)
    {
        // Header: num_reported, num_total; 16-byte elements: type, revision, seid, uplink, downlink, ..., connection type.
        (byte Type, ushort Seid, ushort Uplink)[] elements = [(1, 2, 0), (2, 16, 2), (19, VsiSeid, 16)];
        int needed = 16 + elements.Length * 16;
        if (length < needed)
            return (ENOMEM, needed);
        BinaryPrimitives.WriteUInt16LittleEndian(_aqBuffer, (ushort)elements.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(_aqBuffer.AsSpan(2), (ushort)elements.Length);
        for (int i = 0; i < elements.Length; i++)
        {
            Span<byte> e = _aqBuffer.AsSpan(16 + i * 16, 16);
            e[0] = elements[i].Type;
            e[1] = 1;
            BinaryPrimitives.WriteUInt16LittleEndian(e[2..], elements[i].Seid);
            BinaryPrimitives.WriteUInt16LittleEndian(e[4..], elements[i].Uplink);
            e[11] = 1; // regular connection
        }
        BinaryPrimitives.WriteUInt16LittleEndian(Params, 0); // next SEID: 0, nothing more
        return (0, needed);
    }

    private (ushort, int) GetVsi(int length)
    {
        if (SeidParam(0) != VsiSeid)
            return (ENOENT, 0);
        if (length < 128)
            return (ENOMEM, 128);
        WriteVsiProperties(_aqBuffer);
        BinaryPrimitives.WriteUInt16LittleEndian(Params, VsiSeid);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[2..], VsiNumber);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[4..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[6..], 383);
        return (0, 128);
    }

    private void WriteVsiProperties(Span<byte> p)
    {
        p[..128].Clear();
        int log2 = 0;
        while ((1 << log2) < _vsiQueueCount)
            log2++;
        BinaryPrimitives.WriteUInt16LittleEndian(p[30..], (ushort)_vsiQueueBase);     // queue_mapping[0]
        BinaryPrimitives.WriteUInt16LittleEndian(p[62..], (ushort)(log2 << 9));      // tc_mapping[0]
        BinaryPrimitives.WriteUInt16LittleEndian(p[96..], VsiQsHandle);              // qs_handle[0]
        BinaryPrimitives.WriteUInt16LittleEndian(p[112..], VsiStatIndex);            // stat_counter_idx
    }

    private (ushort, int) UpdateVsi()
    {
        if (SeidParam(0) != VsiSeid)
            return (ENOENT, 0);
        ushort valid = BinaryPrimitives.ReadUInt16LittleEndian(_aqBuffer);
        if ((valid & 0x0040) != 0)
        {
            // Queue map: contiguous queues from queue_mapping[0]; TC 0 holds 2^n of them from its offset.
            if (BinaryPrimitives.ReadUInt16LittleEndian(_aqBuffer.AsSpan(28)) != 0)
            {
                Violation("VSI queue mapping", "non-contiguous VSI queue maps are not modelled");
                return (EINVAL, 0);
            }
            int first = BinaryPrimitives.ReadUInt16LittleEndian(_aqBuffer.AsSpan(30)) & 0x7FF;
            ushort tc = BinaryPrimitives.ReadUInt16LittleEndian(_aqBuffer.AsSpan(62));
            int offset = tc & 0x1FF, count = 1 << ((tc >> 9) & 0x7);
            if (first + offset + count > Queues)
                return (EINVAL, 0);
            _vsiQueueBase = first + offset;
            _vsiQueueCount = count;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(Params, VsiSeid);
        BinaryPrimitives.WriteUInt16LittleEndian(Params[2..], VsiNumber);
        return (0, 0);
    }

    private (ushort, int) MacVlan(bool add)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(Params);
        ushort seid = BinaryPrimitives.ReadUInt16LittleEndian(Params[2..]);
        if ((seid & 0x8000) == 0 || (seid & 0x3FF) != VsiSeid)
            return (ENOENT, 0);
        for (int i = 0; i < count && (i + 1) * 16 <= AqBufferMax; i++)
        {
            ulong key = MacKey(_aqBuffer.AsSpan(i * 16, 6));
            if (add)
                _macFilters.Add(key);
            else
                _macFilters.Remove(key);
        }
        return (0, 0);
    }

    private (ushort, int) Promiscuous()
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(Params);
        ushort valid = BinaryPrimitives.ReadUInt16LittleEndian(Params[2..]);
        if (SeidParam(4) != VsiSeid)
            return (ENOENT, 0);
        _promiscuous = (ushort)((_promiscuous & ~valid) | (flags & valid));
        return (0, 0);
    }

    private (ushort, int) MacConfig()
    {
        int maxFrame = BinaryPrimitives.ReadUInt16LittleEndian(Params);
        if (maxFrame == 0)
            return (EINVAL, 0);
        _maxFrame = maxFrame;
        return (0, 0);
    }

    private (ushort, int) LinkStatus()
    {
        ushort request = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(Params) & 0x3);
        if (request == 0x3)
            _linkEvents = true;
        else if (request == 0x2)
            _linkEvents = false;
        FillLinkStatus(Params);
        return (0, 0);
    }

    private void FillLinkStatus(Span<byte> p)
    {
        p.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(p, (ushort)(_linkEvents ? 0x1 : 0x0)); // LSE is enabled
        p[3] = (byte)(_cable ? 0x08 : 0);        // link_speed: 10 Gb/s
        p[4] = (byte)(_cable ? 0x01 | 0x40 : 0); // link_info: link up, media available
        p[5] = (byte)(_cable ? 0x01 : 0);        // an_info: autonegotiation completed
        BinaryPrimitives.WriteUInt16LittleEndian(p[8..], (ushort)_maxFrame);
    }

    /// <summary>Posts a Get Link Status event on the admin receive queue when the driver asked for link events.</summary>
    private void PostLinkEvent()
    {
        if (!_linkEvents || (_arqLen.Value & AQ_ENABLE) == 0)
            return;
        uint len = _arqLen.Value & 0x3FF;
        uint head = _arqH.Value;
        if (len == 0 || head == _arqT.Value)
            return; // no descriptor available: the event is lost, as the hardware would lose it (ARQ overflow)
        ulong d = (_arqBal.Value | ((ulong)_arqBah.Value << 32)) + head * 32UL;
        if (!CheckDma(d, 32, "admin receive queue descriptor"))
            return;
        var e = new byte[32];
        ReadBytes(d, e, 0, 32);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(2), 0x0607);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(4), 0);
        FillLinkStatus(e.AsSpan(16, 16));
        WriteBytes(d + 2, e, 2, 30);
        WriteFence();
        BinaryPrimitives.WriteUInt16LittleEndian(e, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(e) | DD | CMP));
        WriteBytes(d, e, 0, 2);
        DeviceUpdate(_arqH, (head + 1) % len);
        LinkEventsPosted++;
    }

    /// <summary>Link events posted on the admin receive queue.</summary>
    public int LinkEventsPosted { get; private set; }

    /// <summary>The VSI's queue map as the driver set it: first PF queue and count.</summary>
    public (int First, int Count) VsiQueueMap
    {
        get
        {
            lock (Gate)
                return (_vsiQueueBase, _vsiQueueCount);
        }
    }

    /// <summary>VSI promiscuous flags as set (unicast 1, multicast 2, broadcast 4).</summary>
    public ushort PromiscuousFlags
    {
        get
        {
            lock (Gate)
                return _promiscuous;
        }
    }

    /// <summary>Whether a perfect-match MAC filter exists for <paramref name="mac"/>.</summary>
    public bool HasMacFilter(ReadOnlySpan<byte> mac)
    {
        lock (Gate)
            return _macFilters.Contains(MacKey(mac));
    }
}
