using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace PacketPlane.Memory;

/// <summary>Debug-mode bookkeeping: which objects are out, where they were allocated, and double frees.</summary>
public sealed unsafe partial class MbufPool
{
    private DebugState? _debugState;

    private sealed class DebugState(int count, bool track)
    {
        public readonly object Gate = new();
        public readonly bool[] Allocated = new bool[count];
        public readonly string?[]? Sites = track ? new string?[count] : null;
        public long DoubleFrees;
    }

    /// <summary>Double frees caught and refused (debug mode only; always 0 otherwise).</summary>
    public long DoubleFreeCount => _debugState is null ? 0 : Interlocked.Read(ref _debugState.DoubleFrees);

    private void InitDebug(int count, bool track) => _debugState = new DebugState(count, track);

    private int IndexOf(Mbuf* m) => (int)(((byte*)m - _firstObject) / ElementSize);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MarkAllocated(Mbuf** objs, uint n)
    {
        DebugState state = _debugState!;
        string? site = state.Sites is null ? null : new StackTrace(2, fNeedFileInfo: true).ToString();
        lock (state.Gate)
        {
            for (uint i = 0; i < n; i++)
            {
                int index = IndexOf(objs[i]);
                state.Allocated[index] = true;
                if (state.Sites is not null)
                    state.Sites[index] = site;
            }
        }
    }

    /// <summary>
    /// Drops objects from the put that are already free (a double free), counting and logging each; the rest
    /// are compacted in place. False when nothing is left to put.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool CheckedForDoubleFree(ref Mbuf** objs, ref uint n)
    {
        DebugState state = _debugState!;
        uint kept = 0;
        lock (state.Gate)
        {
            for (uint i = 0; i < n; i++)
            {
                int index = IndexOf(objs[i]);
                if (!state.Allocated[index])
                {
                    Interlocked.Increment(ref state.DoubleFrees);
                    _log.LogError("double free of mbuf {Index} (0x{Address:x}) in pool {Name}, refused. Freed at:{NewLine}{Stack}",
                        index, (nint)objs[i], Name, Environment.NewLine, new StackTrace(3, fNeedFileInfo: true));
                    continue;
                }
                state.Allocated[index] = false;
                objs[kept++] = objs[i];
            }
        }
        n = kept;
        return kept > 0;
    }

    private string DescribeLeakSites()
    {
        DebugState state = _debugState!;
        lock (state.Gate)
        {
            if (state.Sites is null)
                return ". Create the pool with MbufPoolOptions { Debug = true, TrackAllocations = true } to see where they were allocated";
            IEnumerable<string> groups = state.Sites
                .Where((site, i) => state.Allocated[i] && site is not null)
                .GroupBy(site => site!)
                .OrderByDescending(g => g.Count())
                .Take(5)
                .Select(g => $"{Environment.NewLine}  {g.Count()} allocated at:{Environment.NewLine}{g.Key}");
            return string.Concat(groups);
        }
    }

    /// <summary>Allocation sites of the mbufs currently in use, grouped with their counts (tracking mode only).</summary>
    public IReadOnlyDictionary<string, int> OutstandingAllocationSites()
    {
        if (_debugState?.Sites is null)
            return new Dictionary<string, int>();
        lock (_debugState.Gate)
        {
            return _debugState.Sites
                .Where((site, i) => _debugState.Allocated[i] && site is not null)
                .GroupBy(site => site!)
                .ToDictionary(g => g.Key, g => g.Count());
        }
    }
}
