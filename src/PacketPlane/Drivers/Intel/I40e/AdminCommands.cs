using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>Admin queue opcodes the driver issues (enum i40e_admin_queue_opc).</summary>
internal static class AqOpcode
{
    public const ushort GetVersion = 0x0001;
    public const ushort QueueShutdown = 0x0003;
    public const ushort ListFunctionCapabilities = 0x000A;
    public const ushort MacAddressRead = 0x0107;
    public const ushort MacAddressWrite = 0x0108;
    public const ushort ClearPxeMode = 0x0110;
    public const ushort GetSwitchConfig = 0x0200;
    public const ushort UpdateVsiParameters = 0x0211;
    public const ushort GetVsiParameters = 0x0212;
    public const ushort AddMacVlan = 0x0250;
    public const ushort RemoveMacVlan = 0x0251;
    public const ushort SetVsiPromiscuousModes = 0x0254;
    public const ushort SetMacConfig = 0x0603;
    public const ushort GetLinkStatus = 0x0607;
}

/// <summary>What the firmware reports at GetVersion.</summary>
internal readonly record struct FirmwareVersion(ushort FwMajor, ushort FwMinor, uint FwBuild, ushort ApiMajor, ushort ApiMinor, uint RomVersion)
{
    public override string ToString() => $"firmware {FwMajor}.{FwMinor} build {FwBuild}, API {ApiMajor}.{ApiMinor}";
}

/// <summary>Function capabilities (Discover Function Capabilities, 0x000A) the driver needs.</summary>
internal readonly record struct FunctionCapabilities(int RxQueues, int TxQueues, int BaseQueue, int RssTableSize, int RssTableEntryWidth, int Vsis);

/// <summary>The PF's main VSI as the firmware describes it (Get VSI Parameters, 0x0212).</summary>
internal readonly record struct VsiInfo(ushort Seid, ushort VsiNumber, ushort QsHandle, ushort StatCounterIndex, byte[] Properties);

/// <summary>Link state from Get Link Status (0x0607).</summary>
internal readonly record struct I40eLink(bool Up, uint SpeedMbps, bool Autonegotiated);

/// <summary>
/// The admin commands, each built and parsed as i40e_adminq_cmd.h lays them out (parameter bytes 0-15 of the
/// descriptor, plus the indirect buffer).
/// </summary>
internal sealed class AdminCommands(AdminQueue aq)
{
    public const ushort VsiTypeElement = 19;      // I40E_AQ_SW_ELEM_TYPE_VSI
    public const ushort PromiscUnicast = 0x01;    // I40E_AQC_SET_VSI_PROMISC_UNICAST
    public const ushort PromiscMulticast = 0x02;
    public const ushort PromiscBroadcast = 0x04;
    private const ushort VsiPropQueueMapValid = 0x0040;
    private const ushort LseEnable = 0x3;
    private const byte LinkUp = 0x01;
    private const byte AnCompleted = 0x01;

    private static AqDescriptor Command(ushort opcode) => new() { Opcode = opcode };

    private static void SetParam16(ref AqDescriptor d, int offset, ushort value) =>
        d.Params0 = (d.Params0 & ~(0xFFFFUL << (8 * offset))) | ((ulong)value << (8 * offset));

    private static void SetParam32(ref AqDescriptor d, int offset, uint value) =>
        d.Params0 = (d.Params0 & ~(0xFFFFFFFFUL << (8 * offset))) | ((ulong)value << (8 * offset));

    private static ushort Param16(in AqDescriptor d, int offset) => (ushort)(d.Params0 >> (8 * offset));

    private static uint Param32(in AqDescriptor d, int offset) => (uint)(d.Params0 >> (8 * offset));

    private static byte Param8(in AqDescriptor d, int offset) => (byte)(d.Params0 >> (8 * offset));

    /// <summary>Get Version (direct 0x0001): firmware and API versions.</summary>
    public FirmwareVersion GetVersion()
    {
        AqDescriptor r = aq.Send(Command(AqOpcode.GetVersion), [], false, "get version");
        // rom_ver (u32 @0), fw_build (u32 @4), fw_major (u16 @8), fw_minor (u16 @10), api_major (u16 @12), api_minor (u16 @14)
        return new FirmwareVersion((ushort)r.AddrHigh, (ushort)(r.AddrHigh >> 16), Param32(r, 4),
            (ushort)r.AddrLow, (ushort)(r.AddrLow >> 16), Param32(r, 0));
    }

    /// <summary>Clear PXE Mode (direct 0x0110): the firmware stops steering receive to its PXE agent.</summary>
    public void ClearPxeMode()
    {
        AqDescriptor d = Command(AqOpcode.ClearPxeMode);
        d.Params0 = 0x2; // rx_cnt, as Intel's drivers send it
        aq.Send(d, [], false, "clear PXE mode", AqError.EEXIST); // EEXIST: already cleared
    }

    /// <summary>Discover Function Capabilities (indirect 0x000A): queues, RSS table, VSIs.</summary>
    public FunctionCapabilities DiscoverCapabilities()
    {
        Span<byte> buffer = new byte[AdminQueue.BufferSize];
        AqDescriptor r = aq.Send(Command(AqOpcode.ListFunctionCapabilities), buffer, false, "discover function capabilities");
        int count = (int)Param32(r, 4);
        int rx = 0, tx = 0, baseQueue = 0, rssSize = 0, rssWidth = 0, vsis = 0;
        for (int i = 0; i < count && (i + 1) * 32 <= buffer.Length; i++)
        {
            ReadOnlySpan<byte> e = buffer.Slice(i * 32, 32);
            // element: id u16 @0, major u8 @2, minor u8 @3, number u32 @4, logical_id u32 @8, phys_id u32 @12
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(e);
            int number = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
            int logical = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
            int phys = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
            switch (id)
            {
                case 0x0017: vsis = number; break;                                 // I40E_AQ_CAP_ID_VSI
                case 0x0040: rssSize = number; rssWidth = logical; break;          // RSS: table size and entry width
                case 0x0041: rx = number; baseQueue = phys; break;                 // RXQ: count and first queue
                case 0x0042: tx = number; baseQueue = phys; break;                 // TXQ
            }
        }
        return new FunctionCapabilities(rx, tx, baseQueue, rssSize, rssWidth, vsis);
    }

    /// <summary>Manage MAC Address Read (indirect 0x0107): the PF's LAN address.</summary>
    public MacAddress ReadMacAddress()
    {
        Span<byte> buffer = stackalloc byte[24];
        AqDescriptor r = aq.Send(Command(AqOpcode.MacAddressRead), buffer, false, "read MAC address");
        const ushort LanValid = 0x10; // I40E_AQC_LAN_ADDR_VALID
        if ((Param16(r, 0) & LanValid) == 0)
            throw new EthDevException("the firmware reports no valid LAN MAC address (Manage MAC Address Read); the NVM may be blank");
        return new MacAddress(buffer[..6]);
    }

    /// <summary>Manage MAC Address Write (direct 0x0108), LAA only.</summary>
    public void WriteMacAddress(MacAddress mac)
    {
        Span<byte> b = stackalloc byte[6];
        mac.CopyTo(b);
        AqDescriptor d = Command(AqOpcode.MacAddressWrite);
        SetParam16(ref d, 0, 0x0000); // I40E_AQC_WRITE_TYPE_LAA_ONLY
        SetParam16(ref d, 2, (ushort)(b[0] << 8 | b[1]));
        SetParam32(ref d, 4, (uint)(b[2] << 24 | b[3] << 16 | b[4] << 8 | b[5]));
        aq.Send(d, [], false, "write MAC address");
    }

    /// <summary>Get Switch Configuration (indirect 0x0200): the SEID of the PF's VSI.</summary>
    public ushort FindMainVsi()
    {
        Span<byte> buffer = new byte[AdminQueue.BufferSize];
        aq.Send(Command(AqOpcode.GetSwitchConfig), buffer, false, "get switch configuration");
        // header: num_reported u16 @0, num_total u16 @2, then 16-byte elements: type u8 @0, seid u16 @2
        int reported = BinaryPrimitives.ReadUInt16LittleEndian(buffer);
        for (int i = 0; i < reported && 16 + (i + 1) * 16 <= buffer.Length; i++)
        {
            ReadOnlySpan<byte> e = buffer.Slice(16 + i * 16, 16);
            if (e[0] == VsiTypeElement)
                return BinaryPrimitives.ReadUInt16LittleEndian(e[2..]);
        }
        throw new EthDevException("the firmware's switch configuration lists no VSI for this PF (Get Switch Configuration); reset the NIC (PF reset or power cycle)");
    }

    /// <summary>Get VSI Parameters (indirect 0x0212).</summary>
    public VsiInfo GetVsi(ushort seid)
    {
        var props = new byte[128];
        AqDescriptor d = Command(AqOpcode.GetVsiParameters);
        SetParam16(ref d, 0, seid);
        AqDescriptor r = aq.Send(d, props, false, "get VSI parameters");
        // completion: seid u16 @0, vsi_number u16 @2; properties: qs_handle[0] @96, stat_counter_idx @112
        return new VsiInfo(Param16(r, 0), Param16(r, 2), BinaryPrimitives.ReadUInt16LittleEndian(props.AsSpan(96)),
            BinaryPrimitives.ReadUInt16LittleEndian(props.AsSpan(112)), props);
    }

    /// <summary>
    /// Update VSI Parameters (indirect 0x0211) with a contiguous queue map: PF queues 0..2^n-1, all in TC 0, so the
    /// RSS lookup table indexes them directly.
    /// </summary>
    public void MapQueues(ushort seid, int queues)
    {
        int log2 = 0;
        while ((1 << log2) < queues)
            log2++;
        var props = new byte[128];
        BinaryPrimitives.WriteUInt16LittleEndian(props, VsiPropQueueMapValid);       // valid_sections
        BinaryPrimitives.WriteUInt16LittleEndian(props.AsSpan(28), 0);               // mapping_flags: contiguous
        BinaryPrimitives.WriteUInt16LittleEndian(props.AsSpan(30), 0);               // queue_mapping[0]: first queue 0
        BinaryPrimitives.WriteUInt16LittleEndian(props.AsSpan(62), (ushort)(log2 << 9)); // tc_mapping[0]: offset 0, 2^log2 queues
        AqDescriptor d = Command(AqOpcode.UpdateVsiParameters);
        SetParam16(ref d, 0, seid);
        aq.Send(d, props, true, "update VSI parameters (queue map)");
    }

    /// <summary>Set VSI Promiscuous Modes (direct 0x0254).</summary>
    public void SetPromiscuous(ushort seid, ushort flags, ushort valid)
    {
        AqDescriptor d = Command(AqOpcode.SetVsiPromiscuousModes);
        SetParam16(ref d, 0, flags);
        SetParam16(ref d, 2, valid);
        SetParam16(ref d, 4, seid);
        aq.Send(d, [], false, "set VSI promiscuous modes");
    }

    /// <summary>Add (0x0250) or remove (0x0251) a perfect-match MAC filter on the VSI, any VLAN.</summary>
    public void MacFilter(ushort seid, MacAddress mac, bool add)
    {
        Span<byte> element = stackalloc byte[16];
        element.Clear();
        mac.CopyTo(element);
        if (add)
            BinaryPrimitives.WriteUInt16LittleEndian(element[8..], 0x0001 | 0x0004); // PERFECT_MATCH | IGNORE_VLAN
        else
            element[8] = 0x01 | 0x08;                                                 // PERFECT_MATCH | IGNORE_VLAN
        AqDescriptor d = Command(add ? AqOpcode.AddMacVlan : AqOpcode.RemoveMacVlan);
        SetParam16(ref d, 0, 1);                              // num_addresses
        SetParam16(ref d, 2, (ushort)(seid | 0x8000));        // seid[0] with SEID_VALID
        aq.Send(d, element, true, add ? "add MAC filter" : "remove MAC filter", AqError.EEXIST, AqError.ENOENT);
    }

    /// <summary>Set MAC Config (direct 0x0603): largest frame the MAC accepts, CRC added on transmit.</summary>
    public void SetMacConfig(int maxFrame)
    {
        AqDescriptor d = Command(AqOpcode.SetMacConfig);
        SetParam16(ref d, 0, (ushort)maxFrame);
        d.Params0 |= 0x04UL << 16; // params: I40E_AQ_SET_MAC_CONFIG_CRC_EN
        aq.Send(d, [], false, "set MAC config");
    }

    /// <summary>Get Link Status (direct 0x0607), asking for link events on the receive queue.</summary>
    public I40eLink GetLinkStatus()
    {
        AqDescriptor d = Command(AqOpcode.GetLinkStatus);
        SetParam16(ref d, 0, LseEnable);
        AqDescriptor r = aq.Send(d, [], false, "get link status");
        byte speed = Param8(r, 3), info = Param8(r, 4), an = Param8(r, 5);
        return new I40eLink((info & LinkUp) != 0, SpeedOf(speed), (an & AnCompleted) != 0);
    }

    /// <summary>enum i40e_aq_link_speed: one bit per speed.</summary>
    public static uint SpeedOf(byte bits) => bits switch
    {
        0x01 => 2_500,
        0x02 => 100,
        0x04 => 1_000,
        0x08 => 10_000,
        0x10 => 40_000,
        0x20 => 20_000,
        0x40 => 25_000,
        0x80 => 5_000,
        _ => 0,
    };

    /// <summary>Queue Shutdown (direct 0x0003): the driver is unloading.</summary>
    public void QueueShutdown()
    {
        AqDescriptor d = Command(AqOpcode.QueueShutdown);
        d.Params0 = 1; // I40E_AQ_DRIVER_UNLOADING
        aq.Send(d, [], false, "queue shutdown");
    }
}
