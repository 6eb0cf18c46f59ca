using System;
using System.Collections.Generic;
using System.Linq;

namespace PacketPlane.Ethdev.Driver;

/// <summary>
/// Drivers by name prefix. The built-in drivers are registered on first use; applications may add their own.
/// A device string picks the driver whose name is the longest prefix of its device name.
/// </summary>
public static class EthDriverRegistry
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, EthDriver> s_drivers = new(StringComparer.Ordinal);
    private static bool s_builtInsLoaded;

    /// <summary>Registers a driver; a name already registered is replaced.</summary>
    public static void Register(EthDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        lock (s_lock)
        {
            EnsureBuiltIns();
            s_drivers[driver.Name] = driver;
        }
    }

    /// <summary>Every registered driver, by name.</summary>
    public static IReadOnlyList<EthDriver> Drivers
    {
        get
        {
            lock (s_lock)
            {
                EnsureBuiltIns();
                return s_drivers.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToArray();
            }
        }
    }

    /// <summary>The driver for <paramref name="deviceName"/>.</summary>
    /// <exception cref="DeviceArgumentException">No driver claims the name; the message lists the drivers.</exception>
    public static EthDriver Find(string deviceName)
    {
        lock (s_lock)
        {
            EnsureBuiltIns();
            // A bare PCI address (0000:03:00.0) names a PCI device, as in DPDK's -a; it belongs to the pci: driver.
            if (Bus.Pci.PciAddress.TryParse(deviceName.Split(',')[0], out _) && s_drivers.TryGetValue(PciDriverName, out EthDriver? pci))
                return pci;
            EthDriver? best = null;
            foreach (EthDriver d in s_drivers.Values)
            {
                if (deviceName.StartsWith(d.Name, StringComparison.Ordinal) && (best is null || d.Name.Length > best.Name.Length))
                    best = d;
            }
            return best ?? throw new DeviceArgumentException(
                $"no driver for device '{deviceName}'; device names start with a driver name followed by a number " +
                $"(net_null0). Drivers: {string.Join(", ", s_drivers.Keys.Order(StringComparer.Ordinal))}");
        }
    }

    private const string PciDriverName = "pci:";

    private static void EnsureBuiltIns()
    {
        if (s_builtInsLoaded)
            return;
        s_builtInsLoaded = true;
        foreach (EthDriver d in PacketPlane.Drivers.BuiltInDrivers.Create())
            s_drivers[d.Name] = d;
    }
}
