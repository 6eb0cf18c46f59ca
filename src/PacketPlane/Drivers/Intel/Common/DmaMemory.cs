using System;
using PacketPlane.Bus.Pci;
using PacketPlane.Ethdev;

namespace PacketPlane.Drivers.Intel.Common;

/// <summary>
/// A block of device-visible memory for descriptor rings, admin queues and HMC pages: its own EAL memory region
/// (hugepages when free), DMA-mapped for the device, page-aligned (every Intel ring wants 128-byte alignment, the
/// HMC 4 KiB). The driver frees it when the queue or device is released.
/// </summary>
internal sealed unsafe class DmaMemory : IDisposable
{
    private readonly MemoryRegion _region;

    private DmaMemory(MemoryRegion region, int bytes)
    {
        _region = region;
        Bytes = bytes;
    }

    /// <summary>Virtual address of the first byte.</summary>
    public byte* Pointer => (byte*)_region.BaseAddress;

    /// <summary>The device's address of the first byte.</summary>
    public ulong Iova => _region.Iova(_region.BaseAddress);

    /// <summary>Bytes requested.</summary>
    public int Bytes { get; }

    /// <summary>The device address of <paramref name="p"/> inside this block.</summary>
    public ulong IovaOf(void* p) => _region.Iova((nint)p);

    /// <summary>
    /// Allocates <paramref name="bytes"/> for <paramref name="pci"/>, filled with <paramref name="fill"/>, and maps them
    /// for its DMA.
    /// </summary>
    /// <exception cref="EthDevException">The memory cannot be made physically contiguous (no-IOMMU mode on 4 KiB pages).</exception>
    public static DmaMemory Allocate(IPciFunction pci, string name, int bytes, int numaNode, byte fill)
    {
        MemoryRegion region = Eal.AllocateMemory(name, bytes, numaNode >= 0 ? numaNode : pci.NumaNode);
        // The queue owns this memory and frees it at release; the EAL must not keep a second reference to it.
        Eal.Current?.Disown(region);
        try
        {
            if (region.IovaMode == IovaMode.PhysicalAddress && region.PageSize < bytes)
            {
                throw new EthDevException($"{pci.Address}: {name} needs {bytes} physically contiguous bytes but got {region.PageSize}-byte pages; " +
                    "with --iova-mode pa reserve hugepages (echo 1024 > /proc/sys/vm/nr_hugepages) or use an IOMMU");
            }
            new Span<byte>((void*)region.BaseAddress, bytes).Fill(fill);
            pci.MapDma(region);
            return new DmaMemory(region, bytes);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Frees the memory (the device must no longer use it).</summary>
    public void Dispose() => _region.Dispose();
}
