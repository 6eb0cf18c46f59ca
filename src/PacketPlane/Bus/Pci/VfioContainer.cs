using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;
using PacketPlane.Interop;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// A VFIO container (/dev/vfio/vfio): one IOMMU address space shared by every group PacketPlane opens, as DPDK's
/// default container. The first group attached selects the IOMMU type (type1v2, type1, or no-IOMMU). Memory regions
/// are DMA-mapped with IOVA = virtual address, each once, and unmapped when the last group goes away.
/// </summary>
internal sealed unsafe class VfioContainer
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, VfioContainer> s_open = new(StringComparer.Ordinal);

    private readonly ILogger _log = Log.For("PacketPlane.Bus.Pci.Vfio");
    private readonly List<Mapping> _mapped = new();
    private readonly string _path;
    private int _references;
    private int _iommuType;

    private VfioContainer(string path, int fd)
    {
        _path = path;
        Fd = fd;
    }

    public int Fd { get; }

    /// <summary>True once a no-IOMMU group was attached: nothing to map, devices see physical addresses.</summary>
    public bool IsNoIommu => _iommuType == Libc.VFIO_NOIOMMU_IOMMU;

    /// <summary>Opens (or shares) the container at <paramref name="paths"/>.Container and checks the API version.</summary>
    public static VfioContainer Acquire(PciPaths paths, PciAddress forDevice)
    {
        lock (s_lock)
        {
            if (!s_open.TryGetValue(paths.Container, out VfioContainer? container))
            {
                container = Open(paths.Container, paths.DevVfio, forDevice);
                s_open[paths.Container] = container;
            }
            container._references++;
            return container;
        }
    }

    private static VfioContainer Open(string path, string devVfio, PciAddress forDevice)
    {
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Libc.LastErrno;
            throw new PciException(errno switch
            {
                Libc.ENOENT => VfioHelp.NoDevVfio(forDevice, path),
                Libc.EACCES or Libc.EPERM => VfioHelp.Permission(path, "the VFIO container"),
                _ => $"cannot open {path}: {Libc.Describe(errno)}",
            });
        }
        int version = Libc.ioctl(fd, Libc.VFIO_GET_API_VERSION, 0);
        if (version < 0)
        {
            string error = Libc.Describe(Libc.LastErrno);
            Libc.close(fd);
            throw new PciException(VfioHelp.NotAContainer(path, error));
        }
        if (version != Libc.VFIO_API_VERSION)
        {
            Libc.close(fd);
            throw new PciException(VfioHelp.ApiVersion(version));
        }
        return new VfioContainer(path, fd);
    }

    /// <summary>
    /// Puts <paramref name="groupFd"/> into this container (VFIO_GROUP_SET_CONTAINER); the first group also selects
    /// the IOMMU model (VFIO_SET_IOMMU), which the kernel only accepts once a group is attached.
    /// </summary>
    public void AttachGroup(int groupFd, bool noIommu, PciAddress address)
    {
        lock (s_lock)
        {
            int containerFd = Fd;
            if (Libc.ioctl(groupFd, Libc.VFIO_GROUP_SET_CONTAINER, &containerFd) != 0)
                throw new PciException(VfioHelp.Ioctl("VFIO_GROUP_SET_CONTAINER", address, Libc.Describe(Libc.LastErrno)));
            if (_iommuType != 0)
                return;
            int type = noIommu ? Libc.VFIO_NOIOMMU_IOMMU : ChooseType1();
            if (Libc.ioctl(Fd, Libc.VFIO_SET_IOMMU, type) != 0)
                throw new PciException(VfioHelp.Ioctl($"VFIO_SET_IOMMU({type})", address, Libc.Describe(Libc.LastErrno)));
            _iommuType = type;
            _log.LogInformation("VFIO container {Path}: IOMMU type {Type}", _path, type switch
            {
                Libc.VFIO_TYPE1v2_IOMMU => "type1v2",
                Libc.VFIO_TYPE1_IOMMU => "type1",
                _ => "no-IOMMU (unsafe; physical addresses)",
            });
        }
    }

    private int ChooseType1()
    {
        if (Libc.ioctl(Fd, Libc.VFIO_CHECK_EXTENSION, Libc.VFIO_TYPE1v2_IOMMU) > 0)
            return Libc.VFIO_TYPE1v2_IOMMU;
        if (Libc.ioctl(Fd, Libc.VFIO_CHECK_EXTENSION, Libc.VFIO_TYPE1_IOMMU) > 0)
            return Libc.VFIO_TYPE1_IOMMU;
        throw new PciException(VfioHelp.NoType1(_path));
    }

    /// <summary>
    /// Makes <paramref name="region"/> reachable by device DMA at region.Iova(address). With an IOMMU: one
    /// VFIO_IOMMU_MAP_DMA of the whole region (read and write), IOVA = VA. Without (no-IOMMU mode) there is nothing
    /// to map, but the region must then hand out physical addresses.
    /// </summary>
    public void MapDma(MemoryRegion region, PciAddress address)
    {
        lock (s_lock)
        {
            if (IsNoIommu)
            {
                if (region.IovaMode != IovaMode.PhysicalAddress)
                    throw new PciException(VfioHelp.NoIommuNeedsPhysicalAddresses(address));
                return;
            }
            if (_mapped.Exists(m => ReferenceEquals(m.Region, region)))
                return;
            // A disposed region's virtual range may be handed out again; drop its stale mapping first.
            foreach (Mapping stale in _mapped.FindAll(m => m.Region.IsDisposed))
                Unmap(stale);
            Mapping mapping = Chunks(region);
            for (int i = 0; i < mapping.Chunks.Length; i++)
            {
                (ulong vaddr, ulong iova, ulong size) = mapping.Chunks[i];
                var map = new Libc.vfio_iommu_type1_dma_map
                {
                    argsz = (uint)sizeof(Libc.vfio_iommu_type1_dma_map),
                    flags = Libc.VFIO_DMA_MAP_FLAG_READ | Libc.VFIO_DMA_MAP_FLAG_WRITE,
                    vaddr = vaddr,
                    iova = iova,
                    size = size,
                };
                if (Libc.ioctl(Fd, Libc.VFIO_IOMMU_MAP_DMA, &map) != 0)
                {
                    int errno = Libc.LastErrno;
                    Unmap(mapping with { Chunks = mapping.Chunks[..i] });
                    throw new PciException(VfioHelp.DmaMapFailed(region.Name, errno, Libc.Describe(errno)));
                }
            }
            _mapped.Add(mapping);
            _log.LogDebug("DMA-mapped region {Name}: {Length} bytes in {Count} mapping(s), IOVA 0x{Iova:x}", region.Name, region.Length,
                mapping.Chunks.Length, mapping.Chunks[0].Iova);
        }
    }

    private sealed record Mapping(MemoryRegion Region, (ulong Vaddr, ulong Iova, ulong Size)[] Chunks);

    /// <summary>
    /// IOVA = VA: one mapping for the whole region. With --iova-mode pa each page is mapped at its physical address
    /// (pages are contiguous only within themselves), as DPDK does in that mode.
    /// </summary>
    private static Mapping Chunks(MemoryRegion region)
    {
        if (region.IovaMode == IovaMode.VirtualAddress)
            return new Mapping(region, [((ulong)region.BaseAddress, (ulong)region.BaseAddress, (ulong)region.Length)]);
        var chunks = new (ulong, ulong, ulong)[region.Length / region.PageSize];
        for (int i = 0; i < chunks.Length; i++)
        {
            nint page = region.BaseAddress + (nint)(i * region.PageSize);
            chunks[i] = ((ulong)page, region.Iova(page), (ulong)region.PageSize);
        }
        return new Mapping(region, chunks);
    }

    private void Unmap(Mapping mapping)
    {
        foreach ((ulong _, ulong iova, ulong size) in mapping.Chunks)
        {
            var unmap = new Libc.vfio_iommu_type1_dma_unmap
            {
                argsz = (uint)sizeof(Libc.vfio_iommu_type1_dma_unmap),
                iova = iova,
                size = size,
            };
            if (Libc.ioctl(Fd, Libc.VFIO_IOMMU_UNMAP_DMA, &unmap) != 0)
                _log.LogWarning("VFIO_IOMMU_UNMAP_DMA of region {Name} failed: {Error}", mapping.Region.Name, Libc.Describe(Libc.LastErrno));
        }
        _mapped.Remove(mapping);
    }

    /// <summary>Drops one reference; the last unmaps every region and closes the container.</summary>
    public void Release()
    {
        lock (s_lock)
        {
            if (--_references > 0)
                return;
            foreach (Mapping m in _mapped.ToArray())
                Unmap(m);
            Libc.close(Fd);
            s_open.Remove(_path);
        }
    }
}
