using System;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Internal;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// The LAN part of the X710's host memory cache: queue contexts live in host memory the driver provides, reached by
/// the device through a segment descriptor (SD) that points at a page of page descriptors (PDs), each pointing at a
/// 4 KiB backing page ("paged" mode, as DPDK uses). The function's HMC space holds the TX queue contexts at
/// offset 0 and the RX queue contexts after them, 512-byte aligned; the object sizes come from GLHMC_LANTXOBJSZ
/// and GLHMC_LANRXOBJSZ (log2). One SD covers 2 MiB, plenty for the LAN objects.
/// </summary>
internal sealed unsafe class LanHmc : IDisposable
{
    public const int PageSize = 4096;        // I40E_HMC_PAGED_BP_SIZE
    private const int BaseAlignment = 512;   // I40E_HMC_L2OBJ_BASE_ALIGNMENT: the GLHMC_LAN*BASE unit
    private const int PdsPerSd = 512;        // I40E_HMC_PD_CNT_IN_SD / I40E_HMC_MAX_BP_COUNT

    private readonly Mmio _regs;
    private readonly DmaMemory _memory;      // page 0: the PD page; pages 1..n: backing pages
    private readonly int _pf;
    private bool _disposed;

    private LanHmc(Mmio regs, DmaMemory memory, int pf, int txCount, int txSize, int rxCount, int rxSize, int rxBase)
    {
        _regs = regs;
        _memory = memory;
        _pf = pf;
        TxCount = txCount;
        TxObjectSize = txSize;
        RxCount = rxCount;
        RxObjectSize = rxSize;
        RxBase = rxBase;
    }

    public int TxCount { get; }

    public int TxObjectSize { get; }

    public int RxCount { get; }

    public int RxObjectSize { get; }

    public int RxBase { get; }

    /// <summary>Sets up the LAN HMC for <paramref name="txQueues"/> and <paramref name="rxQueues"/> queue contexts.</summary>
    public static LanHmc Create(IPciFunction pci, Mmio regs, int pf, int txQueues, int rxQueues, int numaNode, ILogger log)
    {
        int txSize = 1 << (int)regs.Read32(I40eRegs.GLHMC_LANTXOBJSZ);
        int rxSize = 1 << (int)regs.Read32(I40eRegs.GLHMC_LANRXOBJSZ);
        int max = (int)regs.Read32(I40eRegs.GLHMC_LANQMAX);
        if (txQueues > max || rxQueues > max)
            throw new EthDevException($"{pci.Address}: the HMC holds at most {max} LAN queue contexts (GLHMC_LANQMAX), {Math.Max(txQueues, rxQueues)} asked for");
        int rxBase = AlignUp(txQueues * txSize, BaseAlignment);
        int bytes = rxBase + rxQueues * rxSize;
        int pages = (bytes + PageSize - 1) / PageSize;
        if (pages > PdsPerSd)
            throw new EthDevException($"{pci.Address}: {bytes} bytes of queue contexts exceed one HMC segment (2 MiB)");
        DmaMemory memory = DmaMemory.Allocate(pci, $"{pci.Address}_hmc", (pages + 1) * PageSize, numaNode, 0);
        var hmc = new LanHmc(regs, memory, pf, txQueues, txSize, rxQueues, rxSize, rxBase);
        hmc.Program(pages);
        log.LogInformation("{Device}: LAN HMC: {Tx} TX contexts of {TxSize} B, {Rx} RX contexts of {RxSize} B at 0x{RxBase:x}, {Pages} page(s)",
            pci.Address, txQueues, txSize, rxQueues, rxSize, rxBase, pages);
        return hmc;
    }

    private static int AlignUp(int v, int a) => (v + a - 1) / a * a;

    private void Program(int pages)
    {
        // Page descriptors: backing page address | valid (bit 0), one 8-byte entry per 4 KiB of HMC space.
        ulong* pd = (ulong*)_memory.Pointer;
        for (int i = 0; i < pages; i++)
            pd[i] = _memory.IovaOf(_memory.Pointer + (i + 1) * PageSize) | 1UL;
        // Segment descriptor 0: the PD page, paged type, 512 backing pages, valid; written through SDDATA then SDCMD.
        ulong pdPage = _memory.Iova;
        _regs.Write32(I40eRegs.PFHMC_SDDATAHIGH, (uint)(pdPage >> 32));
        _regs.Write32(I40eRegs.PFHMC_SDDATALOW, (uint)(pdPage & ~0xFFFUL) | (PdsPerSd << I40eRegs.PFHMC_SDDATALOW_PMSDBPCOUNT_SHIFT) |
            I40eRegs.PFHMC_SDDATALOW_PMSDVALID);
        _regs.Write32(I40eRegs.PFHMC_SDCMD, I40eRegs.PFHMC_SDCMD_PMSDWR | 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
        // The device may have cached PDs of an earlier run: invalidate each one we wrote.
        for (int i = 0; i < pages; i++)
        {
            _regs.Write32(I40eRegs.PFHMC_PDINV, (uint)(i << I40eRegs.PFHMC_PDINV_PMPDIDX_SHIFT) | 0);
            _regs.Flush(I40eRegs.GLGEN_STAT);
        }
        // Where the LAN objects sit in this function's HMC space, in 512-byte units; no FCoE objects.
        _regs.Write32(I40eRegs.GLHMC_LANTXBASE(_pf), 0);
        _regs.Write32(I40eRegs.GLHMC_LANTXCNT(_pf), (uint)TxCount);
        _regs.Write32(I40eRegs.GLHMC_LANRXBASE(_pf), (uint)(RxBase / BaseAlignment));
        _regs.Write32(I40eRegs.GLHMC_LANRXCNT(_pf), (uint)RxCount);
        _regs.Write32(I40eRegs.GLHMC_FCOEDDPBASE(_pf), 0);
        _regs.Write32(I40eRegs.GLHMC_FCOEDDPCNT(_pf), 0);
        _regs.Write32(I40eRegs.GLHMC_FCOEFBASE(_pf), 0);
        _regs.Write32(I40eRegs.GLHMC_FCOEFCNT(_pf), 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
    }

    /// <summary>The host memory of TX queue <paramref name="q"/>'s context.</summary>
    public Span<byte> TxContext(int q) => Object(q * TxObjectSize, TxObjectSize);

    /// <summary>The host memory of RX queue <paramref name="q"/>'s context.</summary>
    public Span<byte> RxContext(int q) => Object(RxBase + q * RxObjectSize, RxObjectSize);

    private Span<byte> Object(int offset, int size) =>
        // Objects never straddle a page: sizes are powers of two up to 128 and the RX base is 512-aligned.
        new(_memory.Pointer + PageSize + offset, size);

    /// <summary>Invalidates the segment so the device forgets the context pages, then frees them.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _regs.Write32(I40eRegs.PFHMC_SDDATAHIGH, 0);
        _regs.Write32(I40eRegs.PFHMC_SDDATALOW, PdsPerSd << I40eRegs.PFHMC_SDDATALOW_PMSDBPCOUNT_SHIFT);
        _regs.Write32(I40eRegs.PFHMC_SDCMD, I40eRegs.PFHMC_SDCMD_PMSDWR | 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
        _memory.Dispose();
    }
}

/// <summary>
/// Queue contexts are bit-packed little-endian records (the datasheet's LAN TX and RX queue context tables; field
/// positions as in DPDK's i40e_lan_hmc.c). Fields are written into the HMC memory directly.
/// </summary>
internal static class QueueContext
{
    /// <summary>Writes <paramref name="width"/> bits of <paramref name="value"/> at bit <paramref name="lsb"/>.</summary>
    public static void Set(Span<byte> context, int lsb, int width, ulong value)
    {
        for (int i = 0; i < width; i++)
        {
            int bit = lsb + i;
            byte mask = (byte)(1 << (bit % 8));
            if (((value >> i) & 1) != 0)
                context[bit / 8] |= mask;
            else
                context[bit / 8] &= (byte)~mask;
        }
    }

    /// <summary>Reads a field.</summary>
    public static ulong Get(ReadOnlySpan<byte> context, int lsb, int width)
    {
        ulong v = 0;
        for (int i = 0; i < width; i++)
        {
            int bit = lsb + i;
            v |= (ulong)((context[bit / 8] >> (bit % 8)) & 1) << i;
        }
        return v;
    }

    // LAN TX queue context (128 bytes): field LSB and width.
    public const int TxHead = 0, TxHeadWidth = 13;
    public const int TxNewContext = 30;
    public const int TxBase = 32, TxBaseWidth = 57;           // ring base in 128-byte units
    public const int TxQlen = 128 + 33, TxQlenWidth = 13;
    public const int TxRdylist = 7 * 128 + 84, TxRdylistWidth = 10; // the VSI's queue set handle

    // LAN RX queue context (32 bytes).
    public const int RxHead = 0, RxHeadWidth = 13;
    public const int RxBase = 32, RxBaseWidth = 57;
    public const int RxQlen = 89, RxQlenWidth = 13;
    public const int RxDbuff = 102, RxDbuffWidth = 7;          // data buffer size in 128-byte units
    public const int RxHbuff = 109, RxHbuffWidth = 5;
    public const int RxDtype = 114, RxDtypeWidth = 2;          // 0: no header split
    public const int RxDsize = 116;                            // 1: 32-byte descriptors
    public const int RxCrcStrip = 117;
    public const int RxL2tsel = 119;
    public const int RxHsplit0 = 120, RxHsplit0Width = 4;
    public const int RxRxmax = 174, RxRxmaxWidth = 14;        // largest frame accepted
    public const int RxTphrdescEna = 193, RxTphwdescEna = 194, RxTphdataEna = 195, RxTphheadEna = 196;
    public const int RxLrxqthresh = 198, RxLrxqthreshWidth = 3;
    public const int RxPrefena = 201;                          // descriptor prefetch: set at init
}
