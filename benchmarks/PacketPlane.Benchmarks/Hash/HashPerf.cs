using PacketPlane.Benchmarks.Perf;
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Hash;

namespace PacketPlane.Benchmarks.Hash;

[InlineArray(4)] internal struct Key4 { private byte _b; }
[InlineArray(8)] internal struct Key8 { private byte _b; }
[InlineArray(9)] internal struct Key9 { private byte _b; }
[InlineArray(13)] internal struct Key13 { private byte _b; }
[InlineArray(16)] internal struct Key16 { private byte _b; }
[InlineArray(32)] internal struct Key32 { private byte _b; }
[InlineArray(37)] internal struct Key37 { private byte _b; }
[InlineArray(40)] internal struct Key40 { private byte _b; }
[InlineArray(48)] internal struct Key48 { private byte _b; }
[InlineArray(64)] internal struct Key64 { private byte _b; }

/// <summary>
/// Our run of the "Without locks in the code" part of DPDK 22.11's <c>hash_perf_autotest</c>
/// (app/test/test_hash_perf.c), same workload and metric: a table of 2^19 entries hashed with jhash (seed 0),
/// filled to 75 % with the autotest's own key sequence (bytes incremented with carry, skipping keys whose primary
/// bucket is full when "all elements in primary location"), shuffled; then per key size (4, 8, 16, 32, 48, 64, 9,
/// 13, 37, 40 bytes), without and with 8-byte data, without and with precomputed hashes: TSC cycles per add, per
/// lookup (5 passes over the keys), per lookup in bursts of 16, and per delete, printed in the autotest's tables.
/// Run: <c>dotnet PacketPlane.Benchmarks.dll hash-perf</c> (benchmarks/compare/hash_perf.sh runs it beside DPDK).
/// </summary>
internal static class HashPerf
{
    private const int MaxEntries = 1 << 19;
    private const int KeysToAdd = (int)(MaxEntries * 0.75);
    private const int NumLookups = (int)(MaxEntries * 5 * 0.75);
    private const int BucketSize = 8;
    private const int NumBuckets = MaxEntries / BucketSize;
    private const int BurstSize = 16;
    private static readonly int[] KeySizes = [4, 8, 16, 32, 48, 64, 9, 13, 37, 40];

    // cycles[keySizeIndex, operation, withHash, withData]; operations: add, lookup, lookup bulk, delete
    private static readonly long[,,,] s_cycles = new long[KeySizes.Length, 4, 2, 2];

    /// <summary>Arguments: optional key sizes to run (default all ten), e.g. <c>hash-perf 16 48</c>.</summary>
    public static int Run(string[] args)
    {
        var only = new System.Collections.Generic.HashSet<int>(Array.ConvertAll(args, int.Parse));
        using Eal eal = Eal.Init(["-l", "0", "--", .. args], out _);   // pinned to CPU 0, like dpdk-test -l 0
        Console.WriteLine($"TSC {CycleClock.TscHz / 1e6:0.###} MHz from {CycleClock.Source}");
        Console.WriteLine();
        Console.WriteLine("Without locks in the code");
        for (int withPushes = 0; withPushes <= 1; withPushes++)
        {
            Console.WriteLine();
            Console.WriteLine(withPushes == 0 ? "ALL ELEMENTS IN PRIMARY LOCATION" : "ELEMENTS IN PRIMARY OR SECONDARY LOCATION");
            Console.Write("Measuring performance, please wait");
            for (int withData = 0; withData <= 1; withData++)
            {
                for (int i = 0; i < KeySizes.Length; i++)
                {
                    if (only.Count == 0 || only.Contains(KeySizes[i]))
                        RunKeySize(i, withPushes == 1, withData == 1);
                }
            }
            PrintResults();
        }
        return 0;
    }

    private static void RunKeySize(int index, bool withPushes, bool withData)
    {
        switch (KeySizes[index])
        {
            case 4: Run<Key4>(index, withPushes, withData); break;
            case 8: Run<Key8>(index, withPushes, withData); break;
            case 9: Run<Key9>(index, withPushes, withData); break;
            case 13: Run<Key13>(index, withPushes, withData); break;
            case 16: Run<Key16>(index, withPushes, withData); break;
            case 32: Run<Key32>(index, withPushes, withData); break;
            case 37: Run<Key37>(index, withPushes, withData); break;
            case 40: Run<Key40>(index, withPushes, withData); break;
            case 48: Run<Key48>(index, withPushes, withData); break;
            default: Run<Key64>(index, withPushes, withData); break;
        }
    }

    private static void Run<TKey>(int index, bool withPushes, bool withData) where TKey : unmanaged
    {
        if (withData)
            new Runner<TKey, ulong>(index, withPushes, withData).Run();
        else
            new Runner<TKey, byte>(index, withPushes, withData).Run();
    }

    private static void PrintResults()
    {
        Console.WriteLine();
        Console.WriteLine("Results (in CPU cycles/operation)");
        Console.WriteLine("-----------------------------------");
        for (int withData = 0; withData <= 1; withData++)
        {
            Console.WriteLine(withData == 1 ? "\n Operations with 8-byte data" : "\n Operations without data");
            for (int withHash = 0; withHash <= 1; withHash++)
            {
                Console.WriteLine(withHash == 1 ? "\nWith pre-computed hash values" : "\nWithout pre-computed hash values");
                Console.WriteLine($"\n{"Keysize",-18}{"Add",-18}{"Lookup",-18}{"Lookup_bulk",-18}{"Delete",-18}");
                for (int i = 0; i < KeySizes.Length; i++)
                {
                    Console.Write($"{KeySizes[i],-18}");
                    for (int op = 0; op < 4; op++)
                        Console.Write($"{s_cycles[i, op, withHash, withData],-18}");
                    Console.WriteLine();
                }
            }
        }
    }

    /// <summary>One key size, with or without data: the autotest's create / get_input_keys / timed_* sequence.</summary>
    private sealed class Runner<TKey, TValue>(int index, bool withPushes, bool withData)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        private readonly TKey[] _keys = new TKey[KeysToAdd];
        private readonly uint[] _signatures = new uint[KeysToAdd];
        private readonly int[] _positions = new int[KeysToAdd];
        private CuckooHash<TKey, TValue> _table = null!;

        public void Run()
        {
            WarmUp();
            _table = Create();
            GetInputKeys();
            for (int withHash = 0; withHash <= 1; withHash++)
            {
                TimedAdds(withHash == 1);
                for (int shuffle = 0; shuffle < 10; shuffle++)
                    Shuffle();
                TimedLookups(withHash == 1);
                TimedLookupsMulti(withHash == 1);
                TimedDeletes(withHash == 1);
                Console.Write(".");
                _table.Reset();
            }
            _table.Dispose();
        }

        private static CuckooHash<TKey, TValue> Create() => CuckooHash<TKey, TValue>.Create($"perf{sizeof_()}",
            new CuckooHashOptions { Entries = MaxEntries, HashFunction = HashFunction.Jhash, HashSeed = 0 });

        private static int sizeof_() => Unsafe.SizeOf<TKey>();

        /// <summary>
        /// Every generic instantiation is compiled separately: run the whole sequence on a small table until the
        /// tiered JIT has nothing left to compile, so the timed run measures steady state as the C build does.
        /// </summary>
        private void WarmUp()
        {
            using var table = CuckooHash<TKey, TValue>.Create($"warm{sizeof_()}", new CuckooHashOptions { Entries = 1 << 14, HashFunction = HashFunction.Jhash });
            int n = 8192;
            var keys = new TKey[n];
            var hashes = new uint[n];
            var positions = new int[BurstSize];
            var values = new TValue[BurstSize];
            for (int i = 0; i < n; i++)
            {
                keys[i] = KeyFromId((ulong)i * 2654435761);
                hashes[i] = table.ComputeHash(keys[i]);
            }
            JitSettle.Run(() =>
            {
                for (int rep = 0; rep < 4; rep++)
                {
                    for (int i = 0; i < n; i++)
                        table.AddOrUpdate(keys[i], hashes[i], default, out _);
                    for (int i = 0; i < n; i++)
                        table.AddOrUpdate(keys[i], default(TValue), out _);
                    for (int i = 0; i < n; i++)
                        _ = table.Lookup(keys[i]) + table.Lookup(keys[i], hashes[i]) + (table.TryGetValue(keys[i], out _) ? 1 : 0) + (table.TryGetValue(keys[i], hashes[i], out _) ? 1 : 0);
                    for (int i = 0; i + BurstSize <= n; i += BurstSize)
                    {
                        table.LookupBulk(keys.AsSpan(i, BurstSize), positions);
                        table.LookupBulk(keys.AsSpan(i, BurstSize), hashes.AsSpan(i, BurstSize), positions);
                        table.LookupBulkData(keys.AsSpan(i, BurstSize), values);
                        table.LookupBulkData(keys.AsSpan(i, BurstSize), hashes.AsSpan(i, BurstSize), values);
                    }
                    for (int i = 0; i < n; i += 2)
                        table.Remove(keys[i], hashes[i], out _);
                    for (int i = 1; i < n; i += 2)
                        table.Remove(keys[i], out _);
                }
                table.Reset();
            });
        }

        private static TKey KeyFromId(ulong id)
        {
            TKey key = default;
            Span<byte> bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref key, 1));
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = (byte)(id >> (8 * (i % 8)) ^ (ulong)i);
            return key;
        }

        /// <summary>The autotest's get_input_keys: the same key sequence, so the same keys.</summary>
        private void GetInputKeys()
        {
            var slotTaken = new bool[MaxEntries];
            var buckets = new byte[NumBuckets];
            int keyLength = Unsafe.SizeOf<TKey>();
            byte k = 0;
            bool success = true;
            for (int i = 0; i < KeysToAdd;)
            {
                Span<byte> key = Bytes(ref _keys[i]);
                if (i != 0)
                {
                    ReadOnlySpan<byte> previous = Bytes(ref _keys[i - 1]);
                    key[0] = ++k;
                    bool carry = key[0] == 0;
                    for (int j = 1; j < keyLength; j++)
                    {
                        byte baseByte = success ? previous[j] : key[j];
                        key[j] = carry ? (byte)(baseByte + 1) : baseByte;
                        carry = carry && key[j] == 0;
                    }
                }
                success = false;
                _signatures[i] = _table.ComputeHash(_keys[i]);
                uint bucket = _signatures[i] & (NumBuckets - 1);
                if (!withPushes && buckets[bucket] == BucketSize)
                    continue;
                if (_table.AddOrUpdate(_keys[i], _signatures[i], default, out int position) != HashAddStatus.NoSpace && !slotTaken[position])
                {
                    slotTaken[position] = true;
                    _positions[i] = position;
                    buckets[bucket]++;
                    success = true;
                    i++;
                }
            }
            _table.Dispose();
            _table = Create();
        }

        private static Span<byte> Bytes(ref TKey key) => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref key, 1));

        private static TValue Data(uint signature)
        {
            TValue value = default;
            if (Unsafe.SizeOf<TValue>() == sizeof(ulong))
                Unsafe.As<TValue, ulong>(ref value) = signature;
            return value;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TimedAdds(bool withHash)
        {
            long begin = Stopwatch.GetTimestamp();
            for (int i = 0; i < KeysToAdd; i++)
            {
                TValue data = Data(_signatures[i]);
                HashAddStatus status = withHash
                    ? _table.AddOrUpdate(_keys[i], _signatures[i], data, out int position)
                    : _table.AddOrUpdate(_keys[i], data, out position);
                if (status == HashAddStatus.NoSpace)
                    throw new InvalidOperationException($"failed to add key number {i}");
                _positions[i] = position;
            }
            Record(0, withHash, Stopwatch.GetTimestamp() - begin, KeysToAdd);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TimedLookups(bool withHash)
        {
            long begin = Stopwatch.GetTimestamp();
            for (int pass = 0; pass < NumLookups / KeysToAdd; pass++)
            {
                for (int j = 0; j < KeysToAdd; j++)
                {
                    if (withData)
                    {
                        bool found = withHash ? _table.TryGetValue(_keys[j], _signatures[j], out TValue data) : _table.TryGetValue(_keys[j], out data);
                        if (!found || Unsafe.As<TValue, ulong>(ref data) != _signatures[j])
                            throw new InvalidOperationException($"key number {j} was not found or has the wrong data");
                    }
                    else
                    {
                        int position = withHash ? _table.Lookup(_keys[j], _signatures[j]) : _table.Lookup(_keys[j]);
                        if (position != _positions[j])
                            throw new InvalidOperationException($"key looked up in {position}, should be in {_positions[j]}");
                    }
                }
            }
            Record(1, withHash, Stopwatch.GetTimestamp() - begin, NumLookups);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TimedLookupsMulti(bool withHash)
        {
            Span<int> positions = stackalloc int[BurstSize];
            Span<TValue> values = new TValue[BurstSize];
            long begin = Stopwatch.GetTimestamp();
            for (int pass = 0; pass < NumLookups / KeysToAdd; pass++)
            {
                for (int j = 0; j < KeysToAdd / BurstSize; j++)
                {
                    ReadOnlySpan<TKey> burst = _keys.AsSpan(j * BurstSize, BurstSize);
                    ReadOnlySpan<uint> hashes = _signatures.AsSpan(j * BurstSize, BurstSize);
                    if (withData)
                    {
                        ulong hits = withHash ? _table.LookupBulkData(burst, hashes, values) : _table.LookupBulkData(burst, values);
                        if (hits != (1UL << BurstSize) - 1)
                            throw new InvalidOperationException("a burst key was not found");
                        for (int k = 0; k < BurstSize; k++)
                        {
                            if (Unsafe.As<TValue, ulong>(ref values[k]) != hashes[k])
                                throw new InvalidOperationException("a burst key has the wrong data");
                        }
                    }
                    else
                    {
                        if (withHash)
                            _table.LookupBulk(burst, hashes, positions);
                        else
                            _table.LookupBulk(burst, positions);
                        for (int k = 0; k < BurstSize; k++)
                        {
                            if (positions[k] != _positions[j * BurstSize + k])
                                throw new InvalidOperationException($"key looked up in {positions[k]}, should be in {_positions[j * BurstSize + k]}");
                        }
                    }
                }
            }
            Record(2, withHash, Stopwatch.GetTimestamp() - begin, NumLookups);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TimedDeletes(bool withHash)
        {
            long begin = Stopwatch.GetTimestamp();
            for (int i = 0; i < KeysToAdd; i++)
            {
                bool removed = withHash ? _table.Remove(_keys[i], _signatures[i], out int position) : _table.Remove(_keys[i], out position);
                if (!removed)
                    throw new InvalidOperationException($"failed to delete key number {i}");
                _positions[i] = position;
            }
            Record(3, withHash, Stopwatch.GetTimestamp() - begin, KeysToAdd);
        }

        private void Shuffle()
        {
            for (int i = KeysToAdd - 1; i > 0; i--)
            {
                int swap = (int)(Random.Shared.NextInt64() % i);
                (_keys[i], _keys[swap]) = (_keys[swap], _keys[i]);
                (_signatures[i], _signatures[swap]) = (_signatures[swap], _signatures[i]);
                (_positions[i], _positions[swap]) = (_positions[swap], _positions[i]);
            }
        }

        /// <summary>Integer cycles per operation, as the autotest divides.</summary>
        private void Record(int operation, bool withHash, long ticks, int operations) =>
            s_cycles[index, operation, withHash ? 1 : 0, withData ? 1 : 0] = (long)(CycleClock.Cycles(ticks) / operations);
    }
}
