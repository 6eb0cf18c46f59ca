using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;
using PacketPlane.Interop;

namespace PacketPlane;

/// <summary>How a <see cref="MemoryRegion"/> chooses its page size.</summary>
public enum PagePolicy
{
    /// <summary>Hugepages when enough are free, else 4 KiB pages with one warning that says how to reserve hugepages.</summary>
    Auto,

    /// <summary>Hugepages or an error naming the command that reserves them.</summary>
    RequireHugepages,

    /// <summary>4 KiB pages only (<c>--no-huge</c>).</summary>
    SmallPages,
}

/// <summary>How device addresses (IOVA) are formed, as DPDK's <c>--iova-mode</c>.</summary>
public enum IovaMode
{
    /// <summary>IOVA is the virtual address (VFIO maps it so; software drivers need nothing else).</summary>
    VirtualAddress,

    /// <summary>IOVA is the physical address from /proc/self/pagemap (root only; VFIO no-IOMMU mode).</summary>
    PhysicalAddress,
}

/// <summary>Options for creating a <see cref="MemoryRegion"/>.</summary>
public sealed record MemoryRegionOptions
{
    /// <summary>Page-size policy.</summary>
    public PagePolicy Pages { get; init; } = PagePolicy.Auto;

    /// <summary>Preferred hugepage size when hugepages are used.</summary>
    public long HugepageSize { get; init; } = Hugepages.Size2M;

    /// <summary>NUMA node to bind the memory to, or -1 for no preference.</summary>
    public int NumaNode { get; init; } = -1;

    /// <summary>How <see cref="MemoryRegion.Iova"/> translates addresses.</summary>
    public IovaMode IovaMode { get; init; } = IovaMode.VirtualAddress;
}

/// <summary>
/// One contiguous block of packet or table memory: an anonymous <c>memfd</c> (with <c>MFD_HUGETLB</c> when
/// hugepages are used), mapped <c>MAP_SHARED</c>, populated and locked. Because it is a memfd, nothing is left
/// on disk when the process dies, even by SIGKILL, and the fd can be passed to a vhost-user peer.
/// </summary>
public sealed unsafe class MemoryRegion : IDisposable
{
    private static int s_smallPageWarningGiven;
    private static int s_mlockWarningGiven;
    private static readonly object s_registryLock = new();
    private static readonly List<MemoryRegion> s_live = new();

    private readonly ILogger _log;
    private int _disposed;
    private int _pagemapFd = -1;

    private MemoryRegion(string name, nint baseAddress, long length, int fd, long pageSize, int node, IovaMode iovaMode, ILogger log)
    {
        Name = name;
        BaseAddress = baseAddress;
        Length = length;
        Fd = fd;
        PageSize = pageSize;
        NumaNode = node;
        IovaMode = iovaMode;
        _log = log;
    }

    /// <summary>Name given at creation (shows in /proc/PID/maps as memfd:NAME).</summary>
    public string Name { get; }

    /// <summary>Virtual address of the first byte.</summary>
    public nint BaseAddress { get; }

    /// <summary>Length in bytes (a multiple of <see cref="PageSize"/>).</summary>
    public long Length { get; }

    /// <summary>The memfd backing the region; share it (vhost-user SET_MEM_TABLE) with offset 0.</summary>
    public int Fd { get; }

    /// <summary>Page size actually obtained: 4096, 2 MiB or 1 GiB.</summary>
    public long PageSize { get; }

    /// <summary>True when backed by hugepages.</summary>
    public bool IsHugepage => PageSize > 4096;

    /// <summary>NUMA node the memory is bound to, or -1 when not bound (single-node machine or no preference).</summary>
    public int NumaNode { get; }

    /// <summary>How <see cref="Iova"/> translates.</summary>
    public IovaMode IovaMode { get; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Every region currently mapped by this process (VFIO maps each for DMA; vhost-user shares them).</summary>
    public static IReadOnlyList<MemoryRegion> LiveRegions
    {
        get
        {
            lock (s_registryLock)
                return s_live.ToArray();
        }
    }

    /// <summary>True when <paramref name="address"/> lies inside this region.</summary>
    public bool Contains(nint address) => (nuint)(address - BaseAddress) < (nuint)Length;

    /// <summary>A span over part of the region.</summary>
    public Span<byte> AsSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(offset), $"range {offset}+{length} lies outside region '{Name}' of {Length} bytes");
        return new Span<byte>((byte*)BaseAddress + offset, length);
    }

    /// <summary>
    /// The device address of <paramref name="address"/>: the address itself in VA mode; the physical
    /// address from /proc/self/pagemap in PA mode (pages are locked, so it does not change).
    /// </summary>
    public ulong Iova(nint address)
    {
        if (IovaMode == IovaMode.VirtualAddress)
            return (ulong)address;
        return PhysicalAddress(address);
    }

    /// <summary>
    /// Creates a region of at least <paramref name="size"/> bytes (rounded up to the page size).
    /// </summary>
    /// <exception cref="MemoryAllocationException">Hugepages required but not available (the message carries the
    /// command that reserves them), or the mapping failed.</exception>
    public static MemoryRegion Create(string name, long size, MemoryRegionOptions? options = null)
    {
        options ??= new MemoryRegionOptions();
        if (size <= 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(size), "a memory region needs a positive size");
        ILogger log = Log.For("PacketPlane.Eal.Memory");

        long pageSize = ChoosePageSize(size, options, log);
        long length = RoundUp(size, pageSize);
        uint flags = Libc.MFD_CLOEXEC;
        if (pageSize > 4096)
            flags |= Libc.MFD_HUGETLB | (pageSize == Hugepages.Size1G ? Libc.MFD_HUGE_1GB : Libc.MFD_HUGE_2MB);

        int fd = Libc.memfd_create("packetplane:" + name, flags);
        if (fd < 0)
            throw new MemoryAllocationException($"memfd_create for region '{name}' failed: {Libc.Describe(Libc.LastErrno)}");
        try
        {
            if (Libc.ftruncate(fd, length) != 0)
                throw new MemoryAllocationException($"ftruncate of region '{name}' to {length} bytes failed: {Libc.Describe(Libc.LastErrno)}");
            int node = options.NumaNode >= 0 && Numa.IsMultiNode ? options.NumaNode : -1;
            nint addr = MapAndPopulate(name, fd, length, pageSize, node);
            LockPages(addr, length, log);
            var region = new MemoryRegion(name, addr, length, fd, pageSize, node, options.IovaMode, log);
            if (options.IovaMode == IovaMode.PhysicalAddress)
                region.OpenPagemap();
            lock (s_registryLock)
                s_live.Add(region);
            log.LogDebug("region {Name}: {Length} bytes at 0x{Address:x}, page size {PageSize}, node {Node}",
                name, length, addr, pageSize, node);
            return region;
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Makes <see cref="PagePolicy.Auto"/> choose 4 KiB pages. For test processes that must leave the machine's
    /// hugepages to the tests that measure them (set once, before any region is created).
    /// </summary>
    internal static bool AutoUsesSmallPages { get; set; }

    private static long ChoosePageSize(long size, MemoryRegionOptions options, ILogger log)
    {
        if (options.Pages == PagePolicy.SmallPages || (options.Pages == PagePolicy.Auto && AutoUsesSmallPages))
            return 4096;
        long hugeSize = options.HugepageSize;
        long needed = RoundUp(size, hugeSize);
        bool supported = Hugepages.IsSizeSupported(hugeSize);
        long free = supported ? Hugepages.FreeBytes(hugeSize, Numa.IsMultiNode ? options.NumaNode : -1) : 0;
        if (free >= needed)
            return hugeSize;
        if (options.Pages == PagePolicy.RequireHugepages)
        {
            string fix = supported
                ? Hugepages.ReserveCommand(needed - free, hugeSize, options.NumaNode)
                : $"boot with hugepagesz={hugeSize >> 20}M hugepages=N (the kernel offers no {hugeSize >> 20} MiB pages)";
            throw new MemoryAllocationException(
                $"{needed >> 20} MiB of {hugeSize >> 20} MiB hugepages needed" +
                (options.NumaNode >= 0 ? $" on NUMA node {options.NumaNode}" : "") +
                $", {free >> 20} MiB free. Reserve them with: {fix}  (or run with --no-huge to use 4 KiB pages)");
        }
        if (Interlocked.Exchange(ref s_smallPageWarningGiven, 1) == 0)
        {
            log.LogWarning(PacketPlane.Telemetry.LogEvents.HugepageFallback, "not enough free hugepages ({Free} MiB free, {Needed} MiB wanted); using 4 KiB pages. " +
                "For full speed reserve hugepages: {Fix}", free >> 20, needed >> 20,
                Hugepages.ReserveCommand(needed, hugeSize));
        }
        return 4096;
    }

    private static nint MapAndPopulate(string name, int fd, long length, long pageSize, int node)
    {
        // Without a NUMA binding to apply first, MAP_POPULATE faults every page in at mmap time.
        int flags = Libc.MAP_SHARED | (node < 0 ? Libc.MAP_POPULATE : 0);
        nint addr = Libc.mmap(0, (nuint)length, Libc.PROT_READ | Libc.PROT_WRITE, flags, fd, 0);
        if (addr == Libc.MAP_FAILED)
        {
            int errno = Libc.LastErrno;
            string hint = pageSize > 4096 && errno == Libc.ENOMEM
                ? $" Hugepages ran out between the check and the mapping; reserve more with: {Hugepages.ReserveCommand(length, pageSize)}"
                : "";
            throw new MemoryAllocationException($"mmap of region '{name}' ({length} bytes) failed: {Libc.Describe(errno)}.{hint}");
        }
        if (node >= 0)
            BindAndPopulate(addr, length, node);
        return addr;
    }

    private static void BindAndPopulate(nint addr, long length, int node)
    {
        ulong mask = 1UL << node;
        // Bind before the first touch: the page's node is decided when it is faulted in.
        Libc.mbind(addr, (nuint)length, Libc.MPOL_BIND, &mask, 64, 0);
        if (Libc.madvise(addr, (nuint)length, Libc.MADV_POPULATE_WRITE) != 0)
        {
            // Kernels before 5.14 lack MADV_POPULATE_WRITE: touch one byte per page instead.
            for (long off = 0; off < length; off += 4096)
                ((byte*)addr)[off] = 0;
        }
    }

    private static void LockPages(nint addr, long length, ILogger log)
    {
        if (Libc.mlock(addr, (nuint)length) == 0)
            return;
        int errno = Libc.LastErrno;
        // Hugepages never swap; 4 KiB pages only matter to devices doing DMA, which need root anyway.
        if (Interlocked.Exchange(ref s_mlockWarningGiven, 1) == 0)
        {
            log.LogWarning("could not lock packet memory in RAM ({Error}); fine for software ports, required for DMA. " +
                "Raise the limit with: ulimit -l unlimited (or run as root)", Libc.Describe(errno));
        }
    }

    private void OpenPagemap()
    {
        _pagemapFd = Libc.open("/proc/self/pagemap", Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (_pagemapFd < 0 || PhysicalAddress(BaseAddress) == 0)
        {
            throw new PrivilegeException(
                "--iova-mode pa needs physical addresses from /proc/self/pagemap, which the kernel only shows to root " +
                "(CAP_SYS_ADMIN). Run as root, or use --iova-mode va (the default; VFIO with an IOMMU needs nothing else).");
        }
    }

    private ulong PhysicalAddress(nint address)
    {
        // /proc/self/pagemap: one 64-bit entry per 4 KiB virtual page; bits 0-54 hold the PFN, bit 63 "present"
        // (Documentation/admin-guide/mm/pagemap.rst). Hugepages are physically contiguous within the page.
        const long smallPage = 4096;
        ulong entry;
        long offset = (long)((ulong)address / smallPage) * sizeof(ulong);
        if (Libc.pread(_pagemapFd, &entry, sizeof(ulong), offset) != sizeof(ulong))
            return 0;
        if ((entry & (1UL << 63)) == 0)
            return 0;
        ulong pfn = entry & ((1UL << 55) - 1);
        return pfn * smallPage + ((ulong)address % smallPage);
    }

    private static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Unmaps the region and closes its memfd. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        lock (s_registryLock)
            s_live.Remove(this);
        Libc.munmap(BaseAddress, (nuint)Length);
        Libc.close(Fd);
        if (_pagemapFd >= 0)
            Libc.close(_pagemapFd);
    }
}
