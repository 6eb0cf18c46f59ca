using System;
using PacketPlane.DeviceModels.Common;

namespace PacketPlane.DeviceModels.I40e;

public sealed partial class X710Model
{
    private const int SdCount = 16;
    private const long SdSpan = 2 * 1024 * 1024;  // one segment descriptor covers 2 MB of HMC space
    private const int HmcPage = 4096;
    private const int TxObjectLog2 = 7;            // GLHMC_LANTXOBJSZ: 128-byte TX queue contexts
    private const int RxObjectLog2 = 5;            // GLHMC_LANRXOBJSZ: 32-byte RX queue contexts

    private readonly (bool Valid, bool Direct, ulong Address, int BackingPages)[] _sd = new (bool, bool, ulong, int)[SdCount];

    private void DefineHmcRegisters()
    {
        _sdCmd = Define(0x000C0000, "PFHMC_SDCMD", 0);
        _sdLow = Define(0x000C0100, "PFHMC_SDDATALOW", 0);
        _sdHigh = Define(0x000C0200, "PFHMC_SDDATAHIGH", 0);
        Define(0x000C0300, "PFHMC_PDINV", 0); // the model caches no page descriptors: invalidation has nothing to do
        Define(0x000C2004, "GLHMC_LANTXOBJSZ", TxObjectLog2, RegisterKind.ReadOnly);
        Define(0x000C2008, "GLHMC_LANQMAX", 1536, RegisterKind.ReadOnly);
        Define(0x000C200C, "GLHMC_LANRXOBJSZ", RxObjectLog2, RegisterKind.ReadOnly);
        _txBase = Define(0x000C6200, "GLHMC_LANTXBASE[0]", 0);
        _txCnt = Define(0x000C6300, "GLHMC_LANTXCNT[0]", 0);
        _rxBase = Define(0x000C6400, "GLHMC_LANRXBASE[0]", 0);
        _rxCnt = Define(0x000C6500, "GLHMC_LANRXCNT[0]", 0);
        Define(0x000C6600, "GLHMC_FCOEDDPBASE[0]", 0);
        Define(0x000C6700, "GLHMC_FCOEDDPCNT[0]", 0);
        Define(0x000C6800, "GLHMC_FCOEFBASE[0]", 0);
        Define(0x000C6900, "GLHMC_FCOEFCNT[0]", 0);
        foreach (ModelRegister layout in new[] { _txBase, _txCnt, _rxBase, _rxCnt })
        {
            ModelRegister r = layout;
            r.OnWrite = _ =>
            {
                if (AnyQueueEnabled())
                    Violation("HMC", $"{r.Name} changed while LAN queues are enabled; their contexts would move under them");
            };
        }
        // SDCMD is a command: each write with PMSDWR stores SDDATALOW/HIGH into the segment descriptor it names.
        _sdCmd.OnWrite = v =>
        {
            if ((v & 0x80000000u) == 0)
                return; // a read request: the model does not implement SD reads
            int index = (int)(v & 0xFFF);
            SyncRegister(_sdLow);
            SyncRegister(_sdHigh);
            uint low = _sdLow.Value;
            if (index >= SdCount)
                Violation("HMC", $"PFHMC_SDCMD writes segment descriptor {index}; the model implements {SdCount}");
            else
                _sd[index] = ((low & 1) != 0, (low & 2) != 0, (low & ~0xFFFUL) | ((ulong)_sdHigh.Value << 32), (int)((low >> 2) & 0x3FF));
            // Consumed: clear the BAR word so that an identical command written later is seen.
            DeviceUpdate(_sdCmd, 0);
        };
    }

    private void ResetHmc()
    {
        Array.Clear(_sd);
    }

    /// <summary>
    /// Translates an address in this PF's HMC space to host memory the way the device does: segment descriptor
    /// (2 MB each), then for a paged segment the page descriptor (8 bytes, bit 0 valid) in the page the SD points
    /// to, then the offset in the 4 KB backing page. Returns 0 and records why when the chain is broken.
    /// </summary>
    private ulong HmcToHost(long fpm, int length, string what)
    {
        int sdIndex = (int)(fpm / SdSpan);
        if (sdIndex >= SdCount || !_sd[sdIndex].Valid)
        {
            Violation("HMC", $"{what}: HMC segment descriptor {sdIndex} is not valid (PFHMC_SDCMD with a valid SDDATALOW was not written)");
            return 0;
        }
        (bool _, bool direct, ulong address, int backing) = _sd[sdIndex];
        long inSd = fpm % SdSpan;
        if (direct)
        {
            Violation("HMC", $"{what}: direct segment descriptors are not modelled (the driver should use paged mode)");
            return 0;
        }
        int pdIndex = (int)(inSd / HmcPage);
        if (pdIndex >= backing)
        {
            Violation("HMC", $"{what}: page descriptor {pdIndex} is beyond the segment's {backing} backing pages (SDDATALOW.PMSDBPCOUNT)");
            return 0;
        }
        ulong pdAddress = address + (ulong)pdIndex * 8;
        if (!CheckDma(pdAddress, 8, $"{what}: page descriptor {pdIndex}"))
            return 0;
        ulong pd = Read64(pdAddress);
        if ((pd & 1) == 0)
        {
            Violation("HMC", $"{what}: page descriptor {pdIndex} is not valid (bit 0 clear)");
            return 0;
        }
        ulong host = (pd & ~0xFFFUL) + (ulong)(inSd % HmcPage);
        if ((inSd % HmcPage) + length > HmcPage)
        {
            Violation("HMC", $"{what}: the object straddles a backing page");
            return 0;
        }
        return CheckDma(host, length, what) ? host : 0;
    }

    /// <summary>Copies queue <paramref name="q"/>'s context out of host memory (TX 128 bytes, RX 32 bytes), or null.</summary>
    private byte[]? ReadContext(int q, bool rx)
    {
        ModelRegister cnt = rx ? _rxCnt : _txCnt;
        string what = $"{(rx ? "RX" : "TX")} queue {q} context";
        if (q >= cnt.Value)
        {
            Violation("HMC", $"{what}: queue {q} is beyond GLHMC_LAN{(rx ? "RX" : "TX")}CNT ({cnt.Value}); no context object exists for it");
            return null;
        }
        int size = 1 << (rx ? RxObjectLog2 : TxObjectLog2);
        long fpm = (long)(rx ? _rxBase.Value : _txBase.Value) * 512 + (long)q * size;
        ulong host = HmcToHost(fpm, size, what);
        if (host == 0)
            return null;
        var ctx = new byte[size];
        ReadBytes(host, ctx, 0, size);
        return ctx;
    }

    /// <summary>A context field: <paramref name="width"/> bits from bit <paramref name="lsb"/>, little-endian.</summary>
    private static ulong Field(byte[] ctx, int lsb, int width)
    {
        ulong v = 0;
        for (int i = 0; i < width; i++)
        {
            int bit = lsb + i;
            v |= (ulong)((ctx[bit / 8] >> (bit % 8)) & 1) << i;
        }
        return v;
    }
}
