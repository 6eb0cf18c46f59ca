using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace PacketPlane.Net;

/// <summary>A 48-bit Ethernet address, stored in wire order.</summary>
[StructLayout(LayoutKind.Sequential, Size = 6)]
public readonly struct MacAddress : IEquatable<MacAddress>
{
    private readonly uint _high; // bytes 0-3, wire order
    private readonly ushort _low; // bytes 4-5, wire order

    /// <summary>Creates an address from 6 bytes in wire order.</summary>
    public MacAddress(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 6)
            throw new ArgumentException($"a MAC address needs 6 bytes, got {bytes.Length}", nameof(bytes));
        _high = MemoryMarshal.Read<uint>(bytes);
        _low = MemoryMarshal.Read<ushort>(bytes[4..]);
    }

    /// <summary>Creates an address from the low 48 bits of <paramref name="value"/>, most significant byte first on the wire.</summary>
    public MacAddress(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value << 16);
        this = new MacAddress(b);
    }

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(0xffff_ffff_ffffUL);

    /// <summary>00:00:00:00:00:00.</summary>
    public static MacAddress Zero => default;

    /// <summary>The address as a 48-bit number, first wire byte most significant.</summary>
    public ulong ToUInt64()
    {
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        CopyTo(b[2..]);
        return BinaryPrimitives.ReadUInt64BigEndian(b);
    }

    /// <summary>Writes the 6 bytes in wire order.</summary>
    public void CopyTo(Span<byte> destination)
    {
        MemoryMarshal.Write(destination, in _high);
        MemoryMarshal.Write(destination[4..], in _low);
    }

    /// <summary>Group (multicast or broadcast) bit.</summary>
    public bool IsMulticast => (ToUInt64() & 0x0100_0000_0000UL) != 0;

    /// <summary>Locally administered bit.</summary>
    public bool IsLocallyAdministered => (ToUInt64() & 0x0200_0000_0000UL) != 0;

    /// <summary>Parses "02:00:00:00:00:01" (colons or dashes).</summary>
    public static MacAddress Parse(string text)
    {
        if (!TryParse(text, out MacAddress mac))
            throw new FormatException($"'{text}' is not a MAC address; expected six hexadecimal bytes such as 02:00:00:00:00:01");
        return mac;
    }

    /// <summary>Parses "02:00:00:00:00:01" (colons or dashes); false when malformed.</summary>
    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null)
            return false;
        string[] parts = text.Split(':', '-');
        if (parts.Length != 6)
            return false;
        Span<byte> b = stackalloc byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length is < 1 or > 2 || !byte.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out b[i]))
                return false;
        }
        mac = new MacAddress(b);
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(MacAddress other) => _high == other._high && _low == other._low;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MacAddress m && Equals(m);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_high, _low);

    /// <summary>Same address.</summary>
    public static bool operator ==(MacAddress a, MacAddress b) => a.Equals(b);

    /// <summary>Different addresses.</summary>
    public static bool operator !=(MacAddress a, MacAddress b) => !a.Equals(b);

    /// <summary>"02:00:00:00:00:01".</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[6];
        CopyTo(b);
        return $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}";
    }
}
