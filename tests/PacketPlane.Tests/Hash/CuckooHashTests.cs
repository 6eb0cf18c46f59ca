using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PacketPlane.Hash;
using Xunit;

namespace PacketPlane.Tests.Hash;

[InlineArray(13)]
public struct Key13
{
    private byte _element;
}

[InlineArray(40)]
public struct Key40
{
    private byte _element;
}

/// <summary>Keys of any size made from an id: the id's bytes first (so distinct ids give distinct keys), then noise.</summary>
internal static class TestKeys
{
    public static TKey Make<TKey>(ulong id) where TKey : unmanaged
    {
        TKey key = default;
        Span<byte> bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref key, 1));
        ulong state = id * 0x9E37_79B9_7F4A_7C15UL + 1;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i < 8 && i < bytes.Length)
            {
                bytes[i] = (byte)(id >> (8 * i));
                continue;
            }
            state ^= state >> 31;
            state *= 0xBF58_476D_1CE4_E5B9UL;
            bytes[i] = (byte)(state >> 56);
        }
        return key;
    }
}

public class CuckooHashTests
{
    [Fact]
    public void Add_lookup_update_remove_with_ipv4_five_tuples()
    {
        using var table = CuckooHash<Ipv4FiveTuple, uint>.Create("h_basic", new CuckooHashOptions { Entries = 64 });
        var a = new Ipv4FiveTuple(0xC612_0000, 0xC612_0001, 9, 9, 17);
        var b = new Ipv4FiveTuple(0xC612_0100, 0xC612_0101, 9, 9, 17);
        Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(a, 10u, out int pa));
        Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(b, 11u, out int pb));
        Assert.NotEqual(pa, pb);
        Assert.Equal(pa, table.Lookup(a));
        Assert.Equal(pb, table.Lookup(b, table.ComputeHash(b)));
        Assert.True(table.TryGetValue(a, out uint va));
        Assert.Equal(10u, va);
        Assert.Equal(HashAddStatus.Updated, table.AddOrUpdate(a, 20u, out int pa2));
        Assert.Equal(pa, pa2);
        Assert.True(table.TryGetValue(a, out va));
        Assert.Equal(20u, va);
        Assert.True(table.TryGetKey(pb, out Ipv4FiveTuple kb));
        Assert.Equal(b, kb);
        Assert.Equal(2, table.Count);
        table.ValueAt(pb) = 99;
        Assert.True(table.TryGetValue(b, out uint vb));
        Assert.Equal(99u, vb);

        Assert.True(table.Remove(a, out int removed));
        Assert.Equal(pa, removed);
        Assert.Equal(-1, table.Lookup(a));
        Assert.False(table.TryGetValue(a, out _));
        Assert.False(table.Remove(a));
        Assert.False(table.TryGetKey(pa, out _));
        Assert.Equal(1, table.Count);
        Assert.Equal(pb, table.Lookup(b));
    }

    [Theory]
    [InlineData(HashFunction.Crc32c, false)]
    [InlineData(HashFunction.Jhash, false)]
    [InlineData(HashFunction.Crc32c, true)]
    public void Random_operations_agree_with_a_dictionary_for_16_byte_keys(HashFunction function, bool lockFree) =>
        RunDifferential<Ipv4FiveTuple>(function, lockFree, seed: 1);

    [Fact]
    public void Random_operations_agree_with_a_dictionary_for_48_byte_keys() => RunDifferential<Ipv6FiveTuple>(HashFunction.Crc32c, false, seed: 2);

    [Fact]
    public void Random_operations_agree_with_a_dictionary_for_40_byte_keys() => RunDifferential<Key40>(HashFunction.Jhash, false, seed: 3);

    [Fact]
    public void Random_operations_agree_with_a_dictionary_for_13_byte_keys() => RunDifferential<Key13>(HashFunction.Crc32c, true, seed: 4);

    [Fact]
    public void Random_operations_agree_with_a_dictionary_for_4_byte_keys() => RunDifferential<uint>(HashFunction.Jhash, false, seed: 5);

    /// <summary>
    /// 100,000 adds, updates, removes and lookups on a small table kept 85-97 % full, so inserts displace keys
    /// constantly; every answer, the count, every bulk result and the iteration are checked against a dictionary.
    /// </summary>
    private static void RunDifferential<TKey>(HashFunction function, bool lockFree, int seed) where TKey : unmanaged
    {
        const int capacity = 2048;
        var random = new Random(seed);
        using var table = CuckooHash<TKey, ulong>.Create("h_diff", new CuckooHashOptions { Entries = capacity, HashFunction = function, LockFreeReaders = lockFree });
        var expected = new Dictionary<ulong, (ulong Value, int Position)>();
        ulong idLimit = typeof(TKey) == typeof(uint) ? uint.MaxValue : ulong.MaxValue;
        var ids = new List<ulong>();
        TKey[] burst = new TKey[70];
        ulong[] burstIds = new ulong[70];
        int[] positions = new int[70];
        ulong[] values = new ulong[64];

        for (int op = 0; op < 100_000; op++)
        {
            int r = random.Next(100);
            double load = (double)expected.Count / capacity;
            if (r < 45 && load < 0.97 || load < 0.85)
            {
                ulong id = (ulong)random.NextInt64() % idLimit;
                ulong value = (ulong)random.NextInt64();
                HashAddStatus status = table.AddOrUpdate(TestKeys.Make<TKey>(id), value, out int position);
                if (status == HashAddStatus.NoSpace)
                {
                    Assert.False(expected.ContainsKey(id));
                    continue;
                }
                if (expected.TryGetValue(id, out var old))
                {
                    Assert.Equal(HashAddStatus.Updated, status);
                    Assert.Equal(old.Position, position);
                }
                else
                {
                    Assert.Equal(HashAddStatus.Added, status);
                    ids.Add(id);
                }
                expected[id] = (value, position);
            }
            else if (r < 80 && ids.Count > 0)
            {
                int index = random.Next(ids.Count);
                ulong id = random.Next(10) == 0 ? (ulong)random.NextInt64() % idLimit : ids[index];
                bool present = expected.TryGetValue(id, out var entry);
                Assert.Equal(present, table.Remove(TestKeys.Make<TKey>(id), out int position));
                if (present)
                {
                    Assert.Equal(entry.Position, position);
                    expected.Remove(id);
                    ids[ids.IndexOf(id)] = ids[^1];
                    ids.RemoveAt(ids.Count - 1);
                    if (lockFree)
                        table.FreePosition(position);
                }
            }
            else
            {
                int n = random.Next(1, burst.Length + 1);
                for (int i = 0; i < n; i++)
                {
                    burstIds[i] = ids.Count > 0 && random.Next(4) > 0 ? ids[random.Next(ids.Count)] : (ulong)random.NextInt64() % idLimit;
                    burst[i] = TestKeys.Make<TKey>(burstIds[i]);
                }
                int hits = table.LookupBulk(burst.AsSpan(0, n), positions);
                int expectedHits = 0;
                for (int i = 0; i < n; i++)
                {
                    int want = expected.TryGetValue(burstIds[i], out var e) ? e.Position : -1;
                    expectedHits += want >= 0 ? 1 : 0;
                    Assert.Equal(want, positions[i]);
                    Assert.Equal(want, table.Lookup(burst[i]));
                }
                Assert.Equal(expectedHits, hits);
                int m = Math.Min(n, 64);
                ulong mask = table.LookupBulkData(burst.AsSpan(0, m), values);
                for (int i = 0; i < m; i++)
                {
                    bool present = expected.TryGetValue(burstIds[i], out var e);
                    Assert.Equal(present, (mask & (1UL << i)) != 0);
                    if (present)
                        Assert.Equal(e.Value, values[i]);
                }
            }
            Assert.Equal(expected.Count, table.Count);
        }

        Assert.True(table.Displacements > 1000, $"only {table.Displacements} displacements: the test must exercise cuckoo moves");
        var seen = new Dictionary<int, ulong>();
        foreach (var entry in table)
        {
            TKey key = entry.Key;
            byte[] keyBytes = [.. MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref key, 1)), .. new byte[8]];
            ulong id = BitConverter.ToUInt64(keyBytes);
            id = typeof(TKey) == typeof(uint) ? (uint)id : id;
            Assert.True(expected.TryGetValue(id, out var e), $"iteration returned key {id:x} that is not stored");
            Assert.Equal(e.Position, entry.Position);
            Assert.Equal(e.Value, entry.Value);
            Assert.True(seen.TryAdd(entry.Position, id), "two keys share a position");
        }
        Assert.Equal(expected.Count, seen.Count);
    }

    [Fact]
    public void Full_table_reports_no_space_and_keeps_every_key()
    {
        using var table = CuckooHash<Ipv4FiveTuple, uint>.Create("h_full", new CuckooHashOptions { Entries = 4096 });
        var stored = new List<(Ipv4FiveTuple Key, uint Value)>();
        int failures = 0;
        for (uint i = 0; failures == 0; i++)
        {
            var key = new Ipv4FiveTuple(0x0A00_0000 | i, 0x0B00_0000 ^ (i * 2654435761), (ushort)i, 80, 6);
            int before = table.Count;
            HashAddStatus status = table.AddOrUpdate(key, i);
            if (status == HashAddStatus.NoSpace)
            {
                failures++;
                Assert.Equal(before, table.Count);
                Assert.Equal(-1, table.Lookup(key));
            }
            else
            {
                Assert.Equal(HashAddStatus.Added, status);
                stored.Add((key, i));
            }
        }
        // rte_hash fills well above 90 % before the first failure with 8-entry buckets and BFS displacement.
        Assert.True(stored.Count > 0.9 * table.Capacity, $"first failure at {stored.Count} of {table.Capacity}");
        foreach ((Ipv4FiveTuple key, uint value) in stored)
        {
            Assert.True(table.TryGetValue(key, out uint got));
            Assert.Equal(value, got);
        }
        // Updating a present key still works when full.
        Assert.Equal(HashAddStatus.Updated, table.AddOrUpdate(stored[0].Key, 7u));
    }

    [Fact]
    public void Key_slots_run_out_at_capacity()
    {
        using var table = CuckooHash<ulong, byte>.Create("h_slots", new CuckooHashOptions { Entries = 100 });
        int added = 0;
        for (ulong i = 0; i < 1000; i++)
            added += table.AddOrUpdate(i * 7919, (byte)1) == HashAddStatus.Added ? 1 : 0;
        Assert.Equal(100, added);
        Assert.Equal(100, table.Count);
        Assert.Equal(HashAddStatus.NoSpace, table.AddOrUpdate(123456789UL, (byte)1));
        Assert.True(table.Remove(7919UL));
        Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(123456789UL, (byte)1));
    }

    [Fact]
    public void Reset_empties_the_table()
    {
        using var table = CuckooHash<ulong, ulong>.Create("h_reset", new CuckooHashOptions { Entries = 256 });
        for (ulong i = 0; i < 200; i++)
            table.AddOrUpdate(i, i);
        table.Reset();
        Assert.Equal(0, table.Count);
        Assert.Equal(-1, table.Lookup(5UL));
        int n = 0;
        foreach (var _ in table)
            n++;
        Assert.Equal(0, n);
        Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(5UL, 6UL, out int position));
        Assert.Equal(0, position);
    }

    [Fact]
    public void Lock_free_tables_hold_removed_slots_until_freed()
    {
        using var table = CuckooHash<ulong, ulong>.Create("h_lf", new CuckooHashOptions { Entries = 8, LockFreeReaders = true });
        for (ulong i = 0; i < 8; i++)
            Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(i, i));
        Assert.True(table.Remove(3UL, out int position));
        Assert.Equal(HashAddStatus.NoSpace, table.AddOrUpdate(100UL, 1UL)); // the slot is not reused yet
        table.FreePosition(position);
        Assert.Throws<InvalidOperationException>(() => table.FreePosition(position));
        Assert.Throws<InvalidOperationException>(() => table.FreePosition(0)); // live key
        Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(100UL, 1UL));

        using var plain = CuckooHash<ulong, ulong>.Create("h_plain", new CuckooHashOptions { Entries = 8 });
        plain.AddOrUpdate(1UL, 1UL);
        plain.Remove(1UL, out int p);
        Assert.Throws<InvalidOperationException>(() => plain.FreePosition(p));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CuckooHash<ulong, ulong>.Create("x", new CuckooHashOptions { Entries = 4 }));
        using var table = CuckooHash<ulong, ulong>.Create("h_args", new CuckooHashOptions { Entries = 64 });
        Assert.Throws<ArgumentException>(() => table.LookupBulk(new ulong[4], new int[3]));
        Assert.Throws<ArgumentException>(() => table.LookupBulkData(new ulong[65], new ulong[65]));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.ValueAt(3));
        table.Dispose();
        Assert.Throws<ObjectDisposedException>(() => table.AddOrUpdate(1UL, 1UL));
    }

    [Fact]
    public void Precomputed_hash_forms_agree_with_the_plain_ones()
    {
        using var table = CuckooHash<Ipv6FiveTuple, int>.Create("h_hash", new CuckooHashOptions { Entries = 1024, HashFunction = HashFunction.Jhash, HashSeed = 77 });
        var keys = Enumerable.Range(0, 500).Select(i => TestKeys.Make<Ipv6FiveTuple>((ulong)i)).ToArray();
        uint[] hashes = keys.Select(k => table.ComputeHash(k)).ToArray();
        Assert.Equal(Jhash.Compute(MemoryMarshal.AsBytes(keys.AsSpan(0, 1)), 77), hashes[0]);
        for (int i = 0; i < 400; i++)
            Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(keys[i], hashes[i], i, out _));
        int[] positions = new int[500];
        Assert.Equal(400, table.LookupBulk(keys, hashes, positions));
        int[] values = new int[64];
        ulong mask = table.LookupBulkData(keys.AsSpan(380, 40), hashes.AsSpan(380, 40), values);
        Assert.Equal((1UL << 20) - 1, mask);
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(table.Lookup(keys[i]), positions[i]);
            Assert.Equal(positions[i], table.Lookup(keys[i], hashes[i]));
            if (i < 400)
                Assert.True(table.TryGetValue(keys[i], hashes[i], out int v) && v == i);
        }
        for (int i = 0; i < 20; i++)
            Assert.Equal(380 + i, values[i]);
    }
}

public class FiveTupleTests
{
    [Fact]
    public void Ipv4_key_from_a_header_equals_the_constructed_key()
    {
        // 198.18.0.1:1024 -> 198.18.0.2:9 UDP, TTL 64 and a checksum that must not matter.
        byte[] packet = Convert.FromHexString("4500001c000000004011abcdc6120001c612000204000009");
        var fromHeader = Ipv4FiveTuple.FromIpv4Header(packet);
        var built = new Ipv4FiveTuple(0xC612_0001, 0xC612_0002, 1024, 9, 17);
        Assert.Equal(built, fromHeader);
        Assert.Equal(0xC612_0001u, fromHeader.SourceAddress);
        Assert.Equal(0xC612_0002u, fromHeader.DestinationAddress);
        Assert.Equal((ushort)1024, fromHeader.SourcePort);
        Assert.Equal((ushort)9, fromHeader.DestinationPort);
        Assert.Equal((byte)17, fromHeader.Protocol);
        packet[8] = 1; // TTL
        Assert.Equal(built, Ipv4FiveTuple.FromIpv4Header(packet));

        // With 4 bytes of options the ports move; the key does not change.
        byte[] withOptions = [0x46, .. packet[1..20], 1, 1, 1, 0, .. packet[20..]];
        Assert.Equal(built, Ipv4FiveTuple.FromIpv4Header(withOptions));
        Assert.Throws<ArgumentException>(() => Ipv4FiveTuple.FromIpv4Header(packet.AsSpan(0, 22)));
        Assert.Contains("198.18.0.1:1024", built.ToString());
    }

    [Fact]
    public void Ipv6_key_from_a_header_equals_the_constructed_key()
    {
        byte[] src = System.Net.IPAddress.Parse("2001:200:0:1::1").GetAddressBytes();
        byte[] dst = System.Net.IPAddress.Parse("2001:200:0:2::9").GetAddressBytes();
        byte[] header = [0x60, 0, 0, 0, 0, 8, 17, 64, .. src, .. dst, 0x04, 0x00, 0x00, 0x09, 0xAA, 0xBB];
        var fromHeader = Ipv6FiveTuple.FromIpv6Header(header);
        var built = new Ipv6FiveTuple(src, dst, 1024, 9, 17);
        Assert.Equal(built, fromHeader);
        Assert.Equal((ushort)1024, fromHeader.SourcePort);
        Assert.Equal((ushort)9, fromHeader.DestinationPort);
        Assert.Equal((byte)17, fromHeader.Protocol);
        Assert.Equal(System.Net.IPAddress.Parse("2001:200:0:2::9"), fromHeader.DestinationAddress);
        header[7] = 1; // hop limit
        header[5] = 99; // payload length
        Assert.Equal(built, Ipv6FiveTuple.FromIpv6Header(header));
        Assert.Equal(48, Unsafe.SizeOf<Ipv6FiveTuple>());
        Assert.Equal(16, Unsafe.SizeOf<Ipv4FiveTuple>());
    }
}

public class SignatureCompareTests
{
    [Fact]
    public void Vector_signature_compare_matches_the_scalar_loop_on_random_buckets()
    {
        Assert.True(System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated);
        var random = new Random(12);
        ushort[] signatures = new ushort[8];
        for (int round = 0; round < 100_000; round++)
        {
            // Few distinct values, so buckets often hold the searched signature once, several times, or not at all.
            for (int i = 0; i < 8; i++)
                signatures[i] = (ushort)(random.Next(4) == 0 ? random.Next(65536) : random.Next(3) * 0x8001);
            ushort wanted = (ushort)(random.Next(2) == 0 ? signatures[random.Next(8)] : random.Next(65536));
            (uint vector, uint scalar) = CuckooSignatures.Match(signatures, wanted);
            Assert.Equal(scalar, vector);
        }
    }
}
