using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Internal;

/// <summary>
/// Every register access of the PCI drivers goes through this one small helper: 32-bit reads and writes of a
/// mapped BAR, read-modify-write of bits, and waits for bits with a timeout that log which register and which bits
/// they wait for (ixy's wait_set_reg32, with the name).
/// <para>
/// Writes are plain volatile stores (posted writes, as on PCIe). A volatile store has release semantics, so the
/// descriptor stores a driver makes before writing a tail register are visible to the device before the tail is
/// (this pairs with the device's read of the tail, as DPDK's rte_io_wmb before a doorbell). Reads are volatile loads
/// from the BAR, except for emulated functions (<see cref="IEmulatedPciFunction"/>), whose reads the emulator answers.
/// </para>
/// </summary>
internal readonly unsafe struct Mmio
{
    private readonly byte* _base;
    private readonly IEmulatedPciFunction? _emulated;
    private readonly int _bar;
    private readonly ILogger _log;

    private Mmio(byte* baseAddress, long length, int bar, IEmulatedPciFunction? emulated, string device, ILogger log)
    {
        _base = baseAddress;
        Length = length;
        _bar = bar;
        _emulated = emulated;
        Device = device;
        _log = log;
    }

    /// <summary>Bytes mapped.</summary>
    public long Length { get; }

    /// <summary>Device name for messages (0000:03:00.0).</summary>
    public string Device { get; }

    /// <summary>Maps BAR <paramref name="bar"/> of <paramref name="pci"/> (VFIO or an emulated function).</summary>
    public static Mmio Map(IPciFunction pci, int bar, ILogger log)
    {
        (nint address, long length) = pci.MapBar(bar);
        return new Mmio((byte*)address, length, bar, pci as IEmulatedPciFunction, pci.Address.ToString(), log);
    }

    /// <summary>Reads the 32-bit register at byte offset <paramref name="register"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(int register)
    {
        Debug.Assert((uint)register <= (ulong)Length - 4, "register outside the BAR");
        if (_emulated is not null)
            return _emulated.ReadBar32(_bar, register);
        return Volatile.Read(ref *(uint*)(_base + register));
    }

    /// <summary>Writes the 32-bit register at byte offset <paramref name="register"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(int register, uint value)
    {
        Debug.Assert((uint)register <= (ulong)Length - 4, "register outside the BAR");
        // Release store: everything written before (descriptors, buffers) is visible before the register write.
        Volatile.Write(ref *(uint*)(_base + register), value);
    }

    /// <summary>The address of a register, for a queue's tail doorbell kept as a pointer.</summary>
    public uint* Pointer(int register) => (uint*)(_base + register);

    /// <summary>Sets <paramref name="bits"/> in a register (read-modify-write).</summary>
    public void Set32(int register, uint bits) => Write32(register, Read32(register) | bits);

    /// <summary>Clears <paramref name="bits"/> in a register (read-modify-write).</summary>
    public void Clear32(int register, uint bits) => Write32(register, Read32(register) & ~bits);

    /// <summary>Replaces the bits under <paramref name="mask"/> with <paramref name="value"/>.</summary>
    public void Modify32(int register, uint mask, uint value) => Write32(register, (Read32(register) & ~mask) | (value & mask));

    /// <summary>Reads a register as a posting flush: on PCIe a read cannot pass earlier writes, so they have reached the device when it returns.</summary>
    public void Flush(int register) => Read32(register);

    /// <summary>
    /// Waits until every bit of <paramref name="mask"/> reads as 1.
    /// </summary>
    /// <exception cref="PciException">Timed out; the message names the register, the bits and the last value read.</exception>
    public void WaitSet32(int register, uint mask, TimeSpan timeout,
        [CallerArgumentExpression(nameof(register))] string registerName = "",
        [CallerArgumentExpression(nameof(mask))] string bitsName = "") =>
        Wait(register, mask, set: true, timeout, registerName, bitsName);

    /// <summary>Waits until every bit of <paramref name="mask"/> reads as 0.</summary>
    /// <exception cref="PciException">Timed out; the message names the register, the bits and the last value read.</exception>
    public void WaitClear32(int register, uint mask, TimeSpan timeout,
        [CallerArgumentExpression(nameof(register))] string registerName = "",
        [CallerArgumentExpression(nameof(mask))] string bitsName = "") =>
        Wait(register, mask, set: false, timeout, registerName, bitsName);

    private void Wait(int register, uint mask, bool set, TimeSpan timeout, string registerName, string bitsName)
    {
        string what = $"{Short(registerName)} (0x{register:x5}) bits {Short(bitsName)} (0x{mask:x8}) to {(set ? "set" : "clear")}";
        _log.LogDebug("{Device}: waiting up to {Timeout} ms for {What}", Device, (int)timeout.TotalMilliseconds, what);
        long start = Stopwatch.GetTimestamp();
        uint value;
        int spins = 0;
        while (true)
        {
            value = Read32(register);
            if (set ? (value & mask) == mask : (value & mask) == 0)
                break;
            if (Stopwatch.GetElapsedTime(start) > timeout)
            {
                throw new PciException($"{Device}: timed out after {(int)timeout.TotalMilliseconds} ms waiting for {what}; " +
                    $"the register reads 0x{value:x8}. The device did not complete the step; check dmesg for PCIe/IOMMU errors and that no other driver owns the device");
            }
            // Hardware answers these waits in microseconds to milliseconds: spin briefly, then yield the CPU.
            if (++spins < 64)
                Thread.SpinWait(50);
            else
                Thread.Sleep(1);
        }
        _log.LogDebug("{Device}: {What} done after {Elapsed:F3} ms", Device, what, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    // "IxgbeRegs.CTRL" reads better as "CTRL"; "IxgbeRegs.RXDCTL(q)" as "RXDCTL(q)".
    private static string Short(string expression)
    {
        int paren = expression.IndexOf('(', StringComparison.Ordinal);
        int dot = expression.LastIndexOf('.', paren < 0 ? expression.Length - 1 : paren);
        return dot < 0 ? expression : expression[(dot + 1)..];
    }
}
