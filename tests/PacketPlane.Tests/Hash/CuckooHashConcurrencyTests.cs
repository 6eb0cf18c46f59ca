using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using PacketPlane.Hash;
using Xunit;
using Xunit.Abstractions;

namespace PacketPlane.Tests.Hash;

/// <summary>
/// One writer adds and removes keys in a table kept nearly full, so nearly every insert moves resident keys
/// between their buckets; readers on other threads look up keys that are never removed, continuously, and must
/// never miss one or read a wrong value (rte_hash's RW_CONCURRENCY_LF guarantee). Removed slots are freed only
/// after every reader has passed a quiescent point, as DPDK requires (RCU QSBR).
/// </summary>
public class CuckooHashConcurrencyTests(ITestOutputHelper output)
{
    private const int Capacity = 4096;
    private const int Resident = 1500;
    private const int Readers = 2;

    [Fact]
    public void Readers_never_miss_a_present_key_while_the_writer_displaces_keys()
    {
        using var table = CuckooHash<Ipv4FiveTuple, ulong>.Create("h_lf_conc", new CuckooHashOptions { Entries = Capacity, LockFreeReaders = true });
        Ipv4FiveTuple[] resident = Enumerable.Range(0, Resident).Select(i => Key(i)).ToArray();
        int[] residentPositions = new int[Resident];
        for (int i = 0; i < Resident; i++)
            Assert.Equal(HashAddStatus.Added, table.AddOrUpdate(resident[i], Value(i, 0), out residentPositions[i]));

        long[] quiescent = new long[Readers];   // each reader bumps its entry between lookups (its QSBR counter)
        long[] falseMisses = new long[Readers];
        long[] wrongValues = new long[Readers];
        long[] lookups = new long[Readers];
        int stop = 0;
        var readers = Enumerable.Range(0, Readers).Select(r => new Thread(() =>
        {
            var random = new Random(r);
            var burst = new Ipv4FiveTuple[32];
            int[] expected = new int[32];
            int[] positions = new int[32];
            ulong[] values = new ulong[32];
            while (Volatile.Read(ref stop) == 0)
            {
                int i = random.Next(Resident);
                if (table.Lookup(resident[i]) != residentPositions[i])
                    falseMisses[r]++;
                if (!table.TryGetValue(resident[i], out ulong value))
                    falseMisses[r]++;
                else if (value >> 1 != Value(i, 0) >> 1)
                    wrongValues[r]++;
                for (int k = 0; k < burst.Length; k++)
                {
                    int j = random.Next(Resident);
                    burst[k] = resident[j];
                    expected[k] = j;
                }
                table.LookupBulk(burst, positions);
                ulong hits = table.LookupBulkData(burst, values);
                for (int k = 0; k < burst.Length; k++)
                {
                    falseMisses[r] += positions[k] == residentPositions[expected[k]] ? 0 : 1;
                    falseMisses[r] += (hits >> k & 1) == 1 ? 0 : 1;
                    wrongValues[r] += (hits >> k & 1) == 0 || values[k] >> 1 == Value(expected[k], 0) >> 1 ? 0 : 1;
                }
                lookups[r] += 2 + 2 * burst.Length;
                // Quiescent point: this reader holds no reference into the table here. Pairs with the writer's
                // Volatile.Read of the counter before it frees slots.
                Volatile.Write(ref quiescent[r], quiescent[r] + 1);
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in readers)
            t.Start();

        long displacementsBefore = table.Displacements;
        var writerRandom = new Random(99);
        var churn = new List<(Ipv4FiveTuple Key, int Id)>();
        var pending = new List<int>();
        int nextChurn = 1_000_000, writerOps = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3) || writerOps < 20_000)
        {
            if (writerRandom.Next(100) < 55 && table.Count < Capacity * 0.97)
            {
                var key = Key(nextChurn);
                if (table.AddOrUpdate(key, Value(nextChurn, 0)) == HashAddStatus.Added)
                    churn.Add((key, nextChurn));
                nextChurn++;
            }
            else if (churn.Count > 0)
            {
                int victim = writerRandom.Next(churn.Count);
                Assert.True(table.Remove(churn[victim].Key, out int position));
                pending.Add(position);
                churn[victim] = churn[^1];
                churn.RemoveAt(churn.Count - 1);
            }
            if (writerRandom.Next(50) == 0)
            {
                // Flip the low bit of a resident key's value: readers must see either version, never anything else.
                int i = writerRandom.Next(Resident);
                Assert.Equal(HashAddStatus.Updated, table.AddOrUpdate(resident[i], Value(i, writerOps & 1)));
            }
            if (pending.Count >= 256)
                FreeAfterGracePeriod(table, pending, quiescent, readers);
            writerOps++;
        }
        Volatile.Write(ref stop, 1);
        foreach (Thread t in readers)
            Assert.True(t.Join(TimeSpan.FromSeconds(30)));

        long moves = table.Displacements - displacementsBefore;
        output.WriteLine($"writer ops {writerOps}, displacements {moves}, lookups {lookups.Sum()}, false misses {falseMisses.Sum()}, wrong values {wrongValues.Sum()}");
        Assert.True(moves > 5_000, $"only {moves} displacements: the writer did not exercise cuckoo moves");
        Assert.True(lookups.All(n => n > 10_000), "a reader barely ran");
        Assert.Equal(0, falseMisses.Sum());
        Assert.Equal(0, wrongValues.Sum());
    }

    /// <summary>Waits until every reader has passed a quiescent point after the removals, then frees their slots.</summary>
    private static void FreeAfterGracePeriod(CuckooHash<Ipv4FiveTuple, ulong> table, List<int> pending, long[] quiescent, Thread[] readers)
    {
        long[] snapshot = quiescent.Select(q => Volatile.Read(ref q)).ToArray();
        for (int r = 0; r < quiescent.Length; r++)
        {
            while (Volatile.Read(ref quiescent[r]) == snapshot[r] && readers[r].IsAlive)
                Thread.Yield();
        }
        foreach (int position in pending)
            table.FreePosition(position);
        pending.Clear();
    }

    private static Ipv4FiveTuple Key(int id) => new(0x0A00_0000u + (uint)id, 0xC612_0000u ^ (uint)id * 2654435761u, (ushort)id, 443, 6);

    private static ulong Value(int id, int version) => ((ulong)id * 0x9E37_79B9UL) << 1 | (uint)version;
}
