using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// VFIO user API from <c>linux/vfio.h</c>: ioctl numbers, flags and the structures they take. Names are the
/// header's own so they grep against it; the numbers are checked against the installed header by a test that
/// compiles a small C program with gcc (tests/PacketPlane.Tests/Pci/VfioAbiTests.cs).
/// </summary>
internal static unsafe partial class Libc
{
    // linux/vfio.h: every VFIO ioctl is _IO(VFIO_TYPE, VFIO_BASE + n) with VFIO_TYPE ';' (0x3B) and VFIO_BASE 100,
    // i.e. (0x3B << 8) | (100 + n). The argument structures carry their own argsz instead of an _IOW size.
    private const ulong VFIO_TYPE = ';';
    private const ulong VFIO_BASE = 100;

    public const int VFIO_API_VERSION = 0;

    // Extensions (VFIO_CHECK_EXTENSION argument) and IOMMU types (VFIO_SET_IOMMU argument).
    public const int VFIO_TYPE1_IOMMU = 1;
    public const int VFIO_TYPE1v2_IOMMU = 3;
    public const int VFIO_NOIOMMU_IOMMU = 8;

    public const ulong VFIO_GET_API_VERSION = (VFIO_TYPE << 8) | (VFIO_BASE + 0);
    public const ulong VFIO_CHECK_EXTENSION = (VFIO_TYPE << 8) | (VFIO_BASE + 1);
    public const ulong VFIO_SET_IOMMU = (VFIO_TYPE << 8) | (VFIO_BASE + 2);
    public const ulong VFIO_GROUP_GET_STATUS = (VFIO_TYPE << 8) | (VFIO_BASE + 3);
    public const ulong VFIO_GROUP_SET_CONTAINER = (VFIO_TYPE << 8) | (VFIO_BASE + 4);
    public const ulong VFIO_GROUP_UNSET_CONTAINER = (VFIO_TYPE << 8) | (VFIO_BASE + 5);
    public const ulong VFIO_GROUP_GET_DEVICE_FD = (VFIO_TYPE << 8) | (VFIO_BASE + 6);
    public const ulong VFIO_DEVICE_GET_INFO = (VFIO_TYPE << 8) | (VFIO_BASE + 7);
    public const ulong VFIO_DEVICE_GET_REGION_INFO = (VFIO_TYPE << 8) | (VFIO_BASE + 8);
    public const ulong VFIO_DEVICE_RESET = (VFIO_TYPE << 8) | (VFIO_BASE + 11);
    public const ulong VFIO_IOMMU_MAP_DMA = (VFIO_TYPE << 8) | (VFIO_BASE + 13);
    public const ulong VFIO_IOMMU_UNMAP_DMA = (VFIO_TYPE << 8) | (VFIO_BASE + 14);

    public const uint VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
    public const uint VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

    public const uint VFIO_DEVICE_FLAGS_RESET = 1 << 0;
    public const uint VFIO_DEVICE_FLAGS_PCI = 1 << 1;

    public const uint VFIO_REGION_INFO_FLAG_READ = 1 << 0;
    public const uint VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    public const uint VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;

    public const uint VFIO_DMA_MAP_FLAG_READ = 1 << 0;
    public const uint VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

    // enum { VFIO_PCI_BAR0_REGION_INDEX, ... VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, ... }
    public const uint VFIO_PCI_BAR0_REGION_INDEX = 0;
    public const uint VFIO_PCI_BAR5_REGION_INDEX = 5;
    public const uint VFIO_PCI_ROM_REGION_INDEX = 6;
    public const uint VFIO_PCI_CONFIG_REGION_INDEX = 7;

    /// <summary>struct vfio_group_status.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vfio_group_status
    {
        public uint argsz;
        public uint flags;
    }

    /// <summary>struct vfio_device_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vfio_device_info
    {
        public uint argsz;
        public uint flags;
        public uint num_regions;
        public uint num_irqs;
        public uint cap_offset;
    }

    /// <summary>struct vfio_region_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vfio_region_info
    {
        public uint argsz;
        public uint flags;
        public uint index;
        public uint cap_offset;
        public ulong size;
        public ulong offset;
    }

    /// <summary>struct vfio_iommu_type1_dma_map.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vfio_iommu_type1_dma_map
    {
        public uint argsz;
        public uint flags;
        public ulong vaddr;
        public ulong iova;
        public ulong size;
    }

    /// <summary>struct vfio_iommu_type1_dma_unmap (without the flexible data[] tail, which we never use).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct vfio_iommu_type1_dma_unmap
    {
        public uint argsz;
        public uint flags;
        public ulong iova;
        public ulong size;
    }

    // <sys/ioctl.h> with an integer argument (VFIO_SET_IOMMU, VFIO_CHECK_EXTENSION) is the nint overload in
    // Libc.Sockets.cs; with a string argument (VFIO_GROUP_GET_DEVICE_FD takes the device name):
    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ioctl(int fd, ulong request, string arg);
}
