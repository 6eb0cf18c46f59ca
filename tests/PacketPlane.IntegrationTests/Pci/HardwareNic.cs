using System;
using PacketPlane.Bus.Pci;
using Xunit;

namespace PacketPlane.IntegrationTests.Pci;

/// <summary>
/// Opt-in tests on real Intel NICs. No CI machine has one, and none can be installed by .ci/run, so these tests do
/// not use <see cref="Infrastructure.Prerequisites"/> (which fails under CI=true): they run only when an environment
/// variable names the device, and otherwise skip with the instruction, in CI too. Once the variable is set, a
/// missing or unusable device is a failure, not a skip.
/// </summary>
internal static class HardwareNic
{
    /// <summary>The PCI address named by <paramref name="variable"/>, or a skip that says how to run the test.</summary>
    public static PciAddress Require(string variable, string nic)
    {
        string? text = Environment.GetEnvironmentVariable(variable);
        Skip.If(string.IsNullOrWhiteSpace(text),
            $"opt-in hardware test: needs an Intel {nic} port bound to vfio-pci (dpdk-devbind.py --bind=vfio-pci ADDRESS), an IOMMU, and root; " +
            $"run with {variable}=0000:03:00.0 (the port's PCI address; the test takes it over, so never the machine's uplink)");
        if (!PciAddress.TryParse(text!.Trim(), out PciAddress address))
            throw new InvalidOperationException($"{variable}={text} is not a PCI address such as 0000:03:00.0");
        if (!Interop.Libc.IsRoot)
            throw new InvalidOperationException($"{variable} is set, so this hardware test must run as root (VFIO and DMA mapping)");
        return address;
    }
}
