using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using PacketPlane.Drivers.AfXdp;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using static PacketPlane.Interop.Libc;
using static PacketPlane.IntegrationTests.AfXdp.AfXdpTestSupport;

namespace PacketPlane.IntegrationTests.AfXdp;

/// <summary>
/// The XDP program's C source, the embedded instructions and the xdp_prog ELF loader checked against each other
/// with real clang output, plus programs outside the supported subset and ones the verifier rejects.
/// </summary>
[Collection(AfXdpCollection.Name)]
public class XskRedirectProgramTests
{
    [SkippableFact]
    [Trait("Requires", "clang")]
    public void Embedded_instructions_match_clang_output_for_native_xsk_redirect_c()
    {
        Prerequisites.Require(Requirement.Clang);
        string source = File.ReadAllText(RepositoryFile("native/xsk_redirect.c"));
        string obj = CompileBpf(source, "xsk_redirect");
        BpfElfObject compiled = BpfElfObject.Load(obj);

        BpfMapReference map = Assert.Single(compiled.Maps);
        Assert.True(map.IsXskMap);
        Assert.Equal(XskRedirectProgram.MapLoadIndex, map.InstructionIndex);
        Assert.Equal(XskRedirectProgram.License, compiled.License);
        Assert.Equal("xdp", compiled.SectionName);

        // Equal except for the map relocation: src_reg and immediate of the ld_imm64 (both slots' imm).
        ulong[] fromClang = XskRedirectProgram.Encode(WithoutMapFd(compiled.Instructions, map.InstructionIndex));
        ulong[] embedded = XskRedirectProgram.Encode(WithoutMapFd(XskRedirectProgram.Build(1234), XskRedirectProgram.MapLoadIndex));
        Assert.Equal(fromClang, embedded);
    }

    private static bpf_insn[] WithoutMapFd(bpf_insn[] insns, int load)
    {
        bpf_insn[] copy = (bpf_insn[])insns.Clone();
        copy[load].regs = (byte)(copy[load].regs & 0x0F);
        copy[load].imm = 0;
        copy[load + 1].imm = 0;
        return copy;
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "clang")]
    public void The_compiled_native_program_loads_through_xdp_prog_and_delivers_frames()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Clang);
        string obj = CompileBpf(File.ReadAllText(RepositoryFile("native/xsk_redirect.c")), "xsk_redirect_file");
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_prog_native", 4096, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface},xdp_prog={obj}", pool);
        try
        {
            Assert.Contains("name xsk_redirect_fi", Shell.Run($"ip -d link show dev {veth.HostInterface}"));
            SendFromPeer(veth, 30, 100, seed: 9);
            Assert.Equal(30, Receive(port, 0, 30, TimeSpan.FromSeconds(10)).Count);
        }
        finally
        {
            port.Close();
        }
        AssertNoProgram(veth.HostInterface);
        Assert.Equal(0, pool.InUse);
    }

    private const string Prelude = """
        typedef unsigned int __u32; typedef unsigned short __u16; typedef unsigned long long __u64;
        struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
        struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
        #define SEC(n) __attribute__((section(n), used))
        static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;
        static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
        struct bpf_map_def SEC("maps") xsks_map = { .type = 17, .key_size = 4, .value_size = 4, .max_entries = 64 };
        char _license[] SEC("license") = "GPL";
        """;

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "clang")]
    public void A_user_program_with_a_legacy_map_filters_frames_before_the_sockets()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Clang);
        // Drops EtherType 0x88b5 frames whose sequence number is odd, counting them in an array map; redirects the rest.
        string obj = CompileBpf(Prelude + """
            struct bpf_map_def SEC("maps") drops = { .type = 2, .key_size = 4, .value_size = 8, .max_entries = 1 };
            SEC("xdp") int odd_filter(struct xdp_md *ctx) {
                unsigned char *data = (unsigned char *)(long)ctx->data, *end = (unsigned char *)(long)ctx->data_end;
                if (data + 18 > end) return 2;
                if (data[12] == 0x88 && data[13] == 0xb5 && (data[17] & 1)) {
                    __u32 key = 0; __u64 *n = bpf_map_lookup_elem(&drops, &key);
                    if (n) __sync_fetch_and_add(n, 1);
                    return 1; /* XDP_DROP */
                }
                return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, 2);
            }
            """, "odd_filter");
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_prog_filter", 4096, cacheSize: 0);
        EthDev port = Open($"iface={veth.HostInterface},xdp_prog={obj}", pool);
        try
        {
            SendFromPeer(veth, 40, 64, seed: 3);
            List<byte[]> frames = Receive(port, 0, 40, TimeSpan.FromSeconds(4));
            Assert.Equal(20, frames.Count);
            Assert.All(frames, f => Assert.Equal(0, TestFrames.SequenceOf(f) % 2));
        }
        finally
        {
            port.Close();
        }
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableTheory]
    [Trait("Requires", "clang")]
    [InlineData("global", "int hits; SEC(\"xdp\") int p(struct xdp_md *c) { hits++; return bpf_redirect_map(&xsks_map, c->rx_queue_index, 2); }", "global data in section '.bss'")]
    [InlineData("subprog", "__attribute__((noinline)) int pick(struct xdp_md *c) { return c->rx_queue_index; } SEC(\"xdp\") int p(struct xdp_md *c) { return bpf_redirect_map(&xsks_map, pick(c), 2); }", "calls to other functions")]
    [InlineData("two", "SEC(\"xdp/a\") int a(struct xdp_md *c) { return bpf_redirect_map(&xsks_map, 0, 2); } SEC(\"xdp/b\") int b(struct xdp_md *c) { return 2; }", "2 programs (xdp/a, xdp/b)")]
    public void Programs_outside_the_supported_subset_are_refused_by_name(string name, string body, string expected)
    {
        Prerequisites.Require(Requirement.Clang);
        string obj = CompileBpf(Prelude + body, "subset_" + name);
        Assert.Contains(expected, Assert.Throws<PacketPlaneException>(() => BpfElfObject.Load(obj)).Message);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "clang")]
    public void A_program_without_xsks_map_is_refused_when_the_port_is_created()
    {
        Prerequisites.Require(Requirement.Root, Requirement.Clang);
        string obj = CompileBpf(Prelude.Replace(") xsks_map =", ") other_map =", StringComparison.Ordinal) +
            "SEC(\"xdp\") int pass_all(struct xdp_md *c) { return 2; }", "no_xsks_map");
        // On lo: the device checks the program before it would touch the interface.
        string m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"{NextName()},iface=lo,xdp_prog={obj}")).Message;
        Assert.Contains("never uses a map named xsks_map", m);
        Assert.Contains("bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS)", m);
        Assert.False(XdpState("lo").HasProgram);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "clang")]
    public void A_program_the_verifier_rejects_fails_start_with_the_verifier_log()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Clang);
        // Reads packet data without checking data_end: the verifier refuses it.
        string obj = CompileBpf(Prelude + """
            SEC("xdp") int unchecked_read(struct xdp_md *ctx) {
                unsigned char *data = (unsigned char *)(long)ctx->data;
                if (data[12] == 0x88) return 1;
                return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, 2);
            }
            """, "unchecked_read");
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_prog_bad", 4096, cacheSize: 0);
        var e = Assert.Throws<EthDevException>(() => Open($"iface={veth.HostInterface},xdp_prog={obj}", pool));
        Assert.Contains("bpf(BPF_PROG_LOAD) of XDP program 'unchecked_read'", e.Message);
        Assert.Contains("verifier log:", e.Message);
        Assert.Contains("invalid access to packet", e.Message);
        Assert.Equal(0, pool.InUse);
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableTheory]
    [Trait("Requires", "root")]
    [Trait("Requires", "clang")]
    [InlineData("xdp", "xdp off", "native (driver)")]
    [InlineData("xdpgeneric", "xdpgeneric off", "generic (skb)")]
    public void A_program_attached_by_iproute2_is_refused_with_the_command_that_removes_it(string mode, string off, string modeName)
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces, Requirement.Clang);
        string obj = CompileBpf(File.ReadAllText(RepositoryFile("native/xsk_redirect.c")), "xsk_redirect_btf", "-g");
        using VethPair veth = VethPair.Create();
        Shell.Run($"ip link set dev {veth.HostInterface} {mode} obj {obj} sec xdp");
        string m = Assert.Throws<EthDevException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface}")).Message;
        Assert.Contains($"{modeName} mode", m);
        string command = $"ip link set dev {veth.HostInterface} {off}";
        Assert.Contains(command, m);
        Shell.Run(command); // the command in the message works
        AssertNoProgram(veth.HostInterface);
        using MbufPool pool = MbufPool.Create("xdp_after_ip", 4096, cacheSize: 0);
        Open($"iface={veth.HostInterface}", pool).Close();
    }
}
