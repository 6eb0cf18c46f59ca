using System;
using System.Collections.Generic;
using PacketPlane.Drivers.AfXdp;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>The xdp_prog ELF reader: the supported subset loads, everything else is refused by name.</summary>
public class BpfElfObjectTests
{
    private static BpfObjectBuilder Redirect(string mapSection = ".maps") => new BpfObjectBuilder()
        .Data(mapSection, "xsks_map", new byte[32])
        .Program("xdp", BpfObjectBuilder.RedirectCode, (1, "xsks_map", BpfObjectBuilder.R_BPF_64_64));

    private static string Refusal(BpfObjectBuilder b) =>
        Assert.Throws<PacketPlaneException>(() => BpfElfObject.Parse(b.Build(), "p.o")).Message;

    [Fact]
    public void Redirect_program_with_btf_style_xsks_map_loads_and_patches_the_map_fd()
    {
        BpfElfObject obj = BpfElfObject.Parse(Redirect().Build(), "p.o");
        Assert.Equal("xdp", obj.SectionName);
        Assert.Equal("GPL", obj.License);
        Assert.Equal(6, obj.Instructions.Length);
        BpfMapReference map = Assert.Single(obj.Maps);
        Assert.True(map.IsXskMap);
        Assert.Equal(1, map.InstructionIndex);
        Assert.True(obj.UsesXskMap);

        var patched = obj.Patched(new Dictionary<string, int> { ["xsks_map"] = 42 });
        Assert.Equal(0x18, patched[1].code);
        Assert.Equal(1, patched[1].SrcReg); // BPF_PSEUDO_MAP_FD
        Assert.Equal(1, patched[1].DstReg); // r1 kept
        Assert.Equal(42, patched[1].imm);
        Assert.Equal(0, obj.Instructions[1].SrcReg); // the parsed copy is untouched
        Assert.Equal(XskRedirectProgram.Encode(XskRedirectProgram.Build(42)), XskRedirectProgram.Encode(patched));
    }

    [Fact]
    public void Legacy_maps_section_definitions_are_read()
    {
        var b = new BpfObjectBuilder()
            .Data("maps", "xsks_map", BpfObjectBuilder.MapDef(17, 4, 4, 64))
            .Data("maps", "counters", BpfObjectBuilder.MapDef(2, 4, 8, 16, 0))
            .Program("xdp/count", [0x0000000000000118UL, 0, 0x0000000000000118UL, 0, 0x0000000000000095UL],
                (0, "counters", BpfObjectBuilder.R_BPF_64_64), (2, "xsks_map", BpfObjectBuilder.R_BPF_64_64));
        BpfElfObject obj = BpfElfObject.Parse(b.Build(), "p.o");
        Assert.Equal("xdp/count", obj.SectionName);
        Assert.Equal(2, obj.Maps.Count);
        Assert.Equal("counters", obj.Maps[0].Symbol);
        Assert.False(obj.Maps[0].IsXskMap);
        Assert.Equal((2u, 4u, 8u, 16u, 0u), obj.Maps[0].Definition);
        Assert.True(obj.Maps[1].IsXskMap);
    }

    [Fact]
    public void Not_elf_wrong_machine_and_big_endian_are_refused_with_the_build_command()
    {
        Assert.Contains("not an ELF file", Assert.Throws<PacketPlaneException>(() => BpfElfObject.Parse("hello"u8, "p.o")).Message);
        Assert.Contains("not BPF", Refusal(new BpfObjectBuilder { Machine = 62 }.Program("xdp", BpfObjectBuilder.RedirectCode)));
        byte[] be = Redirect().Build();
        be[5] = 2;
        string m = Assert.Throws<PacketPlaneException>(() => BpfElfObject.Parse(be, "p.o")).Message;
        Assert.Contains("big-endian", m);
        Assert.StartsWith("xdp_prog=p.o: ", m);
    }

    [Fact]
    public void Global_data_is_refused()
    {
        var b = new BpfObjectBuilder()
            .Data(".rodata", "greeting", new byte[8])
            .Program("xdp", [0x0000000000000118UL, 0, 0x0000000000000095UL], (0, "greeting", BpfObjectBuilder.R_BPF_64_64));
        Assert.Contains("global data in section '.rodata'", Refusal(b));
    }

    [Fact]
    public void Calls_to_subprograms_are_refused()
    {
        var b = new BpfObjectBuilder().Program("xdp", [0x0000000000001085UL, 0x0000000000000095UL], (0, "helper", BpfObjectBuilder.R_BPF_64_32));
        Assert.Contains("BPF-to-BPF call", Refusal(b));
    }

    [Fact]
    public void Btf_maps_other_than_xsks_map_are_refused_naming_what_is_supported()
    {
        var b = new BpfObjectBuilder()
            .Data(".maps", "stats", new byte[32])
            .Program("xdp", [0x0000000000000118UL, 0, 0x0000000000000095UL], (0, "stats", BpfObjectBuilder.R_BPF_64_64));
        string m = Refusal(b);
        Assert.Contains("'stats' in section '.maps'", m);
        Assert.Contains("xsks_map", m);
    }

    [Fact]
    public void Several_programs_or_none_are_refused()
    {
        var two = new BpfObjectBuilder().Program("xdp/a", [0x95UL]).Program("xdp/b", [0x95UL]);
        Assert.Contains("2 programs (xdp/a, xdp/b)", Refusal(two));
        Assert.Contains("no executable section", Refusal(new BpfObjectBuilder()));
        Assert.Contains("multi-buffer", Refusal(new BpfObjectBuilder().Program("xdp.frags", [0x95UL])));
    }

    [Fact]
    public void Every_truncation_is_refused_with_a_PacketPlaneException()
    {
        byte[] full = Redirect().Build();
        for (int len = 0; len < full.Length; len++)
        {
            byte[] cut = full.AsSpan(0, len).ToArray();
            try
            {
                BpfElfObject.Parse(cut, "cut.o");
            }
            catch (PacketPlaneException e)
            {
                Assert.StartsWith("xdp_prog=cut.o: ", e.Message);
            }
        }
    }

    [Fact]
    public void Random_corruption_never_escapes_as_another_exception_type()
    {
        byte[] full = Redirect().Build();
        var rng = new Random(1234);
        for (int round = 0; round < 20_000; round++)
        {
            byte[] bad = (byte[])full.Clone();
            int flips = rng.Next(1, 6);
            for (int f = 0; f < flips; f++)
                bad[rng.Next(bad.Length)] = (byte)rng.Next(256);
            try
            {
                BpfElfObject.Parse(bad, "bad.o");
            }
            catch (PacketPlaneException)
            {
            }
        }
    }
}
