using System;
using System.Collections.Generic;

namespace PacketPlane.Bus.Pci;

/// <summary>
/// Where PCI ports get their <see cref="IPciFunction"/>. By default a port opens its address through VFIO
/// (<see cref="VfioPciFunction.Open"/>). An application or a test harness may attach its own implementation for an
/// address first (a device model, an emulator); ports created for that address then use it. The port disposes the
/// function it was given when it closes.
/// </summary>
public static class PciFunctions
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<PciAddress, IPciFunction> s_attached = new();

    /// <summary>
    /// Makes ports created for <paramref name="function"/>.Address use <paramref name="function"/>. Dispose the result
    /// to detach it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another function is already attached at that address.</exception>
    public static IDisposable Attach(IPciFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        lock (s_lock)
        {
            if (!s_attached.TryAdd(function.Address, function))
                throw new InvalidOperationException($"a PCI function is already attached at {function.Address}; detach it first");
        }
        return new Attachment(function);
    }

    /// <summary>The function attached at <paramref name="address"/>, or the device opened through VFIO.</summary>
    /// <exception cref="PciException">Nothing attached and VFIO refused (the message explains the fix).</exception>
    public static IPciFunction Open(PciAddress address, PciPaths? paths = null)
    {
        lock (s_lock)
        {
            if (s_attached.TryGetValue(address, out IPciFunction? f))
                return f;
        }
        return VfioPciFunction.Open(address, paths);
    }

    /// <summary>True when a function is attached at <paramref name="address"/>.</summary>
    public static bool IsAttached(PciAddress address)
    {
        lock (s_lock)
            return s_attached.ContainsKey(address);
    }

    private sealed class Attachment(IPciFunction function) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            lock (s_lock)
            {
                if (_done)
                    return;
                _done = true;
                if (s_attached.TryGetValue(function.Address, out IPciFunction? f) && ReferenceEquals(f, function))
                    s_attached.Remove(function.Address);
            }
        }
    }
}
