using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Virtio.VhostUser;

/// <summary>
/// A frontend's memory as a vhost-user backend sees it: the regions of SET_MEM_TABLE, each mapped from the file
/// descriptor that came with it. Translates the frontend's guest addresses (in descriptors) and user addresses
/// (in SET_VRING_ADDR) into ours, refusing anything that does not lie wholly inside one region.
/// </summary>
/// <remarks>The table lives in native memory so the datapath's lookups touch no managed object.</remarks>
internal sealed unsafe class GuestMemory : IDisposable
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Region
    {
        public ulong GpaStart;
        public ulong Size;
        public ulong UvaStart;
        public nint Host;        // our address of GpaStart
        public nint MapBase;
        public nuint MapSize;
        public int Fd;
    }

    private Region* _regions;
    private int _count;

    private GuestMemory(Region* regions, int count)
    {
        _regions = regions;
        _count = count;
    }

    /// <summary>Regions mapped.</summary>
    public int Count => _count;

    /// <summary>Total bytes mapped (for logs).</summary>
    public ulong TotalBytes
    {
        get
        {
            ulong total = 0;
            for (int i = 0; i < _count; i++)
                total += _regions[i].Size;
            return total;
        }
    }

    /// <summary>
    /// Maps every region of a SET_MEM_TABLE. Takes ownership of <paramref name="fds"/> (closed on failure, and by
    /// <see cref="Dispose"/> otherwise). Returns null with <paramref name="error"/> set when a region is unusable.
    /// </summary>
    public static GuestMemory? Map(ReadOnlySpan<VhostUserMemoryRegion> table, ReadOnlySpan<int> fds, out string? error)
    {
        error = null;
        var regions = (Region*)NativeMemory.AllocZeroed((nuint)Math.Max(table.Length, 1), (nuint)sizeof(Region));
        int mapped = 0;
        for (; mapped < table.Length; mapped++)
        {
            error = MapOne(mapped, table[mapped], fds[mapped], regions + mapped);
            if (error is not null)
                break;
        }
        if (error is null)
            return new GuestMemory(regions, mapped);
        for (int i = 0; i < mapped; i++)
            Libc.munmap(regions[i].MapBase, regions[i].MapSize);
        VhostUserChannel.CloseAll(fds);
        NativeMemory.Free(regions);
        return null;
    }

    private static string? MapOne(int index, in VhostUserMemoryRegion r, int fd, Region* region)
    {
        if (r.MemorySize == 0)
            return $"region {index} has size 0";
        if (r.MmapOffset > long.MaxValue - r.MemorySize || r.GuestPhysAddr > ulong.MaxValue - r.MemorySize || r.UserspaceAddr > ulong.MaxValue - r.MemorySize)
            return $"region {index} (offset 0x{r.MmapOffset:x}, size 0x{r.MemorySize:x}) overflows the address space";
        Libc.stat_prefix st;
        if (Libc.fstat(fd, &st) != 0)
            return $"region {index}: fstat of its file descriptor failed: {Libc.Describe(Libc.LastErrno)}";
        // Mapping past the end of the file would turn a later access into SIGBUS: refuse it here instead.
        if ((ulong)st.st_size < r.MmapOffset + r.MemorySize)
            return $"region {index} claims {r.MmapOffset + r.MemorySize} bytes of a file that has {st.st_size}";
        // hugetlbfs and memfd(MFD_HUGETLB) files are mapped in whole hugepages: st_blksize is the page size.
        ulong align = st.st_blksize > 0 ? (ulong)st.st_blksize : 4096;
        ulong mapSize = (r.MmapOffset + r.MemorySize + align - 1) / align * align;
        nint addr = Libc.mmap(0, (nuint)mapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        if (addr == Libc.MAP_FAILED)
            return $"region {index}: mmap of {mapSize} bytes failed: {Libc.Describe(Libc.LastErrno)}";
        *region = new Region
        {
            GpaStart = r.GuestPhysAddr,
            Size = r.MemorySize,
            UvaStart = r.UserspaceAddr,
            Host = addr + (nint)r.MmapOffset,
            MapBase = addr,
            MapSize = (nuint)mapSize,
            Fd = fd,
        };
        return null;
    }

    /// <summary>Our address for <paramref name="len"/> bytes at guest address <paramref name="gpa"/>, or null when they leave every region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* GpaToHost(ulong gpa, ulong len)
    {
        Region* r = _regions;
        for (int i = 0; i < _count; i++, r++)
        {
            ulong off = gpa - r->GpaStart;
            if (off < r->Size && len <= r->Size - off)
                return (byte*)r->Host + off;
        }
        return null;
    }

    /// <summary>Our address for <paramref name="len"/> bytes at the frontend's user address <paramref name="uva"/>, or 0.</summary>
    public nint UvaToHost(ulong uva, ulong len)
    {
        for (int i = 0; i < _count; i++)
        {
            Region* r = _regions + i;
            ulong off = uva - r->UvaStart;
            if (off < r->Size && len <= r->Size - off)
                return r->Host + (nint)off;
        }
        return 0;
    }

    /// <summary>Unmaps every region and closes their descriptors. Call only once no burst can touch the memory.</summary>
    public void Dispose()
    {
        if (_regions == null)
            return;
        for (int i = 0; i < _count; i++)
        {
            Libc.munmap(_regions[i].MapBase, _regions[i].MapSize);
            Libc.close(_regions[i].Fd);
        }
        NativeMemory.Free(_regions);
        _regions = null;
        _count = 0;
    }
}
