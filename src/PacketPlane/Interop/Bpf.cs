using System;
using System.Text;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Interop;

/// <summary>A BPF map created with BPF_MAP_CREATE; closing its descriptor frees it once no program uses it.</summary>
internal sealed unsafe class BpfMap : IDisposable
{
    private BpfMap(int fd, string name, uint type, uint maxEntries)
    {
        Fd = fd;
        Name = name;
        Type = type;
        MaxEntries = maxEntries;
    }

    public int Fd { get; private set; }
    public string Name { get; }
    public uint Type { get; }
    public uint MaxEntries { get; }

    /// <summary>Creates a map; errors name the missing privilege or limit.</summary>
    public static BpfMap Create(string name, uint type, uint keySize, uint valueSize, uint maxEntries, uint flags = 0)
    {
        bpf_attr_map_create attr = default;
        attr.map_type = type;
        attr.key_size = keySize;
        attr.value_size = valueSize;
        attr.max_entries = maxEntries;
        attr.map_flags = flags;
        Bpf.WriteName(attr.map_name, name);
        int fd = bpf(BPF_MAP_CREATE, &attr, (uint)sizeof(bpf_attr_map_create));
        if (fd < 0)
            throw new PacketPlaneException($"bpf(BPF_MAP_CREATE) of map '{name}' (type {type}, {maxEntries} entries) failed: {Bpf.Explain(LastErrno)}");
        return new BpfMap(fd, name, type, maxEntries);
    }

    /// <summary>Sets map[key] = value (BPF_ANY). Returns 0 or the errno.</summary>
    public int Update(uint key, uint value)
    {
        bpf_attr_map_elem attr = default;
        attr.map_fd = (uint)Fd;
        attr.key = (ulong)&key;
        attr.value = (ulong)&value;
        attr.flags = BPF_ANY;
        return bpf(BPF_MAP_UPDATE_ELEM, &attr, (uint)sizeof(bpf_attr_map_elem)) == 0 ? 0 : LastErrno;
    }

    /// <summary>Removes map[key]. Returns 0 or the errno (ENOENT when it was not there).</summary>
    public int Delete(uint key)
    {
        bpf_attr_map_elem attr = default;
        attr.map_fd = (uint)Fd;
        attr.key = (ulong)&key;
        return bpf(BPF_MAP_DELETE_ELEM, &attr, (uint)sizeof(bpf_attr_map_elem)) == 0 ? 0 : LastErrno;
    }

    public void Dispose()
    {
        if (Fd >= 0)
            close(Fd);
        Fd = -1;
    }
}

/// <summary>Shared helpers: object names, errno explanations, program loading with the verifier log.</summary>
internal static unsafe class Bpf
{
    /// <summary>Verifier log buffer for a failed load: enough for any program our ELF subset accepts.</summary>
    private const int VerifierLogSize = 1 << 20;

    /// <summary>Longest verifier log tail kept in an exception message.</summary>
    private const int MaxLogInMessage = 6000;

    /// <summary>Copies an object name (at most 15 characters of [A-Za-z0-9_.]) into a bpf_attr name field.</summary>
    public static void WriteName(byte* field, string name)
    {
        int n = 0;
        foreach (char c in name)
        {
            if (n == BPF_OBJ_NAME_LEN - 1)
                break;
            if (char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.')
                field[n++] = (byte)c;
        }
    }

    /// <summary>
    /// Loads an XDP program (BPF_PROG_LOAD, expected attach type BPF_XDP). A first attempt runs without a log; if
    /// it fails the load is repeated with a verifier log buffer, and the log is part of the exception.
    /// </summary>
    public static int LoadXdpProgram(ReadOnlySpan<bpf_insn> instructions, string license, string name)
    {
        int fd = TryLoad(instructions, license, name, null, 0, out int errno);
        if (fd >= 0)
            return fd;
        byte[] log = GC.AllocateUninitializedArray<byte>(VerifierLogSize, pinned: true);
        log[0] = 0;
        fixed (byte* logPtr = log)
        {
            fd = TryLoad(instructions, license, name, logPtr, (uint)log.Length, out int errnoWithLog);
            if (fd >= 0)
                return fd;
            errno = errnoWithLog == ENOSPC ? errno : errnoWithLog;
        }
        string text = Encoding.UTF8.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0))).TrimEnd();
        if (text.Length > MaxLogInMessage)
            text = "...\n" + text[^MaxLogInMessage..];
        throw new PacketPlaneException(
            $"bpf(BPF_PROG_LOAD) of XDP program '{name}' ({instructions.Length} instructions) failed: {Explain(errno)}" +
            (text.Length > 0 ? $"\nverifier log:\n{text}" : "\n(the verifier wrote no log)"));
    }

    private static int TryLoad(ReadOnlySpan<bpf_insn> instructions, string license, string name, byte* log, uint logSize, out int errno)
    {
        byte[] licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        fixed (bpf_insn* insns = instructions)
        fixed (byte* lic = licenseBytes)
        {
            bpf_attr_prog_load attr = default;
            attr.prog_type = BPF_PROG_TYPE_XDP;
            attr.insn_cnt = (uint)instructions.Length;
            attr.insns = (ulong)insns;
            attr.license = (ulong)lic;
            attr.expected_attach_type = BPF_XDP;
            if (log != null)
            {
                attr.log_level = 1;
                attr.log_buf = (ulong)log;
                attr.log_size = logSize;
            }
            WriteName(attr.prog_name, name);
            int fd = bpf(BPF_PROG_LOAD, &attr, (uint)sizeof(bpf_attr_prog_load));
            errno = fd < 0 ? LastErrno : 0;
            return fd;
        }
    }

    /// <summary>
    /// Attaches an XDP program to an interface with a bpf_link (BPF_LINK_CREATE, attach type BPF_XDP, no mode flag:
    /// native when the driver has it, generic otherwise). Returns the link fd, or -errno.
    /// </summary>
    public static int LinkCreateXdp(int programFd, int ifindex)
    {
        bpf_attr_link_create attr = default;
        attr.prog_fd = (uint)programFd;
        attr.target_ifindex = (uint)ifindex;
        attr.attach_type = BPF_XDP;
        int fd = bpf(BPF_LINK_CREATE, &attr, (uint)sizeof(bpf_attr_link_create));
        return fd >= 0 ? fd : -LastErrno;
    }

    /// <summary>The name of an attached program, or null when it cannot be read (needs CAP_SYS_ADMIN).</summary>
    public static string? ProgramName(uint id)
    {
        bpf_attr_get_id get = default;
        get.id = id;
        int fd = bpf(BPF_PROG_GET_FD_BY_ID, &get, (uint)sizeof(bpf_attr_get_id));
        if (fd < 0)
            return null;
        try
        {
            bpf_prog_info_head info = default;
            bpf_attr_info attr = default;
            attr.bpf_fd = (uint)fd;
            attr.info_len = (uint)sizeof(bpf_prog_info_head);
            attr.info = (ulong)&info;
            if (bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, (uint)sizeof(bpf_attr_info)) != 0)
                return null;
            return Encoding.ASCII.GetString(new ReadOnlySpan<byte>(info.name, BPF_OBJ_NAME_LEN)).TrimEnd('\0');
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>An errno from bpf() with the usual cause and its fix.</summary>
    public static string Explain(int errno) => Describe(errno) + errno switch
    {
        EPERM => ". bpf() needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN before Linux 5.8): run as root, or " +
                 "grant them (setcap cap_bpf,cap_net_admin,cap_net_raw+ep on the dotnet binary; in a container --cap-add BPF " +
                 "--cap-add NET_ADMIN --cap-add NET_RAW). Kernels before 5.11 also charge BPF memory to RLIMIT_MEMLOCK: ulimit -l unlimited",
        ENOSYS => ". This kernel has no bpf() system call (CONFIG_BPF_SYSCALL is off); AF_XDP cannot work here. Use net_af_packet",
        ENOMEM => ". Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK: raise it with ulimit -l unlimited (docker: --ulimit memlock=-1)",
        _ => "",
    };
}
