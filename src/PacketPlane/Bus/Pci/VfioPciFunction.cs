using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;
using PacketPlane.Interop;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// A PCI function opened through VFIO (kernel Documentation/driver-api/vfio.rst): the device's IOMMU group is
/// attached to the shared container, the device fd gives BARs (mmap at the offset VFIO_DEVICE_GET_REGION_INFO
/// reports) and configuration space (pread/pwrite on the config region), and memory regions are DMA-mapped with
/// IOVA = VA. In no-IOMMU mode (/dev/vfio/noiommu-N) nothing is mapped and devices get physical addresses.
/// PacketPlane never binds or unbinds: every refusal explains the command the user runs.
/// </summary>
public sealed unsafe class VfioPciFunction : IPciFunction
{
    // PCI Local Bus spec 3.0, 6.2.2: Command register at config offset 0x04; bit 2 is Bus Master Enable.
    private const int PciCommandRegister = 0x04;
    private const ushort PciCommandBusMaster = 1 << 2;

    private readonly ILogger _log = Log.For("PacketPlane.Bus.Pci.Vfio");
    private readonly VfioContainer _container;
    private readonly VfioGroup _group;
    private readonly int _deviceFd;
    private readonly Libc.vfio_region_info _config;
    private readonly Dictionary<int, (nint Address, long Length)> _bars = new();
    private readonly PciDeviceInfo _info;
    private bool _busMaster;
    private bool _disposed;

    private VfioPciFunction(PciDeviceInfo info, VfioContainer container, VfioGroup group, int deviceFd, Libc.vfio_region_info config)
    {
        _info = info;
        _container = container;
        _group = group;
        _deviceFd = deviceFd;
        _config = config;
    }

    /// <inheritdoc/>
    public PciAddress Address => _info.Address;

    /// <inheritdoc/>
    public ushort VendorId => _info.VendorId;

    /// <inheritdoc/>
    public ushort DeviceId => _info.DeviceId;

    /// <inheritdoc/>
    public int NumaNode => _info.NumaNode;

    /// <summary>True in VFIO no-IOMMU mode: the device sees physical addresses (needs --iova-mode pa).</summary>
    public bool IsNoIommu => _container.IsNoIommu;

    /// <summary>
    /// Opens <paramref name="address"/> through VFIO. Every EAL memory region alive now is DMA-mapped; regions made
    /// later are mapped by drivers through <see cref="MapDma"/>.
    /// </summary>
    /// <param name="address">The function to open.</param>
    /// <param name="paths">Where sysfs and /dev/vfio are (tests use a fake tree); the real ones by default.</param>
    /// <exception cref="PciException">The device is missing, bound to a kernel driver, in no or a non-viable IOMMU group,
    /// VFIO is not loaded, or an ioctl failed. The message carries the fix.</exception>
    public static VfioPciFunction Open(PciAddress address, PciPaths? paths = null)
    {
        paths ??= PciPaths.System;
        var bus = new PciBus(paths);
        PciDeviceInfo info = bus.Find(address) ?? throw new PciException(VfioHelp.NotFound(address));
        if (info.KernelDriver is null)
            throw new PciException(VfioHelp.NotBound(info));
        if (!info.IsBoundToVfio)
            throw new PciException(VfioHelp.BoundToKernelDriver(info));
        if (!Directory.Exists(paths.DevVfio))
            throw new PciException(VfioHelp.NoDevVfio(address, paths.DevVfio));
        int groupNumber = info.IommuGroup ?? throw new PciException(VfioHelp.NoIommuGroup(info));
        CheckGroupMembers(bus, info, groupNumber);
        if (!File.Exists(paths.Group(groupNumber, noIommu: false)) && !File.Exists(paths.Group(groupNumber, noIommu: true)))
            throw new PciException(VfioHelp.GroupFileMissing(info, groupNumber, paths.Group(groupNumber, noIommu: false)));

        VfioContainer container = VfioContainer.Acquire(paths, address);
        VfioGroup? group = null;
        int deviceFd = -1;
        try
        {
            group = VfioGroup.Acquire(paths, bus, info, groupNumber, container);
            deviceFd = Libc.ioctl(group.Fd, Libc.VFIO_GROUP_GET_DEVICE_FD, address.ToString());
            if (deviceFd < 0)
                throw new PciException(VfioHelp.Ioctl("VFIO_GROUP_GET_DEVICE_FD", address, Libc.Describe(Libc.LastErrno)));
            Libc.vfio_region_info config = RegionInfo(deviceFd, Libc.VFIO_PCI_CONFIG_REGION_INDEX, address);
            var function = new VfioPciFunction(info, container, group, deviceFd, config);
            foreach (MemoryRegion region in MemoryRegion.LiveRegions)
                function.MapDma(region);
            function._log.LogInformation("{Address} {Vendor:x4}:{Device:x4} opened through VFIO (group {Group}{Mode}), numa node {Node}",
                address, info.VendorId, info.DeviceId, groupNumber, container.IsNoIommu ? ", no-IOMMU" : "", info.NumaNode);
            return function;
        }
        catch
        {
            if (deviceFd >= 0)
                Libc.close(deviceFd);
            group?.Release();
            container.Release();
            throw;
        }
    }

    /// <summary>
    /// The sysfs view of viability: every other device of the group must be bound to vfio-pci or to nothing (bridges
    /// on pcieport and pci-stub are accepted too). Checked before touching /dev/vfio so the error names the devices.
    /// </summary>
    internal static void CheckGroupMembers(PciBus bus, PciDeviceInfo device, int group)
    {
        List<PciDeviceInfo> blockers = BlockingMembers(bus, device.Address, group);
        if (blockers.Count > 0)
            throw new PciException(VfioHelp.NonViable(device.Address, group, blockers));
    }

    internal static List<PciDeviceInfo> BlockingMembers(PciBus bus, PciAddress device, int group) =>
        bus.IommuGroupMembers(group)
            .Where(a => a != device)
            .Select(a => bus.Find(a))
            .Where(d => d is not null && d.KernelDriver is string drv && drv is not ("vfio-pci" or "pci-stub" or "pcieport"))
            .Select(d => d!)
            .ToList();

    private static Libc.vfio_region_info RegionInfo(int deviceFd, uint index, PciAddress address)
    {
        var info = new Libc.vfio_region_info { argsz = (uint)sizeof(Libc.vfio_region_info), index = index };
        if (Libc.ioctl(deviceFd, Libc.VFIO_DEVICE_GET_REGION_INFO, &info) != 0)
            throw new PciException(VfioHelp.Ioctl($"VFIO_DEVICE_GET_REGION_INFO({index})", address, Libc.Describe(Libc.LastErrno)));
        return info;
    }

    /// <inheritdoc/>
    public int ReadConfig(int offset, Span<byte> buffer)
    {
        ThrowIfDisposed();
        fixed (byte* p = buffer)
        {
            nint n = Libc.pread(_deviceFd, p, (nuint)buffer.Length, (long)_config.offset + offset);
            if (n < 0)
                throw new PciException($"reading configuration space of {Address} at 0x{offset:x} failed: {Libc.Describe(Libc.LastErrno)}");
            return (int)n;
        }
    }

    /// <inheritdoc/>
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        fixed (byte* p = data)
        {
            if (Libc.pwrite(_deviceFd, p, (nuint)data.Length, (long)_config.offset + offset) != data.Length)
                throw new PciException($"writing configuration space of {Address} at 0x{offset:x} failed: {Libc.Describe(Libc.LastErrno)}");
        }
    }

    /// <inheritdoc/>
    public (nint Address, long Length) MapBar(int bar)
    {
        ThrowIfDisposed();
        if ((uint)bar > Libc.VFIO_PCI_BAR5_REGION_INDEX)
            throw new ArgumentOutOfRangeException(nameof(bar), $"BAR {bar} does not exist; PCI functions have BARs 0 to 5");
        if (_bars.TryGetValue(bar, out (nint, long) mapped))
            return mapped;
        Libc.vfio_region_info info = RegionInfo(_deviceFd, (uint)bar, Address);
        if (info.size == 0)
            throw new PciException($"BAR {bar} of {Address} is not implemented by the device (VFIO reports size 0)");
        if ((info.flags & Libc.VFIO_REGION_INFO_FLAG_MMAP) == 0)
            throw new PciException($"BAR {bar} of {Address} cannot be memory-mapped (VFIO region flags 0x{info.flags:x}; an I/O-port BAR?)");
        nint addr = Libc.mmap(0, (nuint)info.size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, _deviceFd, (long)info.offset);
        if (addr == Libc.MAP_FAILED)
            throw new PciException($"mmap of BAR {bar} of {Address} ({info.size} bytes) failed: {Libc.Describe(Libc.LastErrno)}");
        _bars[bar] = (addr, (long)info.size);
        _log.LogDebug("{Address}: BAR {Bar} mapped, {Size} bytes", Address, bar, info.size);
        return (addr, (long)info.size);
    }

    /// <inheritdoc/>
    public void EnableBusMaster() => SetBusMaster(true);

    private void SetBusMaster(bool on)
    {
        Span<byte> cmd = stackalloc byte[2];
        if (ReadConfig(PciCommandRegister, cmd) != 2)
            throw new PciException($"short read of the PCI command register of {Address}");
        ushort value = (ushort)(cmd[0] | (cmd[1] << 8));
        value = on ? (ushort)(value | PciCommandBusMaster) : (ushort)(value & ~PciCommandBusMaster);
        cmd[0] = (byte)value;
        cmd[1] = (byte)(value >> 8);
        WriteConfig(PciCommandRegister, cmd);
        _busMaster = on;
    }

    /// <inheritdoc/>
    public void MapDma(MemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        ThrowIfDisposed();
        _container.MapDma(region, Address);
    }

    /// <summary>Stops the device's DMA (bus master off), unmaps its BARs and closes it; the group and container go with the last user.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        try
        {
            // Stop DMA before the memory it targets can be unmapped or freed.
            if (_busMaster)
                SetBusMaster(false);
        }
        catch (PciException e)
        {
            _log.LogWarning("{Address}: could not clear bus mastering at close: {Error}", Address, e.Message);
        }
        _disposed = true;
        foreach ((nint addr, long length) in _bars.Values)
            Libc.munmap(addr, (nuint)length);
        _bars.Clear();
        Libc.close(_deviceFd);
        _group.Release();
        _container.Release();
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
            ThrowHelper.ThrowObjectDisposed($"VFIO device {Address}");
    }

    /// <summary>"0000:03:00.0 (vfio)".</summary>
    public override string ToString() => $"{Address} (vfio{(IsNoIommu ? ", no-IOMMU" : "")})";
}

/// <summary>An open IOMMU group (/dev/vfio/N), shared by the functions of the group and attached to the container once.</summary>
internal sealed unsafe class VfioGroup
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, VfioGroup> s_open = new(StringComparer.Ordinal);
    private readonly string _path;
    private int _references;

    private VfioGroup(string path, int fd)
    {
        _path = path;
        Fd = fd;
    }

    public int Fd { get; }

    public static VfioGroup Acquire(PciPaths paths, PciBus bus, PciDeviceInfo device, int number, VfioContainer container)
    {
        lock (s_lock)
        {
            bool noIommu = File.Exists(paths.Group(number, noIommu: true));
            string path = paths.Group(number, noIommu);
            if (!s_open.TryGetValue(path, out VfioGroup? group))
            {
                group = Open(path, bus, device, number);
                try
                {
                    container.AttachGroup(group.Fd, noIommu, device.Address);
                }
                catch
                {
                    Libc.close(group.Fd);
                    throw;
                }
                s_open[path] = group;
            }
            group._references++;
            return group;
        }
    }

    private static VfioGroup Open(string path, PciBus bus, PciDeviceInfo device, int number)
    {
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Libc.LastErrno;
            throw new PciException(errno switch
            {
                Libc.ENOENT => VfioHelp.GroupFileMissing(device, number, path),
                Libc.EACCES or Libc.EPERM => VfioHelp.Permission(path, $"IOMMU group {number}"),
                Libc.EBUSY => VfioHelp.GroupBusy(number, path),
                _ => $"cannot open {path}: {Libc.Describe(errno)}",
            });
        }
        var status = new Libc.vfio_group_status { argsz = (uint)sizeof(Libc.vfio_group_status) };
        if (Libc.ioctl(fd, Libc.VFIO_GROUP_GET_STATUS, &status) != 0)
        {
            string error = Libc.Describe(Libc.LastErrno);
            Libc.close(fd);
            throw new PciException($"VFIO_GROUP_GET_STATUS on {path} failed: {error}; {path} is not a VFIO group device");
        }
        if ((status.flags & Libc.VFIO_GROUP_FLAGS_VIABLE) == 0)
        {
            Libc.close(fd);
            throw new PciException(VfioHelp.NonViable(device.Address, number, VfioPciFunction.BlockingMembers(bus, device.Address, number)));
        }
        return new VfioGroup(path, fd);
    }

    public void Release()
    {
        lock (s_lock)
        {
            if (--_references > 0)
                return;
            Libc.ioctl(Fd, Libc.VFIO_GROUP_UNSET_CONTAINER, 0);
            Libc.close(Fd);
            s_open.Remove(_path);
        }
    }
}
