using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Internal;

namespace PacketPlane;

public sealed partial class Eal
{
    private readonly List<EthDev> _probedPorts = new();

    /// <summary>Ports created from the EAL's <c>--vdev</c> arguments and the PCI devices it probed, in order.</summary>
    public IReadOnlyList<EthDev> Ports => _probedPorts;

    /// <summary>Where the PCI probe reads sysfs; tests point it at a fake tree.</summary>
    internal static PciPaths PciProbePaths { get; set; } = PciPaths.System;

    partial void ProbeDevices()
    {
        foreach (string vdev in Options.VirtualDevices)
            _probedPorts.Add(EthDev.Create(vdev));
        ProbePci();
    }

    /// <summary>
    /// DPDK's PCI probe with its rules: <c>--no-pci</c> skips the bus; with <c>-a</c> only the listed devices are
    /// used and each must be usable (an error explains what is missing); otherwise every supported device bound to
    /// vfio-pci and not blocked with <c>-b</c> becomes a port, and supported devices still bound to a kernel driver are
    /// skipped with a log line (PacketPlane never unbinds them).
    /// </summary>
    private void ProbePci()
    {
        ILogger log = Log.For("PacketPlane.Eal.Pci");
        PciDeviceFilter filter = PciDeviceFilter.FromOptions(Options);
        if (filter.NoPci)
        {
            log.LogInformation("PCI bus not scanned (--no-pci)");
            return;
        }
        var bus = new PciBus(PciProbePaths);
        if (filter.HasAllowList)
        {
            foreach (PciAddress address in filter.Allowed)
                _probedPorts.Add(ProbeAllowed(bus, address, filter.ArgumentsFor(address)));
            return;
        }
        HashSet<string> uplinks = Interop.NetInterface.DefaultRouteInterfaces();
        foreach (PciDeviceInfo info in bus.Scan())
        {
            if (!PciDriverTable.Supports(info.VendorId, info.DeviceId))
                continue;
            if (!filter.IsAllowed(info.Address))
            {
                log.LogInformation("PCI {Device}: blocked (-b), not probed", info);
                continue;
            }
            if (!info.IsBoundToVfio && !PciFunctions.IsAttached(info.Address))
            {
                string? uplink = info.NetInterfaces.FirstOrDefault(uplinks.Contains);
                if (uplink is not null)
                {
                    log.LogDebug("PCI {Device}: supported but it is {Interface}, which carries this machine's default route; left to the kernel", info, uplink);
                    continue;
                }
                log.LogInformation("PCI {Device}: supported but bound to {Driver}, skipped; to use it, bind it to vfio-pci " +
                    "(dpdk-devbind.py --bind=vfio-pci {Address}) and pass -a {Address}", info, info.KernelDriver ?? "no driver", info.Address, info.Address);
                continue;
            }
            _probedPorts.Add(CreatePort(info.Address, ""));
        }
    }

    private static EthDev ProbeAllowed(PciBus bus, PciAddress address, string args)
    {
        if (PciFunctions.IsAttached(address))
            return CreatePort(address, args);
        PciDeviceInfo info = bus.Find(address) ?? throw new PciException(VfioHelp.NotFound(address));
        if (!PciDriverTable.Supports(info.VendorId, info.DeviceId))
        {
            throw new EalArgumentException($"-a {address}: no PacketPlane driver supports {info.VendorId:x4}:{info.DeviceId:x4} " +
                $"(class 0x{info.ClassCode:x6}, bound to {info.KernelDriver ?? "no driver"}). Supported: {PciDriverTable.Describe()}");
        }
        if (info.KernelDriver is null)
            throw new PciException(VfioHelp.NotBound(info));
        if (!info.IsBoundToVfio)
            throw new PciException(VfioHelp.BoundToKernelDriver(info));
        return CreatePort(address, args);
    }

    private static EthDev CreatePort(PciAddress address, string args) =>
        EthDev.Create(PciPortDriver.Prefix + address + (args.Length > 0 ? "," + args : ""));
}
