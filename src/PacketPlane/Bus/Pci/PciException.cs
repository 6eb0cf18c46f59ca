namespace PacketPlane.Bus.Pci;

/// <summary>
/// A PCI device could not be found, opened through VFIO, mapped or given DMA access. The message names the device,
/// what the kernel reported, and the commands that fix it (binding to vfio-pci, loading the module, kernel options).
/// </summary>
public sealed class PciException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public PciException(string message) : base(message) { }
}
