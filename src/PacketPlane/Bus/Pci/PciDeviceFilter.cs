using System;
using System.Collections.Generic;
using System.Linq;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// Which PCI functions the EAL may touch, from <c>-a</c>/<c>--allow</c>, <c>-b</c>/<c>--block</c> and
/// <c>--no-pci</c>, with DPDK's rules: an allow list means only those devices; a block list means every device but
/// those; the two cannot be combined; --no-pci means none. Allow-list entries may carry device arguments after a
/// comma (<c>-a 0000:03:00.0,rx_vec=0</c>), which go to the driver.
/// </summary>
public sealed class PciDeviceFilter
{
    private readonly Dictionary<PciAddress, string> _allowed;
    private readonly HashSet<PciAddress> _blocked;

    private PciDeviceFilter(bool noPci, Dictionary<PciAddress, string> allowed, HashSet<PciAddress> blocked)
    {
        NoPci = noPci;
        _allowed = allowed;
        _blocked = blocked;
    }

    /// <summary>True with --no-pci.</summary>
    public bool NoPci { get; }

    /// <summary>True when an allow list was given.</summary>
    public bool HasAllowList => _allowed.Count > 0;

    /// <summary>The allow list, in the order given.</summary>
    public IReadOnlyCollection<PciAddress> Allowed => _allowed.Keys;

    /// <summary>Builds the filter from EAL options.</summary>
    /// <exception cref="EalArgumentException">A malformed address, or -a and -b together.</exception>
    public static PciDeviceFilter FromOptions(EalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var allowed = new Dictionary<PciAddress, string>();
        foreach (string entry in options.AllowedPciDevices)
        {
            (PciAddress address, string args) = Split(entry, "-a");
            if (!allowed.TryAdd(address, args))
                throw new EalArgumentException($"-a {address} is given twice; list each PCI device once");
        }
        var blocked = new HashSet<PciAddress>();
        foreach (string entry in options.BlockedPciDevices)
            blocked.Add(Split(entry, "-b").Address);
        if (allowed.Count > 0 && blocked.Count > 0)
        {
            throw new EalArgumentException(
                "-a/--allow and -b/--block cannot be used together (as in DPDK): with -a only the listed devices are used, " +
                "so drop the -b entries, or drop -a to use every device except the blocked ones");
        }
        return new PciDeviceFilter(options.NoPci, allowed, blocked);
    }

    /// <summary>True when the EAL may probe the function at <paramref name="address"/>.</summary>
    public bool IsAllowed(PciAddress address) =>
        !NoPci && (_allowed.Count > 0 ? _allowed.ContainsKey(address) : !_blocked.Contains(address));

    /// <summary>True when <paramref name="address"/> is named by -a (the user asked for it explicitly).</summary>
    public bool IsExplicitlyAllowed(PciAddress address) => !NoPci && _allowed.ContainsKey(address);

    /// <summary>Device arguments given after the address in -a ("" when none).</summary>
    public string ArgumentsFor(PciAddress address) => _allowed.TryGetValue(address, out string? a) ? a : "";

    private static (PciAddress Address, string Args) Split(string entry, string option)
    {
        int comma = entry.IndexOf(',', StringComparison.Ordinal);
        string text = comma < 0 ? entry : entry[..comma];
        if (!PciAddress.TryParse(text.Trim(), out PciAddress address))
            throw new EalArgumentException($"{option} {entry}: '{text}' is not a PCI address; expected DOMAIN:BUS:DEVICE.FUNCTION such as 0000:03:00.0 (see lspci -D)");
        return (address, comma < 0 ? "" : entry[(comma + 1)..]);
    }
}
