using System;
using System.Collections.Generic;
using System.Linq;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Interop;
using PacketPlane.Memory;

namespace PacketPlane.Drivers.Virtio.VirtioUser;

/// <summary>
/// The memory a virtio-user frontend shares with its backend (SET_MEM_TABLE): the ring region and every mbuf
/// pool's region, each a memfd passed whole (offset 0), with guest address = user address = our virtual address,
/// so descriptors carry plain pointers. At most 8 regions fit one message.
/// </summary>
internal sealed class SharedMemoryTable : IDisposable
{
    private SharedMemoryTable(VhostUserMemoryRegion[] regions, int[] fds, MbufPool[] pools)
    {
        Regions = regions;
        Fds = fds;
        Pools = pools;
    }

    /// <summary>Table entries.</summary>
    public VhostUserMemoryRegion[] Regions { get; }

    /// <summary>One duplicated descriptor per entry, closed by <see cref="Dispose"/>.</summary>
    public int[] Fds { get; }

    /// <summary>Pools whose buffers the backend can reach.</summary>
    public MbufPool[] Pools { get; }

    /// <summary>
    /// Collects the regions to share now. Throws <see cref="Ethdev.EthDevException"/>, explaining the limit, when
    /// more than 8 would be needed.
    /// </summary>
    public static SharedMemoryTable Build(string device, MemoryRegion ringRegion)
    {
        var regions = new List<MemoryRegion> { ringRegion };
        var pools = new List<MbufPool>();
        foreach (MbufPool pool in MbufPool.All)
        {
            if (pool.Region.IsDisposed)
                continue;
            pools.Add(pool);
            if (!regions.Contains(pool.Region))
                regions.Add(pool.Region);
        }
        if (regions.Count > VhostUserProtocol.VHOST_MEMORY_MAX_NREGIONS)
        {
            throw new Ethdev.EthDevException(
                $"{device}: {regions.Count} memory regions would have to be shared with the vhost-user backend (the ring memory and " +
                $"{pools.Count} mbuf pools: {string.Join(", ", pools.Select(p => p.Name))}), but vhost-user's SET_MEM_TABLE carries at most " +
                $"{VhostUserProtocol.VHOST_MEMORY_MAX_NREGIONS} (VHOST_MEMORY_MAX_NREGIONS: a fixed 8-entry table, one file descriptor per entry, in QEMU and DPDK alike). " +
                "Every mbuf pool is one region: use fewer, larger pools, and dispose pools you no longer use, before starting the port");
        }
        return Duplicate(regions, pools);
    }

    private static SharedMemoryTable Duplicate(List<MemoryRegion> regions, List<MbufPool> pools)
    {
        var entries = new List<VhostUserMemoryRegion>();
        var fds = new List<int>();
        var reachable = new List<MbufPool>();
        foreach (MemoryRegion r in regions)
        {
            int fd = Libc.fcntl(r.Fd, Libc.F_DUPFD_CLOEXEC, 0);
            // Checked after the dup: a region disposed before it may have had its fd number reused by another file.
            if (fd < 0 || r.IsDisposed)
            {
                if (fd >= 0)
                    Libc.close(fd);
                continue;
            }
            fds.Add(fd);
            entries.Add(new VhostUserMemoryRegion
            {
                GuestPhysAddr = (ulong)r.BaseAddress,
                UserspaceAddr = (ulong)r.BaseAddress,
                MemorySize = (ulong)r.Length,
                MmapOffset = 0,
            });
            reachable.AddRange(pools.Where(p => ReferenceEquals(p.Region, r)));
        }
        return new SharedMemoryTable(entries.ToArray(), fds.ToArray(), reachable.ToArray());
    }

    public void Dispose() => VhostUserChannel.CloseAll(Fds);
}
