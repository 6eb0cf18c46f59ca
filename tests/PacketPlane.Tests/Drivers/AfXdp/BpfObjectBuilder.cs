using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>
/// Writes small BPF ELF relocatable objects laid out as clang -target bpf -c lays them out (null section, string
/// table, .text, program sections with .rel sections, data sections, license, symbol table), so the ELF reader can
/// be tested without clang. Independent of the reader: it follows the ELF64 specification, not our parser.
/// </summary>
internal sealed class BpfObjectBuilder
{
    public const uint R_BPF_64_64 = 1;
    public const uint R_BPF_64_32 = 10;

    private readonly List<(string Name, ulong[] Code, List<(int Insn, string Symbol, uint Type)> Relocs)> _programs = new();
    private readonly List<(string Section, string Symbol, byte[] Data)> _data = new();

    public string? License { get; set; } = "GPL";
    public ushort Machine { get; set; } = 247;

    /// <summary>The redirect program's five instructions (ld_imm64 at index 1).</summary>
    public static readonly ulong[] RedirectCode =
    [
        0x0000000000101261UL, 0x0000000000000118UL, 0UL, 0x00000002000003b7UL, 0x0000003300000085UL, 0x0000000000000095UL,
    ];

    public BpfObjectBuilder Program(string section, ulong[] code, params (int Insn, string Symbol, uint Type)[] relocs)
    {
        _programs.Add((section, code, relocs.ToList()));
        return this;
    }

    public BpfObjectBuilder Data(string section, string symbol, byte[] data)
    {
        _data.Add((section, symbol, data));
        return this;
    }

    /// <summary>A legacy struct bpf_map_def.</summary>
    public static byte[] MapDef(uint type, uint key, uint value, uint entries, uint flags = 0)
    {
        var b = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(b, type);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), key);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), value);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), entries);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), flags);
        return b;
    }

    public byte[] Build()
    {
        var strtab = new MemoryStream();
        strtab.WriteByte(0);
        int Str(string s)
        {
            int at = (int)strtab.Length;
            byte[] b = Encoding.ASCII.GetBytes(s + "\0");
            strtab.Write(b);
            return at;
        }

        // Section list: (name, type, flags, data, link, info, entsize)
        var sections = new List<(string Name, uint Type, ulong Flags, byte[] Data, uint Link, uint Info, ulong EntSize)>
        {
            ("", 0, 0, [], 0, 0, 0),
            (".strtab", 3, 0, [], 0, 0, 0), // filled at the end
            (".text", 1, 0x6, [], 0, 0, 0),
        };
        var dataSections = new Dictionary<string, int>();
        foreach ((string section, _, _) in _data)
        {
            if (!dataSections.ContainsKey(section))
            {
                dataSections[section] = sections.Count;
                sections.Add((section, 1, 0x3, [], 0, 0, 0));
            }
        }
        // Symbols: null, then one per data item, offsets within their section.
        var symbols = new List<(string Name, byte Info, ushort Shndx, ulong Value, ulong Size)> { ("", 0, 0, 0, 0) };
        var sectionBytes = dataSections.Keys.ToDictionary(k => k, _ => new MemoryStream());
        foreach ((string section, string symbol, byte[] data) in _data)
        {
            MemoryStream ms = sectionBytes[section];
            symbols.Add((symbol, 0x11, (ushort)dataSections[section], (ulong)ms.Length, (ulong)data.Length));
            ms.Write(data);
        }
        foreach ((string section, int index) in dataSections)
            sections[index] = sections[index] with { Data = sectionBytes[section].ToArray() };
        int symtabIndex = sections.Count + _programs.Count * 2 + (License is null ? 0 : 1);
        foreach ((string name, ulong[] code, List<(int Insn, string Symbol, uint Type)> relocs) in _programs)
        {
            byte[] text = new byte[code.Length * 8];
            for (int i = 0; i < code.Length; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(text.AsSpan(i * 8), code[i]);
            int programIndex = sections.Count;
            sections.Add((name, 1, 0x6, text, 0, 0, 0));
            byte[] rel = new byte[relocs.Count * 16];
            for (int i = 0; i < relocs.Count; i++)
            {
                int sym = symbols.FindIndex(s => s.Name == relocs[i].Symbol);
                if (sym < 0)
                {
                    symbols.Add((relocs[i].Symbol, 0x10, 0, 0, 0)); // undefined global
                    sym = symbols.Count - 1;
                }
                BinaryPrimitives.WriteUInt64LittleEndian(rel.AsSpan(i * 16), (ulong)relocs[i].Insn * 8);
                BinaryPrimitives.WriteUInt64LittleEndian(rel.AsSpan(i * 16 + 8), ((ulong)sym << 32) | relocs[i].Type);
            }
            sections.Add((".rel" + name, 9, 0x40, rel, (uint)symtabIndex, (uint)programIndex, 16));
        }
        if (License is not null)
            sections.Add(("license", 1, 0x3, Encoding.ASCII.GetBytes(License + "\0"), 0, 0, 0));
        var symtab = new byte[symbols.Count * 24];
        for (int i = 0; i < symbols.Count; i++)
        {
            Span<byte> s = symtab.AsSpan(i * 24);
            BinaryPrimitives.WriteUInt32LittleEndian(s, symbols[i].Name.Length == 0 ? 0u : (uint)Str(symbols[i].Name));
            s[4] = symbols[i].Info;
            BinaryPrimitives.WriteUInt16LittleEndian(s[6..], symbols[i].Shndx);
            BinaryPrimitives.WriteUInt64LittleEndian(s[8..], symbols[i].Value);
            BinaryPrimitives.WriteUInt64LittleEndian(s[16..], symbols[i].Size);
        }
        sections.Add((".symtab", 2, 0, symtab, 1, 1, 24));
        int[] nameOffsets = sections.Select(s => s.Name.Length == 0 ? 0 : Str(s.Name)).ToArray();
        sections[1] = sections[1] with { Data = strtab.ToArray() };

        var file = new MemoryStream();
        file.Write(new byte[64]);
        var offsets = new long[sections.Count];
        for (int i = 0; i < sections.Count; i++)
        {
            while (file.Length % 8 != 0)
                file.WriteByte(0);
            offsets[i] = file.Length;
            file.Write(sections[i].Data);
        }
        while (file.Length % 8 != 0)
            file.WriteByte(0);
        long shoff = file.Length;
        for (int i = 0; i < sections.Count; i++)
        {
            var h = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)nameOffsets[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), sections[i].Type);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), sections[i].Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(24), i == 0 ? 0 : (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(32), (ulong)sections[i].Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), sections[i].Link);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(44), sections[i].Info);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(48), 8);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(56), sections[i].EntSize);
            file.Write(h);
        }
        byte[] elf = file.ToArray();
        ReadOnlySpan<byte> ident = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1];
        ident.CopyTo(elf);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(16), 1); // ET_REL
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(18), Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(40), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(58), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(60), (ushort)sections.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(62), 1);
        return elf;
    }
}
