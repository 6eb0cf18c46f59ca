namespace PacketPlane.Bus.Pci;

/// <summary>
/// A PCI function whose registers are emulated in software (a device model, an emulator) rather than decoded by
/// hardware behind the mapping. It follows the PCIe split between posted and non-posted requests:
/// <list type="bullet">
/// <item>Writes are posted: drivers store straight into the memory <see cref="IPciFunction.MapBar"/> returned, as
/// they would on hardware, and the emulator picks them up by watching that memory (there is no trap on plain memory).</item>
/// <item>Reads are non-posted: the device answers them. <c>Internal.Mmio</c> sends every register read of such a
/// function here, so read side effects (clear-on-read counters, self-clearing bits, enable bits that latch) behave as
/// the hardware's do. As on PCIe, a read must not pass earlier posted writes: the emulator takes in every write the
/// driver made before answering.</item>
/// </list>
/// Real devices (<see cref="VfioPciFunction"/>) do not implement this; their reads are plain loads from the BAR.
/// </summary>
public interface IEmulatedPciFunction : IPciFunction
{
    /// <summary>Answers a 32-bit read of BAR <paramref name="bar"/> at byte offset <paramref name="offset"/>.</summary>
    uint ReadBar32(int bar, long offset);
}
