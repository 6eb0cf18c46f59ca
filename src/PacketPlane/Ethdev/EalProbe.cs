using System.Collections.Generic;
using PacketPlane.Ethdev;

namespace PacketPlane;

public sealed partial class Eal
{
    private readonly List<EthDev> _probedPorts = new();

    /// <summary>Ports created from the EAL's <c>--vdev</c> arguments (and allowed PCI devices), in order.</summary>
    public IReadOnlyList<EthDev> Ports => _probedPorts;

    partial void ProbeDevices()
    {
        foreach (string vdev in Options.VirtualDevices)
            _probedPorts.Add(EthDev.Create(vdev));
    }
}
