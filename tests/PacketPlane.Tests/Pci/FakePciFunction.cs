using System;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Tests.Pci;

/// <summary>A PCI function that only has ids: for testing driver selection before anything is mapped.</summary>
internal sealed class FakePciFunction(PciAddress address, ushort vendor, ushort device) : IPciFunction
{
    public PciAddress Address => address;
    public ushort VendorId => vendor;
    public ushort DeviceId => device;
    public int NumaNode => -1;
    public bool Disposed { get; private set; }
    public int ReadConfig(int offset, Span<byte> buffer) => throw new NotSupportedException();
    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => throw new NotSupportedException();
    public (nint Address, long Length) MapBar(int bar) => throw new NotSupportedException();
    public void EnableBusMaster() => throw new NotSupportedException();
    public void MapDma(MemoryRegion region) => throw new NotSupportedException();
    public void Dispose() => Disposed = true;
}
