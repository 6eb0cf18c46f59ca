using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// The error texts of the PCI/VFIO layer, in one place: each says what is wrong and gives the commands that fix it.
/// Commands always name the real /sys and /dev paths (the user runs them on their machine), even when discovery
/// itself ran against a fake tree in a test.
/// </summary>
internal static class VfioHelp
{
    private const string IommuBootOptions =
        "boot with the IOMMU on: intel_iommu=on iommu=pt on Intel CPUs, amd_iommu=on iommu=pt on AMD CPUs " +
        "(add them to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot; check with: dmesg | grep -i -e DMAR -e IOMMU)";

    private const string NoIommuAlternative =
        "Without an IOMMU there is VFIO's no-IOMMU mode (unsafe: the device can write anywhere in memory; needs a kernel " +
        "built with CONFIG_VFIO_NOIOMMU): modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci, bind the device, " +
        "and run as root with --iova-mode pa";

    public static string NotFound(PciAddress address) =>
        $"PCI device {address} does not exist (no /sys/bus/pci/devices/{address}). List the machine's network devices with: lspci -D -nn | grep -i ethernet";

    public static string BoundToKernelDriver(PciDeviceInfo info)
    {
        string iface = info.NetInterfaces.Count > 0 ? $" (network interface {string.Join(", ", info.NetInterfaces)})" : "";
        return $"PCI device {info.Address} ({info.VendorId:x4}:{info.DeviceId:x4}) is bound to the kernel driver '{info.KernelDriver}'{iface}, " +
            "so PacketPlane cannot open it. PacketPlane never unbinds a device on its own. To hand the device to PacketPlane, bind it to vfio-pci " +
            "as root (its kernel network interface disappears while it is bound; never do this to the interface you are logged in through):\n" +
            RebindCommands(info.Address, unbindFirst: true) +
            $"\nor with DPDK's tool: dpdk-devbind.py --bind=vfio-pci {info.Address}\n" +
            $"To give it back to '{info.KernelDriver}' later:\n" +
            $"  echo {info.Address} > /sys/bus/pci/devices/{info.Address}/driver/unbind\n" +
            $"  echo > /sys/bus/pci/devices/{info.Address}/driver_override\n" +
            $"  echo {info.Address} > /sys/bus/pci/drivers_probe";
    }

    public static string NotBound(PciDeviceInfo info) =>
        $"PCI device {info.Address} ({info.VendorId:x4}:{info.DeviceId:x4}) is not bound to any driver. Bind it to vfio-pci as root:\n" +
        RebindCommands(info.Address, unbindFirst: false);

    public static string RebindCommands(PciAddress address, bool unbindFirst)
    {
        var sb = new StringBuilder();
        sb.Append("  modprobe vfio-pci\n");
        if (unbindFirst)
            sb.Append($"  echo {address} > /sys/bus/pci/devices/{address}/driver/unbind\n");
        sb.Append($"  echo vfio-pci > /sys/bus/pci/devices/{address}/driver_override\n");
        sb.Append($"  echo {address} > /sys/bus/pci/drivers_probe");
        return sb.ToString();
    }

    public static string NoDevVfio(PciAddress address, string path) =>
        $"Cannot open {address} through VFIO: {path} does not exist, so the vfio-pci driver is not loaded. " +
        $"Load it with: modprobe vfio-pci (then bind the device: dpdk-devbind.py --bind=vfio-pci {address}). " +
        $"VFIO needs an IOMMU: {IommuBootOptions}. {NoIommuAlternative}.";

    public static string NoIommuGroup(PciDeviceInfo info) =>
        $"PCI device {info.Address} is in no IOMMU group: the IOMMU is off or absent, so VFIO cannot isolate it. To enable it, " +
        $"{IommuBootOptions}. {NoIommuAlternative}.";

    public static string GroupFileMissing(PciDeviceInfo info, int group, string groupPath) => info.IsBoundToVfio
        ? $"PCI device {info.Address} is bound to vfio-pci and in IOMMU group {group}, but {groupPath} does not exist. " +
          $"vfio-pci creates it when it takes the device: check its messages (dmesg | grep -i vfio) and that /dev is populated (ls -l /dev/vfio); " +
          $"rebinding recreates it:\n" + RebindCommands(info.Address, unbindFirst: true)
        : $"PCI device {info.Address} is in IOMMU group {group} but {groupPath} does not exist: the device is not bound to vfio-pci " +
          $"(it is bound to {(info.KernelDriver is null ? "no driver" : $"'{info.KernelDriver}'")}). Bind it as root:\n" +
          RebindCommands(info.Address, unbindFirst: info.KernelDriver is not null);

    public static string NonViable(PciAddress address, int group, IReadOnlyList<PciDeviceInfo> blockers)
    {
        var sb = new StringBuilder();
        sb.Append($"IOMMU group {group} of {address} is not viable: VFIO hands out a group only when every device in it is bound to vfio-pci " +
            "(or to no driver), because devices in one group can reach each other's memory. ");
        if (blockers.Count == 0)
        {
            sb.Append("The kernel reports the group not viable; see which devices it holds with: ls -l /sys/kernel/iommu_groups/" + group + "/devices");
            return sb.ToString();
        }
        sb.Append($"Other devices in group {group}: ");
        sb.Append(string.Join("; ", blockers.Select(b => $"{b.Address} {b.VendorId:x4}:{b.DeviceId:x4} bound to '{b.KernelDriver}'")));
        sb.Append(". Bind them to vfio-pci as well (as root):\n");
        foreach (PciDeviceInfo b in blockers)
            sb.Append(RebindCommands(b.Address, unbindFirst: true)).Append('\n');
        sb.Append("or move the card to a slot with its own IOMMU group (a root port with ACS).");
        return sb.ToString();
    }

    public static string Permission(string path, string what) =>
        $"Permission denied opening {path} ({what}). VFIO devices belong to root: run as root, or give your user the group " +
        $"(chown $USER {path}) and raise the locked-memory limit (ulimit -l unlimited), which DMA mapping needs.";

    public static string GroupBusy(int group, string path) =>
        $"{path} (IOMMU group {group}) is busy: another process holds it open (another PacketPlane or DPDK program, or QEMU). " +
        $"Find it with: fuser -v {path}";

    public static string NotAContainer(string path, string error) =>
        $"{path} does not answer VFIO_GET_API_VERSION ({error}); it is not the VFIO container device. Reload VFIO with: modprobe -r vfio-pci; modprobe vfio-pci";

    public static string ApiVersion(int version) =>
        $"the kernel's VFIO API version is {version}, PacketPlane speaks version 0 (linux/vfio.h VFIO_API_VERSION)";

    public static string NoType1(string path) =>
        $"{path} offers no type1 IOMMU backend (VFIO_CHECK_EXTENSION for VFIO_TYPE1v2_IOMMU and VFIO_TYPE1_IOMMU both failed). " +
        "Load it with: modprobe vfio_iommu_type1";

    public static string NoIommuNeedsPhysicalAddresses(PciAddress address) =>
        $"{address} is opened in VFIO no-IOMMU mode, where the device sees physical addresses, but memory uses virtual IOVAs. " +
        "Run with --iova-mode pa as root (PacketPlane then programs physical addresses from /proc/self/pagemap into the device).";

    public static string DmaMapFailed(string region, int errno, string error) => errno == Interop.Libc.ENOMEM
        ? $"VFIO_IOMMU_MAP_DMA of memory region '{region}' failed: {error}. The locked-memory limit is too low for DMA mapping: " +
          "run ulimit -l unlimited (or as root), and if many regions are mapped raise vfio_iommu_type1's dma_entry_limit " +
          "(modprobe vfio_iommu_type1 dma_entry_limit=131072)."
        : $"VFIO_IOMMU_MAP_DMA of memory region '{region}' failed: {error}.";

    public static string Ioctl(string what, PciAddress address, string error) =>
        $"{what} failed for {address}: {error}";
}
