using System;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// The XDP program the driver loads when no <c>xdp_prog</c> is given: <c>native/xsk_redirect.c</c>, i.e.
/// <c>return bpf_redirect_map(&amp;xsks_map, ctx-&gt;rx_queue_index, XDP_PASS);</c>. Frames on a queue with a socket
/// in the XSKMAP go to that socket; frames on any other queue go on to the kernel stack (the XDP_PASS fallback in
/// the flags argument, Linux 5.3+). The instructions below are what <c>clang -O2 -target bpf -c</c> emits for that
/// source (5 instructions in 6 slots); a test recompiles it and compares, ignoring the map relocation.
/// </summary>
internal static class XskRedirectProgram
{
    /// <summary>Program name given to the kernel (shown by bpftool and in error messages).</summary>
    public const string Name = "xsk_redirect";

    /// <summary>License string from the C source's "license" section.</summary>
    public const string License = "Dual MIT/GPL";

    /// <summary>Name of the XSKMAP the program indexes by RX queue (libbpf and DPDK use the same name).</summary>
    public const string MapName = "xsks_map";

    /// <summary>Index of the ld_imm64 instruction that loads the map (patched with the map fd at load).</summary>
    public const int MapLoadIndex = 1;

    // Opcodes (<linux/bpf_common.h>, <linux/bpf.h>): class | size | mode, class | op | source.
    private const byte BPF_LDX_MEM_W = 0x61;   // BPF_LDX | BPF_W | BPF_MEM
    private const byte BPF_LD_IMM_DW = 0x18;   // BPF_LD | BPF_DW | BPF_IMM (two slots)
    private const byte BPF_ALU64_MOV_K = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
    private const byte BPF_JMP_CALL = 0x85;    // BPF_JMP | BPF_CALL
    private const byte BPF_JMP_EXIT = 0x95;    // BPF_JMP | BPF_EXIT

    // struct xdp_md { data, data_end, data_meta, ingress_ifindex, rx_queue_index, ... }: u32 fields.
    private const short XdpMdRxQueueIndex = 16;

    /// <summary>The program with <paramref name="xskMapFd"/> in its map load.</summary>
    public static bpf_insn[] Build(int xskMapFd) =>
    [
        Insn(BPF_LDX_MEM_W, dst: 2, src: 1, off: XdpMdRxQueueIndex, imm: 0), // r2 = ctx->rx_queue_index
        Insn(BPF_LD_IMM_DW, dst: 1, src: BPF_PSEUDO_MAP_FD, off: 0, imm: xskMapFd), // r1 = &xsks_map
        Insn(0, dst: 0, src: 0, off: 0, imm: 0), //   (upper 32 bits of the 64-bit immediate)
        Insn(BPF_ALU64_MOV_K, dst: 3, src: 0, off: 0, imm: XDP_PASS), // r3 = XDP_PASS (fallback action)
        Insn(BPF_JMP_CALL, dst: 0, src: 0, off: 0, imm: BPF_FUNC_redirect_map), // r0 = bpf_redirect_map(r1, r2, r3)
        Insn(BPF_JMP_EXIT, dst: 0, src: 0, off: 0, imm: 0), // return r0
    ];

    private static bpf_insn Insn(byte code, int dst, int src, short off, int imm) =>
        new() { code = code, regs = (byte)((src << 4) | (dst & 0xF)), off = off, imm = imm };

    /// <summary>The instructions as the 8-byte little-endian words the ELF object holds.</summary>
    public static ulong[] Encode(ReadOnlySpan<bpf_insn> instructions)
    {
        var words = new ulong[instructions.Length];
        for (int i = 0; i < words.Length; i++)
        {
            bpf_insn x = instructions[i];
            words[i] = x.code | ((ulong)x.regs << 8) | ((ulong)(ushort)x.off << 16) | ((ulong)(uint)x.imm << 32);
        }
        return words;
    }
}
