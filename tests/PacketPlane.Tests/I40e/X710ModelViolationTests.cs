using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Bus.Pci;
using PacketPlane.DeviceModels.I40e;
using PacketPlane.Tests.Pci;
using Xunit;

namespace PacketPlane.Tests.I40e;

/// <summary>The X710 model fails the test on violations of the admin queue, HMC and queue rules it can see.</summary>
[Collection(NicModelCollection.Name)]
public class X710ModelViolationTests
{
    private const int ATQBAL = 0x80000, ATQBAH = 0x80100, ATQLEN = 0x80200, ATQT = 0x80400;
    private const int GLNVM_ULD = 0xB6008;
    private const uint ENABLE = 0x80000000u;

    private sealed class RogueDriver : IDisposable
    {
        private static int s_bus = 0xc0;
        public readonly X710Model Model;
        public readonly nint Bar;
        public readonly MemoryRegion Memory;

        public RogueDriver()
        {
            Model = new X710Model(new PciAddress(0, (byte)Interlocked.Increment(ref s_bus), 0, 0));
            Bar = Model.Function.MapBar(0).Address;
            Model.Function.EnableBusMaster();
            Memory = MemoryRegion.Create("rogue710", 1 << 20, new MemoryRegionOptions { Pages = PagePolicy.SmallPages });
            Model.Function.MapDma(Memory);
        }

        public void Write(int reg, uint value) => Marshal.WriteInt32(Bar, reg, (int)value);

        public uint Read(int reg) => Model.Function.ReadBar32(0, reg);

        public ulong Iova(int offset) => (ulong)(Memory.BaseAddress + offset);

        /// <summary>An enabled 32-entry admin send queue at offset 0 of the memory, buffers from offset 64 KiB.</summary>
        public void EnableAdminQueue()
        {
            Write(ATQBAL, (uint)Iova(0));
            Write(ATQBAH, (uint)(Iova(0) >> 32));
            Write(ATQLEN, 32 | ENABLE);
            Read(ATQLEN);
        }

        /// <summary>Puts a command in send-queue slot <paramref name="slot"/> and rings the doorbell.</summary>
        public void Command(int slot, ushort flags, ushort opcode, ushort dataLength = 0, int bufferOffset = 0, ulong params0 = 0)
        {
            nint d = Memory.BaseAddress + slot * 32;
            Marshal.WriteInt16(d, (short)flags);
            Marshal.WriteInt16(d, 2, (short)opcode);
            Marshal.WriteInt16(d, 4, (short)dataLength);
            Marshal.WriteInt64(d, 16, (long)params0);
            if (dataLength > 0)
            {
                ulong b = Iova(bufferOffset);
                Marshal.WriteInt32(d, 24, (int)(b >> 32));
                Marshal.WriteInt32(d, 28, (int)b);
            }
            Write(ATQT, (uint)(slot + 1));
        }

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

        public void Dispose()
        {
            Model.Dispose();
            Memory.Dispose();
        }
    }

    [Fact]
    public void Admin_queue_used_before_it_is_enabled()
    {
        using var d = new RogueDriver();
        d.Write(ATQT, 3);
        Assert.Contains("PF_ATQT bumped to 3 while the admin send queue is disabled: the queue is used before it is enabled",
            d.WaitForViolation("PF_ATQT"));
    }

    [Fact]
    public void Indirect_command_without_a_buffer()
    {
        using var d = new RogueDriver();
        d.EnableAdminQueue();
        d.Command(0, flags: 0, opcode: 0x000A); // discover capabilities needs a buffer
        Assert.Contains("admin command 0x000a is indirect: it needs a buffer", d.WaitForViolation("needs a buffer"));
    }

    [Fact]
    public void Data_sent_to_the_firmware_without_the_RD_flag()
    {
        using var d = new RogueDriver();
        d.EnableAdminQueue();
        d.Command(0, flags: 0x1000, opcode: 0x0211, dataLength: 128, bufferOffset: 65536, params0: X710Model.VsiSeid); // BUF but no RD
        Assert.Contains("admin command 0x0211 sends data to the firmware but its descriptor lacks the RD flag", d.WaitForViolation("RD flag"));
    }

    [Fact]
    public void Command_the_model_does_not_implement()
    {
        using var d = new RogueDriver();
        d.EnableAdminQueue();
        d.Command(0, flags: 0, opcode: 0x0A05); // LLDP stop
        Assert.Contains("admin command 0x0a05 is not one the model implements", d.WaitForViolation("0x0a05"));
    }

    [Fact]
    public void Queue_enabled_without_an_hmc_segment()
    {
        using var d = new RogueDriver();
        d.Write(0xC6300, 64);                // GLHMC_LANTXCNT: contexts exist, but no segment descriptor was written
        d.Read(0xC6300);                     // a read is non-posted: the model has seen the count before the enable
        d.Write(0x100000, 1);                // QTX_ENA[0].QENA_REQ
        d.Read(0x100000);
        Assert.Contains("TX queue 0 context: HMC segment descriptor 0 is not valid", d.WaitForViolation("segment descriptor"));
    }

    [Fact]
    public void Transmit_tail_bumped_while_the_queue_is_off()
    {
        using var d = new RogueDriver();
        d.Write(0x108000, 9);                // QTX_TAIL[0]
        Assert.Contains("QTX_TAIL[0] bumped to 9 while TX queue 0 is not enabled: the queue is used before it is enabled",
            d.WaitForViolation("QTX_TAIL[0]"));
    }

    [Fact]
    public void Write_to_a_read_only_register()
    {
        using var d = new RogueDriver();
        d.Write(GLNVM_ULD, 0x1);
        Assert.Contains("write of 0x00000001 to read-only register GLNVM_ULD", d.WaitForViolation("GLNVM_ULD"));
    }
}
