using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>A map an XDP program refers to, found through its ld_imm64 relocations.</summary>
/// <param name="InstructionIndex">Index of the ld_imm64 instruction to patch with the map's fd.</param>
/// <param name="Symbol">Symbol name of the map in the object.</param>
/// <param name="IsXskMap">True for <c>xsks_map</c>: the driver supplies its own XSKMAP for it.</param>
/// <param name="Definition">For legacy <c>SEC("maps")</c> maps: type, key size, value size, entries, flags.</param>
internal sealed record BpfMapReference(int InstructionIndex, string Symbol, bool IsXskMap, (uint Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags) Definition);

/// <summary>
/// The subset of a BPF ELF object (what <c>clang -O2 -target bpf -c</c> writes) that <c>xdp_prog=FILE</c> accepts,
/// parsed without libbpf:
/// <list type="bullet">
/// <item>ELF64, little-endian, relocatable, machine EM_BPF (247);</item>
/// <item>exactly one XDP program: one executable section named <c>xdp</c> or <c>xdp/...</c>, <c>xdp_...</c>
/// (or, when none is so named, the one executable section other than .text);</item>
/// <item>map references only through R_BPF_64_64 relocations on ld_imm64 instructions, to a map named
/// <c>xsks_map</c> (in any section, legacy or BTF-defined: the driver creates the XSKMAP itself, indexed by RX
/// queue, as DPDK and libxdp expect) or to legacy maps in <c>SEC("maps")</c> declared as
/// <c>struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags; }</c>;</item>
/// <item>the license from the <c>license</c> section.</item>
/// </list>
/// Not supported, each refused with a message saying so: BTF-defined maps other than xsks_map, global data
/// (.data/.rodata/.bss), BPF-to-BPF calls, CO-RE relocations, multi-buffer (<c>xdp.frags</c>) programs, several
/// programs in one object, big-endian objects.
/// </summary>
internal sealed class BpfElfObject
{
    private const ushort EM_BPF = 247;
    private const ushort ET_REL = 1;
    private const uint SHT_PROGBITS = 1;
    private const uint SHT_SYMTAB = 2;
    private const uint SHT_RELA = 4;
    private const uint SHT_REL = 9;
    private const ulong SHF_EXECINSTR = 0x4;
    private const uint R_BPF_64_64 = 1;
    private const uint R_BPF_64_32 = 10;
    private const byte BPF_LD_IMM_DW = 0x18;
    private const byte STT_SECTION = 3;
    private const int SectionHeaderSize = 64;
    private const int SymbolSize = 24;
    private const int RelSize = 16;
    private const int InsnSize = 8;

    private BpfElfObject(string section, bpf_insn[] instructions, string license, IReadOnlyList<BpfMapReference> maps)
    {
        SectionName = section;
        Instructions = instructions;
        License = license;
        Maps = maps;
    }

    /// <summary>Section the program came from (xdp, xdp/foo, ...).</summary>
    public string SectionName { get; }

    /// <summary>The program's instructions, map loads not yet patched.</summary>
    public bpf_insn[] Instructions { get; }

    /// <summary>The license string ("" when the object has none: GPL-only helpers are then refused by the kernel).</summary>
    public string License { get; }

    /// <summary>Every map load, in instruction order.</summary>
    public IReadOnlyList<BpfMapReference> Maps { get; }

    /// <summary>True when the program refers to <c>xsks_map</c> (without it no frame can reach a socket).</summary>
    public bool UsesXskMap => Maps.Any(m => m.IsXskMap);

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    /// <exception cref="PacketPlaneException">Unreadable file, or an object outside the supported subset.</exception>
    public static BpfElfObject Load(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PacketPlaneException($"xdp_prog={path}: cannot read the file: {e.Message}");
        }
        return Parse(data, path);
    }

    /// <summary>Parses an object already in memory; <paramref name="path"/> only names it in errors.</summary>
    public static BpfElfObject Parse(ReadOnlySpan<byte> elf, string path)
    {
        var r = new Reader(elf.ToArray(), path);
        r.CheckHeader();
        Section[] sections = r.Sections();
        Section program = ChooseProgram(sections, r);
        bpf_insn[] instructions = r.Instructions(program);
        Section? symtab = sections.FirstOrDefault(s => s.Type == SHT_SYMTAB);
        Section? rel = sections.FirstOrDefault(s => s.Type == SHT_REL && s.Info == program.Index);
        if (sections.Any(s => s.Type == SHT_RELA && s.Info == program.Index))
            throw r.Error("the program section has RELA relocations; BPF objects from clang use REL. Rebuild with clang -O2 -target bpf -c");
        var maps = new List<BpfMapReference>();
        if (rel is not null)
        {
            if (symtab is null)
                throw r.Error("relocations without a symbol table");
            foreach ((ulong offset, uint symbol, uint type) in r.Relocations(rel))
                maps.Add(ResolveMapLoad(r, sections, symtab, program, instructions, offset, symbol, type));
        }
        Section? license = sections.FirstOrDefault(s => s.Name == "license");
        string licenseText = license is null ? "" : r.CString(license.Offset, (int)license.Size);
        return new BpfElfObject(program.Name, instructions, licenseText, maps);
    }

    /// <summary>The instructions with every map load pointing at the given map fds (by symbol name).</summary>
    public bpf_insn[] Patched(IReadOnlyDictionary<string, int> mapFds)
    {
        bpf_insn[] insns = (bpf_insn[])Instructions.Clone();
        foreach (BpfMapReference m in Maps)
        {
            ref bpf_insn load = ref insns[m.InstructionIndex];
            load.regs = (byte)((BPF_PSEUDO_MAP_FD << 4) | load.DstReg);
            load.imm = mapFds[m.Symbol];
            insns[m.InstructionIndex + 1].imm = 0;
        }
        return insns;
    }

    private static Section ChooseProgram(Section[] sections, Reader r)
    {
        Section[] code = sections.Where(s => s.Type == SHT_PROGBITS && (s.Flags & SHF_EXECINSTR) != 0 && s.Size > 0).ToArray();
        Section[] frags = code.Where(s => s.Name.StartsWith("xdp.frags", StringComparison.Ordinal)).ToArray();
        if (frags.Length > 0)
            throw r.Error($"section '{frags[0].Name}' is a multi-buffer (xdp.frags) program; the driver does not use multi-buffer frames. Use SEC(\"xdp\")");
        Section[] xdp = code.Where(s => s.Name == "xdp" || s.Name.StartsWith("xdp/", StringComparison.Ordinal) || s.Name.StartsWith("xdp_", StringComparison.Ordinal)).ToArray();
        Section[] others = code.Where(s => s.Name != ".text").ToArray();
        Section[] chosen = xdp.Length > 0 ? xdp : others;
        if (chosen.Length == 1)
            return chosen[0];
        if (chosen.Length == 0)
        {
            throw r.Error(code.Length == 0
                ? "no program: the object has no executable section. Mark the function with __attribute__((section(\"xdp\"))) (libbpf's SEC(\"xdp\"))"
                : "the only code is in .text (no SEC(\"xdp\")); put the XDP function in its own section: __attribute__((section(\"xdp\")))");
        }
        throw r.Error($"{chosen.Length} programs ({string.Join(", ", chosen.Select(s => s.Name))}); the driver loads one XDP program: keep one in the object");
    }

    private static BpfMapReference ResolveMapLoad(Reader r, Section[] sections, Section symtab, Section program,
        bpf_insn[] insns, ulong offset, uint symbolIndex, uint type)
    {
        if (type == R_BPF_64_32)
            throw r.Error($"a BPF-to-BPF call at instruction {offset / InsnSize}: calls to other functions (subprograms) are not supported; mark helpers static __always_inline");
        if (type != R_BPF_64_64)
            throw r.Error($"relocation type {type} at offset {offset} is not supported (only R_BPF_64_64 map loads)");
        if (offset % InsnSize != 0 || offset / InsnSize + 1 >= (ulong)insns.Length || insns[offset / InsnSize].code != BPF_LD_IMM_DW)
            throw r.Error($"relocation at offset {offset} of section {program.Name} is not on a 64-bit immediate load");
        (string name, byte info, ushort shndx, ulong value, ulong size) = r.Symbol(symtab, sections, symbolIndex);
        string section = shndx < sections.Length ? sections[shndx].Name : $"#{shndx}";
        int index = (int)(offset / InsnSize);
        if (name == XskRedirectProgram.MapName)
            return new BpfMapReference(index, name, true, default);
        if ((info & 0xF) == STT_SECTION || section is ".data" or ".rodata" or ".bss" || section.StartsWith(".rodata", StringComparison.Ordinal))
            throw r.Error($"instruction {index} uses global data in section '{section}'; global variables and constant strings (.data/.rodata/.bss) are not supported. Keep state in maps");
        if (section == "maps" && shndx < sections.Length)
            return new BpfMapReference(index, name, false, r.LegacyMapDefinition(sections[shndx], value, size, name));
        throw r.Error($"instruction {index} refers to '{name}' in section '{section}'. Supported: a map named xsks_map (any section) and legacy maps in SEC(\"maps\") " +
            "declared as struct bpf_map_def; BTF-defined maps (SEC(\".maps\")) other than xsks_map need libbpf");
    }

    private sealed record Section(int Index, string Name, uint Type, ulong Flags, int Offset, long Size, uint Link, uint Info);

    /// <summary>Bounds-checked little-endian reads over the file, with errors that name it.</summary>
    private sealed class Reader(byte[] data, string path)
    {
        private ushort _shstrndx;
        private ulong _shoff;
        private ushort _shnum;

        public PacketPlaneException Error(string what) => new($"xdp_prog={path}: {what}");

        public void CheckHeader()
        {
            if (data.Length < 64 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
                throw Error("not an ELF file. Build the program with: clang -O2 -target bpf -c prog.c -o prog.o");
            if (data[4] != 2)
                throw Error("not a 64-bit ELF object (EI_CLASS is not ELFCLASS64); build with clang -target bpf");
            if (data[5] != 1)
                throw Error("a big-endian object; build with -target bpf (or bpfel), not bpfeb");
            ushort type = U16(16);
            ushort machine = U16(18);
            if (machine != EM_BPF)
                throw Error($"ELF machine {machine} is not BPF (247); build with clang -target bpf");
            if (type != ET_REL)
                throw Error($"ELF type {type} is not a relocatable object (1); use the .o that clang -c writes, unlinked");
            _shoff = U64(40);
            _shnum = U16(60);
            _shstrndx = U16(62);
            if (U16(58) != SectionHeaderSize || _shnum == 0 || _shoff > (ulong)data.Length || (ulong)_shnum * SectionHeaderSize > (ulong)data.Length - _shoff || _shstrndx >= _shnum)
                throw Error("the section header table is truncated or malformed");
        }

        public Section[] Sections()
        {
            var raw = new (uint NameOff, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info)[_shnum];
            for (int i = 0; i < _shnum; i++)
            {
                int h = checked((int)(_shoff + (ulong)i * SectionHeaderSize));
                raw[i] = (U32(h), U32(h + 4), U64(h + 8), U64(h + 24), U64(h + 32), U32(h + 40), U32(h + 44));
                bool hasData = raw[i].Type != 8; // SHT_NOBITS occupies no file space
                if (hasData && (raw[i].Offset > (ulong)data.Length || raw[i].Size > (ulong)data.Length - raw[i].Offset))
                    throw Error($"section {i} extends past the end of the file (truncated object?)");
            }
            var strtab = raw[_shstrndx];
            return raw.Select((s, i) => new Section(i, CString((int)strtab.Offset + (int)s.NameOff, (int)strtab.Size - (int)s.NameOff),
                s.Type, s.Flags, (int)s.Offset, (long)s.Size, s.Link, s.Info)).ToArray();
        }

        public bpf_insn[] Instructions(Section s)
        {
            if (s.Size % InsnSize != 0)
                throw Error($"section {s.Name} is {s.Size} bytes, not a whole number of 8-byte instructions");
            var insns = new bpf_insn[s.Size / InsnSize];
            for (int i = 0; i < insns.Length; i++)
            {
                int at = s.Offset + i * InsnSize;
                ReadOnlySpan<byte> b = Bytes(at, InsnSize);
                insns[i] = new bpf_insn { code = b[0], regs = b[1], off = (short)U16(at + 2), imm = (int)U32(at + 4) };
            }
            return insns;
        }

        public IEnumerable<(ulong Offset, uint Symbol, uint Type)> Relocations(Section rel)
        {
            for (long at = 0; at + RelSize <= rel.Size; at += RelSize)
            {
                int p = rel.Offset + (int)at;
                ulong info = U64(p + 8);
                yield return (U64(p), (uint)(info >> 32), (uint)(info & 0xFFFFFFFF));
            }
        }

        public (string Name, byte Info, ushort Shndx, ulong Value, ulong Size) Symbol(Section symtab, Section[] sections, uint index)
        {
            long at = (long)index * SymbolSize;
            if (at + SymbolSize > symtab.Size || symtab.Link >= sections.Length)
                throw Error($"relocation names symbol {index}, which is not in the symbol table");
            int p = symtab.Offset + (int)at;
            Section strtab = sections[symtab.Link];
            uint nameOff = U32(p);
            string name = nameOff < strtab.Size ? CString(strtab.Offset + (int)nameOff, (int)(strtab.Size - nameOff)) : "";
            return (name, Bytes(p + 4, 1)[0], U16(p + 6), U64(p + 8), U64(p + 16));
        }

        public (uint, uint, uint, uint, uint) LegacyMapDefinition(Section maps, ulong value, ulong size, string name)
        {
            if (size < 16 || value > (ulong)maps.Size || Math.Min(size, 20) > (ulong)maps.Size - value)
                throw Error($"map '{name}' in SEC(\"maps\") is {size} bytes; expected struct bpf_map_def (type, key_size, value_size, max_entries[, map_flags])");
            int p = maps.Offset + (int)value;
            return (U32(p), U32(p + 4), U32(p + 8), U32(p + 12), size >= 20 ? U32(p + 16) : 0);
        }

        public string CString(int offset, int max)
        {
            if (offset < 0 || offset >= data.Length || max <= 0)
                return "";
            int end = Array.IndexOf(data, (byte)0, offset, Math.Min(max, data.Length - offset));
            return Encoding.ASCII.GetString(data, offset, (end < 0 ? Math.Min(max, data.Length - offset) : end - offset));
        }

        private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(at, 2));
        private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(at, 4));
        private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(at, 8));

        private ReadOnlySpan<byte> Bytes(int at, int count) =>
            at >= 0 && at <= data.Length - count ? data.AsSpan(at, count) : throw Error($"truncated: {count} bytes needed at offset {at}, the file has {data.Length}");
    }
}
