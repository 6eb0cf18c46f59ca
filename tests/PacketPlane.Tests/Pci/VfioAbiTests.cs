using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using PacketPlane.Interop;
using Xunit;

namespace PacketPlane.Tests.Pci;

/// <summary>
/// PacketPlane's VFIO ioctl numbers, flags and structure layouts equal what linux/vfio.h gives a C compiler: a small
/// C program is compiled with gcc at test time and prints them.
/// </summary>
public class VfioAbiTests
{
    private const string Program = """
        #include <linux/vfio.h>
        #include <stddef.h>
        #include <stdio.h>
        #define V(x) printf(#x "=%lu\n", (unsigned long)(x))
        int main(void) {
            V(VFIO_API_VERSION); V(VFIO_TYPE1_IOMMU); V(VFIO_TYPE1v2_IOMMU); V(VFIO_NOIOMMU_IOMMU);
            V(VFIO_GET_API_VERSION); V(VFIO_CHECK_EXTENSION); V(VFIO_SET_IOMMU); V(VFIO_GROUP_GET_STATUS);
            V(VFIO_GROUP_SET_CONTAINER); V(VFIO_GROUP_UNSET_CONTAINER); V(VFIO_GROUP_GET_DEVICE_FD);
            V(VFIO_DEVICE_GET_INFO); V(VFIO_DEVICE_GET_REGION_INFO); V(VFIO_DEVICE_RESET);
            V(VFIO_IOMMU_MAP_DMA); V(VFIO_IOMMU_UNMAP_DMA);
            V(VFIO_GROUP_FLAGS_VIABLE); V(VFIO_GROUP_FLAGS_CONTAINER_SET); V(VFIO_DEVICE_FLAGS_RESET); V(VFIO_DEVICE_FLAGS_PCI);
            V(VFIO_REGION_INFO_FLAG_READ); V(VFIO_REGION_INFO_FLAG_WRITE); V(VFIO_REGION_INFO_FLAG_MMAP);
            V(VFIO_DMA_MAP_FLAG_READ); V(VFIO_DMA_MAP_FLAG_WRITE);
            V(VFIO_PCI_BAR0_REGION_INDEX); V(VFIO_PCI_BAR5_REGION_INDEX); V(VFIO_PCI_ROM_REGION_INDEX); V(VFIO_PCI_CONFIG_REGION_INDEX);
            V(sizeof(struct vfio_group_status)); V(sizeof(struct vfio_device_info)); V(sizeof(struct vfio_region_info));
            V(sizeof(struct vfio_iommu_type1_dma_map)); V(sizeof(struct vfio_iommu_type1_dma_unmap));
            V(offsetof(struct vfio_region_info, index)); V(offsetof(struct vfio_region_info, size)); V(offsetof(struct vfio_region_info, offset));
            V(offsetof(struct vfio_iommu_type1_dma_map, vaddr)); V(offsetof(struct vfio_iommu_type1_dma_map, iova)); V(offsetof(struct vfio_iommu_type1_dma_map, size));
            V(offsetof(struct vfio_iommu_type1_dma_unmap, iova)); V(offsetof(struct vfio_iommu_type1_dma_unmap, size));
            V(offsetof(struct vfio_device_info, num_regions));
            return 0;
        }
        """;

    [Fact]
    public void Ioctl_numbers_flags_and_layouts_match_linux_vfio_h()
    {
        Dictionary<string, ulong> c = CompileAndRun();
        Same(c, "VFIO_API_VERSION", (ulong)Libc.VFIO_API_VERSION);
        Same(c, "VFIO_TYPE1_IOMMU", (ulong)Libc.VFIO_TYPE1_IOMMU);
        Same(c, "VFIO_TYPE1v2_IOMMU", (ulong)Libc.VFIO_TYPE1v2_IOMMU);
        Same(c, "VFIO_NOIOMMU_IOMMU", (ulong)Libc.VFIO_NOIOMMU_IOMMU);
        Same(c, "VFIO_GET_API_VERSION", Libc.VFIO_GET_API_VERSION);
        Same(c, "VFIO_CHECK_EXTENSION", Libc.VFIO_CHECK_EXTENSION);
        Same(c, "VFIO_SET_IOMMU", Libc.VFIO_SET_IOMMU);
        Same(c, "VFIO_GROUP_GET_STATUS", Libc.VFIO_GROUP_GET_STATUS);
        Same(c, "VFIO_GROUP_SET_CONTAINER", Libc.VFIO_GROUP_SET_CONTAINER);
        Same(c, "VFIO_GROUP_UNSET_CONTAINER", Libc.VFIO_GROUP_UNSET_CONTAINER);
        Same(c, "VFIO_GROUP_GET_DEVICE_FD", Libc.VFIO_GROUP_GET_DEVICE_FD);
        Same(c, "VFIO_DEVICE_GET_INFO", Libc.VFIO_DEVICE_GET_INFO);
        Same(c, "VFIO_DEVICE_GET_REGION_INFO", Libc.VFIO_DEVICE_GET_REGION_INFO);
        Same(c, "VFIO_DEVICE_RESET", Libc.VFIO_DEVICE_RESET);
        Same(c, "VFIO_IOMMU_MAP_DMA", Libc.VFIO_IOMMU_MAP_DMA);
        Same(c, "VFIO_IOMMU_UNMAP_DMA", Libc.VFIO_IOMMU_UNMAP_DMA);
        Same(c, "VFIO_GROUP_FLAGS_VIABLE", Libc.VFIO_GROUP_FLAGS_VIABLE);
        Same(c, "VFIO_GROUP_FLAGS_CONTAINER_SET", Libc.VFIO_GROUP_FLAGS_CONTAINER_SET);
        Same(c, "VFIO_DEVICE_FLAGS_RESET", Libc.VFIO_DEVICE_FLAGS_RESET);
        Same(c, "VFIO_DEVICE_FLAGS_PCI", Libc.VFIO_DEVICE_FLAGS_PCI);
        Same(c, "VFIO_REGION_INFO_FLAG_READ", Libc.VFIO_REGION_INFO_FLAG_READ);
        Same(c, "VFIO_REGION_INFO_FLAG_WRITE", Libc.VFIO_REGION_INFO_FLAG_WRITE);
        Same(c, "VFIO_REGION_INFO_FLAG_MMAP", Libc.VFIO_REGION_INFO_FLAG_MMAP);
        Same(c, "VFIO_DMA_MAP_FLAG_READ", Libc.VFIO_DMA_MAP_FLAG_READ);
        Same(c, "VFIO_DMA_MAP_FLAG_WRITE", Libc.VFIO_DMA_MAP_FLAG_WRITE);
        Same(c, "VFIO_PCI_BAR0_REGION_INDEX", Libc.VFIO_PCI_BAR0_REGION_INDEX);
        Same(c, "VFIO_PCI_BAR5_REGION_INDEX", Libc.VFIO_PCI_BAR5_REGION_INDEX);
        Same(c, "VFIO_PCI_ROM_REGION_INDEX", Libc.VFIO_PCI_ROM_REGION_INDEX);
        Same(c, "VFIO_PCI_CONFIG_REGION_INDEX", Libc.VFIO_PCI_CONFIG_REGION_INDEX);
        Same(c, "sizeof(struct vfio_group_status)", (ulong)Marshal.SizeOf<Libc.vfio_group_status>());
        Same(c, "sizeof(struct vfio_device_info)", (ulong)Marshal.SizeOf<Libc.vfio_device_info>());
        Same(c, "sizeof(struct vfio_region_info)", (ulong)Marshal.SizeOf<Libc.vfio_region_info>());
        Same(c, "sizeof(struct vfio_iommu_type1_dma_map)", (ulong)Marshal.SizeOf<Libc.vfio_iommu_type1_dma_map>());
        Same(c, "sizeof(struct vfio_iommu_type1_dma_unmap)", (ulong)Marshal.SizeOf<Libc.vfio_iommu_type1_dma_unmap>());
        Same(c, "offsetof(struct vfio_region_info, index)", (ulong)Marshal.OffsetOf<Libc.vfio_region_info>("index"));
        Same(c, "offsetof(struct vfio_region_info, size)", (ulong)Marshal.OffsetOf<Libc.vfio_region_info>("size"));
        Same(c, "offsetof(struct vfio_region_info, offset)", (ulong)Marshal.OffsetOf<Libc.vfio_region_info>("offset"));
        Same(c, "offsetof(struct vfio_iommu_type1_dma_map, vaddr)", (ulong)Marshal.OffsetOf<Libc.vfio_iommu_type1_dma_map>("vaddr"));
        Same(c, "offsetof(struct vfio_iommu_type1_dma_map, iova)", (ulong)Marshal.OffsetOf<Libc.vfio_iommu_type1_dma_map>("iova"));
        Same(c, "offsetof(struct vfio_iommu_type1_dma_map, size)", (ulong)Marshal.OffsetOf<Libc.vfio_iommu_type1_dma_map>("size"));
        Same(c, "offsetof(struct vfio_iommu_type1_dma_unmap, iova)", (ulong)Marshal.OffsetOf<Libc.vfio_iommu_type1_dma_unmap>("iova"));
        Same(c, "offsetof(struct vfio_iommu_type1_dma_unmap, size)", (ulong)Marshal.OffsetOf<Libc.vfio_iommu_type1_dma_unmap>("size"));
        Same(c, "offsetof(struct vfio_device_info, num_regions)", (ulong)Marshal.OffsetOf<Libc.vfio_device_info>("num_regions"));
    }

    private static void Same(Dictionary<string, ulong> c, string name, ulong ours) =>
        Assert.True(c[name] == ours, $"{name}: linux/vfio.h gives {c[name]}, PacketPlane has {ours}");

    private static Dictionary<string, ulong> CompileAndRun()
    {
        string dir = Directory.CreateTempSubdirectory("pp-vfio-abi-").FullName;
        try
        {
            string src = Path.Combine(dir, "abi.c"), exe = Path.Combine(dir, "abi");
            File.WriteAllText(src, Program);
            Run("gcc", $"-o {exe} {src}", "gcc is needed to check the VFIO ABI against linux/vfio.h (apt-get install gcc libc6-dev)");
            string output = Run(exe, "", "the compiled ABI probe failed");
            var values = new Dictionary<string, ulong>();
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = line.LastIndexOf('=');
                values[line[..eq]] = ulong.Parse(line[(eq + 1)..], CultureInfo.InvariantCulture);
            }
            return values;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string file, string args, string failure)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException(failure);
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{failure}: {stderr}");
        return stdout;
    }
}
