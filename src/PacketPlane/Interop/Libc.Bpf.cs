using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// The bpf(2) system call and the parts of <c>union bpf_attr</c> PacketPlane uses, from &lt;linux/bpf.h&gt;.
/// glibc has no wrapper, so it goes through syscall(2). Each attribute struct mirrors one anonymous member of the
/// union at the kernel's offsets (checked with offsetof against the Debian 12 headers); the kernel zero-fills
/// whatever lies past the size passed, so only the prefix a command needs is sent.
/// </summary>
internal static unsafe partial class Libc
{
    // <asm/unistd_64.h> (x86-64) and <asm-generic/unistd.h> (arm64).
    private const long SYS_bpf_x86_64 = 321;
    private const long SYS_bpf_arm64 = 280;

    // enum bpf_cmd
    public const int BPF_MAP_CREATE = 0;
    public const int BPF_MAP_LOOKUP_ELEM = 1;
    public const int BPF_MAP_UPDATE_ELEM = 2;
    public const int BPF_MAP_DELETE_ELEM = 3;
    public const int BPF_PROG_LOAD = 5;
    public const int BPF_PROG_GET_FD_BY_ID = 13;
    public const int BPF_OBJ_GET_INFO_BY_FD = 15;
    public const int BPF_LINK_CREATE = 28;

    // enum bpf_map_type
    public const uint BPF_MAP_TYPE_XSKMAP = 17;

    // enum bpf_prog_type
    public const uint BPF_PROG_TYPE_XDP = 6;

    // enum bpf_attach_type
    public const uint BPF_XDP = 37;

    // BPF_MAP_UPDATE_ELEM flags
    public const ulong BPF_ANY = 0;

    // ld_imm64 src_reg value meaning "imm is a map file descriptor".
    public const byte BPF_PSEUDO_MAP_FD = 1;

    public const int BPF_OBJ_NAME_LEN = 16;

    // enum xdp_action
    public const int XDP_PASS = 2;

    // enum bpf_func_id
    public const int BPF_FUNC_redirect_map = 51;

    /// <summary>struct bpf_insn: opcode, dst_reg:4 | src_reg:4, off, imm. 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct bpf_insn
    {
        public byte code;
        public byte regs;
        public short off;
        public int imm;

        public readonly int DstReg => regs & 0xF;
        public readonly int SrcReg => regs >> 4;
    }

    /// <summary>bpf_attr for BPF_MAP_CREATE (map_type .. map_name), 44 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct bpf_attr_map_create
    {
        public uint map_type;
        public uint key_size;
        public uint value_size;
        public uint max_entries;
        public uint map_flags;
        public uint inner_map_fd;
        public uint numa_node;
        public fixed byte map_name[BPF_OBJ_NAME_LEN];
    }

    /// <summary>bpf_attr for BPF_MAP_*_ELEM, 32 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    public struct bpf_attr_map_elem
    {
        [FieldOffset(0)] public uint map_fd;
        [FieldOffset(8)] public ulong key;
        [FieldOffset(16)] public ulong value;
        [FieldOffset(24)] public ulong flags;
    }

    /// <summary>bpf_attr for BPF_PROG_LOAD (prog_type .. expected_attach_type), 72 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    public struct bpf_attr_prog_load
    {
        [FieldOffset(0)] public uint prog_type;
        [FieldOffset(4)] public uint insn_cnt;
        [FieldOffset(8)] public ulong insns;
        [FieldOffset(16)] public ulong license;
        [FieldOffset(24)] public uint log_level;
        [FieldOffset(28)] public uint log_size;
        [FieldOffset(32)] public ulong log_buf;
        [FieldOffset(40)] public uint kern_version;
        [FieldOffset(44)] public uint prog_flags;
        [FieldOffset(48)] public fixed byte prog_name[BPF_OBJ_NAME_LEN];
        [FieldOffset(64)] public uint prog_ifindex;
        [FieldOffset(68)] public uint expected_attach_type;
    }

    /// <summary>bpf_attr for BPF_LINK_CREATE (prog_fd, target_ifindex, attach_type, flags), 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct bpf_attr_link_create
    {
        public uint prog_fd;
        public uint target_ifindex;
        public uint attach_type;
        public uint flags;
    }

    /// <summary>bpf_attr for BPF_OBJ_GET_INFO_BY_FD, 16 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16)]
    public struct bpf_attr_info
    {
        [FieldOffset(0)] public uint bpf_fd;
        [FieldOffset(4)] public uint info_len;
        [FieldOffset(8)] public ulong info;
    }

    /// <summary>bpf_attr for BPF_PROG_GET_FD_BY_ID (prog_id first), 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct bpf_attr_get_id
    {
        public uint id;
        public uint next_id;
        public uint open_flags;
    }

    /// <summary>The head of struct bpf_prog_info (type, id, tag, ..., name at 64): the 80 bytes we read.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 80)]
    public struct bpf_prog_info_head
    {
        [FieldOffset(0)] public uint type;
        [FieldOffset(4)] public uint id;
        [FieldOffset(64)] public fixed byte name[BPF_OBJ_NAME_LEN];
    }

    /// <summary>bpf(cmd, attr, size); returns a file descriptor or 0 on success, -1 with errno set on failure.</summary>
    public static int bpf(int cmd, void* attr, uint size)
    {
        long nr = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? SYS_bpf_arm64 : SYS_bpf_x86_64;
        return (int)syscall(nr, cmd, (nint)attr, (nint)size, 0, 0, 0);
    }
}
