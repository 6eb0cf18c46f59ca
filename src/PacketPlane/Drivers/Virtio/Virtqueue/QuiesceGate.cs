using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Internal;

namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// How a control thread takes a queue away from the lcore polling it without a lock on the datapath. The burst
/// announces itself and checks an "open" flag once; the control thread clears the flag and waits until no burst is
/// inside. Bursts never wait: a closed gate makes them return 0 at once.
/// </summary>
/// <remarks>
/// Dekker's pattern made asymmetric: the burst stores Busy then loads Open with no fence (plain x86 stores and
/// loads, a couple of cycles); the control thread stores Open, then runs a process-wide memory barrier
/// (membarrier: every CPU running one of our threads executes a full fence), then loads Busy. A burst whose load
/// of Open came before that barrier has its Busy store drained by it, so the control thread sees it busy; a burst
/// whose load came after sees Open cleared. The cost (a syscall with IPIs) is paid by the rare control-path
/// close, not by every burst. Used around anything the control thread tears down under a running queue:
/// vhost-user guest memory mappings, ring pointers, ring indexes re-synchronised on reconnect.
/// </remarks>
internal sealed class QuiesceGate
{
    [StructLayout(LayoutKind.Explicit, Size = CacheLine.GuardedSize * 2)]
    private struct Fields
    {
        // Busy is written by the polling lcore on every burst: keep it off the line Open lives on.
        [FieldOffset(CacheLine.GuardedSize - 8)] public int Busy;
        [FieldOffset(CacheLine.GuardedSize + 56)] public int Open;
    }

    private Fields _f;

    /// <summary>True while bursts may run.</summary>
    public bool IsOpen => Volatile.Read(ref _f.Open) != 0;

    /// <summary>Enters a burst; false (and nothing held) when the gate is closed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnter()
    {
        // Pairs with the process-wide barrier in Close (see the remarks): no fence needed on this side.
        Volatile.Write(ref _f.Busy, 1);
        if (Volatile.Read(ref _f.Open) != 0)
            return true;
        Volatile.Write(ref _f.Busy, 0);
        return false;
    }

    /// <summary>Leaves a burst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit()
    {
        // Release: everything the burst did to the ring is visible before the control thread sees it idle; pairs
        // with the acquire load of Busy in Close.
        Volatile.Write(ref _f.Busy, 0);
    }

    /// <summary>Lets bursts run. Release: state set up before this is visible to the next burst.</summary>
    public void Open() => Volatile.Write(ref _f.Open, 1);

    /// <summary>
    /// Stops new bursts and waits for one in flight to finish (a burst is microseconds; a thread pre-empted inside
    /// one is waited for up to <paramref name="timeout"/>). Returns false if a burst was still inside at the end.
    /// </summary>
    public bool Close(TimeSpan timeout)
    {
        Volatile.Write(ref _f.Open, 0);
        // Every CPU of the process executes a full fence: pairs with the unfenced Busy store + Open load in TryEnter.
        Interlocked.MemoryBarrierProcessWide();
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var spin = new SpinWait();
        while (Volatile.Read(ref _f.Busy) != 0)
        {
            if (Stopwatch.GetTimestamp() > deadline)
                return false;
            spin.SpinOnce();
        }
        return true;
    }
}
