using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.Common;
using PacketPlane.DeviceModels.Ixgbe;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.Ixgbe;

/// <summary>
/// The 82599 model fails the test on datasheet violations it can see. Each test plays a deliberately wrong driver
/// (register writes straight into the BAR, as a buggy driver would make them) and checks the model names the
/// mistake and the section.
/// </summary>
[Collection(NicModelCollection.Name)]
public class IxgbeModelViolationTests
{
    private const int CTRL = 0x0, STATUS = 0x8, EIMC = 0x888, DMATXCTL = 0x4A80, RXCTRL = 0x3000, FCTRL = 0x5080;
    private static int RDBAL(int q) => 0x1000 + 0x40 * q;
    private static int RDLEN(int q) => 0x1008 + 0x40 * q;
    private static int RDT(int q) => 0x1018 + 0x40 * q;
    private static int RXDCTL(int q) => 0x1028 + 0x40 * q;
    private static int SRRCTL(int q) => 0x2100 + 4 * q;
    private static int TDBAL(int q) => 0x6000 + 0x40 * q;
    private static int TDLEN(int q) => 0x6008 + 0x40 * q;
    private static int TDT(int q) => 0x6018 + 0x40 * q;
    private static int TXDCTL(int q) => 0x6028 + 0x40 * q;
    private const uint ENABLE = 1u << 25;

    private sealed class RogueDriver : IDisposable
    {
        private static int s_bus = 0xa0;
        public readonly Ixgbe82599Model Model;
        public readonly nint Bar;
        public readonly MemoryRegion Memory;

        public RogueDriver(IEthernetWire? wire = null, bool mapMemory = true)
        {
            Model = new Ixgbe82599Model(new PciAddress(0, (byte)Interlocked.Increment(ref s_bus), 0, 0), wire);
            Bar = Model.Function.MapBar(0).Address;
            Model.Function.EnableBusMaster();
            Memory = MemoryRegion.Create("rogue", 1 << 20, new MemoryRegionOptions { Pages = PagePolicy.SmallPages });
            if (mapMemory)
                Model.Function.MapDma(Memory);
        }

        public void WaitUntil(Func<bool> condition)
        {
            var sw = Stopwatch.StartNew();
            while (!condition() && sw.Elapsed < TimeSpan.FromSeconds(5))
                Thread.Sleep(1);
        }

        public void Write(int reg, uint value) => Marshal.WriteInt32(Bar, reg, (int)value);

        public uint Read(int reg) => Model.Function.ReadBar32(0, reg);

        public ulong Iova(long offset) => (ulong)(Memory.BaseAddress + (nint)offset);

        public string WaitForViolation(string contains)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                string? v = Model.Violations.FirstOrDefault(x => x.Contains(contains, StringComparison.Ordinal));
                if (v is not null)
                    return v;
                Thread.Sleep(1);
            }
            throw new Xunit.Sdk.XunitException($"no violation containing '{contains}'; seen: {string.Join(" | ", Model.Violations)}");
        }

        /// <summary>A correctly set up RX ring of 64 descriptors at offset 0 of the memory (descriptors left as they are).</summary>
        public void ProgramRxRing(int q)
        {
            Write(SRRCTL(q), 0x02000000 | 2); // advanced one-buffer, 2 KB
            Write(RDBAL(q), (uint)Iova(0));
            Write(RDBAL(q) + 4, (uint)(Iova(0) >> 32));
            Write(RDLEN(q), 64 * 16);
        }

        public void Dispose()
        {
            Model.Dispose();
            Memory.Dispose();
        }
    }

    [Fact]
    public void Reset_before_masking_interrupts()
    {
        using var d = new RogueDriver();
        d.Write(CTRL, 1u << 26);
        d.Read(CTRL);
        string v = d.WaitForViolation("CTRL.RST");
        Assert.Contains("[82599 datasheet 4.6.3.1] global reset (CTRL.RST) issued before all interrupts were masked through EIMC", v);
    }

    [Fact]
    public void Tail_written_before_the_enable_bit_was_read_back()
    {
        using var d = new RogueDriver();
        d.Write(EIMC, 0xFFFFFFFF);
        d.ProgramRxRing(0);
        d.Write(RXDCTL(0), ENABLE);
        // Give the model's poll time to take the enable in (a posted write), but never read RXDCTL back.
        d.WaitUntil(() => d.Model.RxQueueEnabled(0));
        d.Write(RDT(0), 63);
        string v = d.WaitForViolation("RDT[0]");
        Assert.Contains("[82599 datasheet 4.6.7] RDT[0] written before RXDCTL[0].ENABLE was read back as 1", v);
    }

    [Fact]
    public void Transmit_queue_used_before_it_is_enabled()
    {
        using var d = new RogueDriver();
        d.Write(TDBAL(0), (uint)d.Iova(0));
        d.Write(TDBAL(0) + 4, (uint)(d.Iova(0) >> 32));
        d.Write(TDLEN(0), 64 * 16);
        d.Write(TDT(0), 5);
        string v = d.WaitForViolation("TDT[0]");
        Assert.Contains("[82599 datasheet 4.6.8] TDT[0] bumped to 5 while TX queue 0 is disabled: the queue is used before it is enabled", v);
    }

    [Fact]
    public void Transmit_queue_enabled_before_transmit_dma()
    {
        using var d = new RogueDriver();
        d.Write(TDBAL(0), (uint)d.Iova(0));
        d.Write(TDBAL(0) + 4, (uint)(d.Iova(0) >> 32));
        d.Write(TDLEN(0), 64 * 16);
        d.Write(TXDCTL(0), ENABLE);
        d.Read(TXDCTL(0));
        Assert.Contains("TX queue 0 enabled while DMATXCTL.TE is clear", d.WaitForViolation("DMATXCTL.TE"));
    }

    [Fact]
    public void Write_to_a_read_only_register()
    {
        using var d = new RogueDriver();
        d.Write(STATUS, 0x1234);
        Assert.Contains("[82599 datasheet 8.2.3] write of 0x00001234 to read-only register STATUS (0x00008)", d.WaitForViolation("STATUS"));
    }

    [Fact]
    public void Write_to_a_clear_on_read_counter()
    {
        using var d = new RogueDriver();
        d.Write(0x04074, 7); // GPRC
        Assert.Contains("write of 0x00000007 to read-only register GPRC", d.WaitForViolation("GPRC"));
    }

    [Fact]
    public void Receive_descriptor_without_a_buffer_address()
    {
        var wire = new QueueWire();
        using var d = new RogueDriver(wire);
        d.ProgramRxRing(0); // descriptors are all zero: no buffer addresses
        d.Write(FCTRL, 1u << 9);
        d.Write(RXDCTL(0), ENABLE);
        while ((d.Read(RXDCTL(0)) & ENABLE) == 0)
        {
        }
        d.Write(RDT(0), 63);
        d.Write(RXCTRL, 1);
        d.Write(0x042A0, 0x1u << 13 | 1); // AUTOC: force the link up
        wire.Inbound.Enqueue(ModelFrames.Ipv4Flow(1));
        Assert.Contains("[82599 datasheet 7.1.6.1] RX queue 0 descriptor 0 has no buffer address (packet buffer address 0)",
            d.WaitForViolation("no buffer address"));
    }

    [Fact]
    public void Ring_outside_every_dma_mapped_region()
    {
        using var d = new RogueDriver(mapMemory: false);
        d.ProgramRxRing(0);
        d.Write(RXDCTL(0), ENABLE);
        d.Read(RXDCTL(0));
        Assert.Contains("RX queue 0 ring: DMA to 0x", d.WaitForViolation("outside every region the driver DMA-mapped"));
    }

    [Fact]
    public void Ring_length_not_a_multiple_of_128_bytes()
    {
        using var d = new RogueDriver();
        d.ProgramRxRing(0);
        d.Write(RDLEN(0), 100 * 16);
        d.Write(RXDCTL(0), ENABLE);
        d.Read(RXDCTL(0));
        Assert.Contains("[82599 datasheet 7.1.9] queue 0 enabled with RDLEN = 1600; the ring length must be a non-zero multiple of 128 bytes",
            d.WaitForViolation("RDLEN"));
    }

    [Fact]
    public void Write_to_a_register_the_model_does_not_implement()
    {
        using var d = new RogueDriver();
        d.Write(0x0F00C, 0xABCD); // nothing the driver uses lives here
        Assert.Contains("write of 0x0000abcd to BAR0 offset 0x0f00c, a register the model does not implement", d.WaitForViolation("0x0f00c"));
    }

    [Fact]
    public void Read_of_a_register_the_model_does_not_implement()
    {
        using var d = new RogueDriver();
        Assert.Equal(0xFFFFFFFFu, d.Read(0x0F010));
        Assert.Contains("read of BAR0 offset 0x0f010, a register the model does not implement", d.WaitForViolation("0x0f010"));
    }

    [Fact]
    public void Ring_register_changed_under_a_running_queue()
    {
        using var d = new RogueDriver();
        d.ProgramRxRing(0);
        d.Write(RXDCTL(0), ENABLE);
        d.Read(RXDCTL(0));
        d.Read(RXDCTL(0));
        d.Write(RDLEN(0), 128 * 16);
        Assert.Contains("RDLEN[0] written while queue 0 is enabled", d.WaitForViolation("RDLEN[0]"));
    }
}
