using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using PacketPlane.Interop;

namespace PacketPlane;

/// <summary>What an lcore is doing, as DPDK's <c>rte_lcore_state_t</c>.</summary>
public enum LcoreState
{
    /// <summary>Idle, ready to be launched.</summary>
    Wait,

    /// <summary>Running a launched function.</summary>
    Running,

    /// <summary>Finished; its result is waiting to be collected by <see cref="Eal.Wait"/>.</summary>
    Finished,
}

/// <summary>
/// A logical core: a dedicated OS thread pinned to one CPU (the main lcore is the thread that called
/// <see cref="Eal.Init(EalOptions)"/>, pinned too). Functions are launched onto it and waited for.
/// </summary>
public sealed unsafe class Lcore
{
    /// <summary>Lcore id of a thread that is not an lcore (DPDK's LCORE_ID_ANY).</summary>
    public const int IdAny = -1;

    [ThreadStatic]
    private static int t_idPlusOne;

    private readonly object _gate = new();
    private Thread? _thread;
    private Func<int>? _work;
    private int _result;
    private ExceptionDispatchInfo? _failure;
    private bool _exit;

    internal Lcore(int id, int cpu, bool isMain)
    {
        Id = id;
        Cpu = cpu;
        IsMain = isMain;
        NumaNode = Numa.NodeOfCpu(cpu);
    }

    /// <summary>Lcore id.</summary>
    public int Id { get; }

    /// <summary>CPU the lcore's thread is pinned to.</summary>
    public int Cpu { get; }

    /// <summary>NUMA node of <see cref="Cpu"/>.</summary>
    public int NumaNode { get; }

    /// <summary>True for the caller's thread.</summary>
    public bool IsMain { get; }

    /// <summary>Current state.</summary>
    public LcoreState State { get; private set; } = LcoreState.Wait;

    /// <summary>
    /// Lcore id of the calling thread, or <see cref="IdAny"/> for threads that are not lcores. Read it once
    /// per burst or per loop, not per packet.
    /// </summary>
    public static int CurrentId => t_idPlusOne - 1;

    internal static void SetCurrent(int id) => t_idPlusOne = id + 1;

    internal void StartThread()
    {
        _thread = new Thread(ThreadMain) { IsBackground = true, Name = $"lcore-{Id}" };
        _thread.Start();
    }

    /// <summary>Pins the calling thread to <paramref name="cpu"/>; false when the kernel refuses.</summary>
    internal static bool PinCurrentThread(int cpu)
    {
        const int words = 16;
        ulong* mask = stackalloc ulong[words];
        new Span<ulong>(mask, words).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return Libc.sched_setaffinity(0, words * sizeof(ulong), mask) == 0;
    }

    internal void Launch(Func<int> work)
    {
        lock (_gate)
        {
            if (State != LcoreState.Wait)
                throw new InvalidOperationException($"lcore {Id} is {State}; wait for it before launching again");
            _work = work;
            _failure = null;
            State = LcoreState.Running;
            Monitor.PulseAll(_gate);
        }
    }

    internal void RunOnCaller(Func<int> work)
    {
        lock (_gate)
        {
            if (State != LcoreState.Wait)
                throw new InvalidOperationException($"lcore {Id} is {State}; wait for it before launching again");
            State = LcoreState.Running;
        }
        Complete(Execute(work));
    }

    internal int Wait()
    {
        lock (_gate)
        {
            while (State == LcoreState.Running)
                Monitor.Wait(_gate);
            if (State == LcoreState.Wait)
                return 0;
            State = LcoreState.Wait;
            ExceptionDispatchInfo? failure = _failure;
            _failure = null;
            if (failure is not null)
                throw new PacketPlaneException($"the function launched on lcore {Id} threw {failure.SourceException.GetType().Name}: {failure.SourceException.Message}", failure.SourceException);
            return _result;
        }
    }

    internal void Stop()
    {
        lock (_gate)
        {
            _exit = true;
            Monitor.PulseAll(_gate);
        }
        _thread?.Join();
    }

    private void ThreadMain()
    {
        SetCurrent(Id);
        PinCurrentThread(Cpu);
        while (true)
        {
            Func<int> work;
            lock (_gate)
            {
                while (_work is null && !_exit)
                    Monitor.Wait(_gate);
                if (_work is null)
                    return;
                work = _work;
                _work = null;
            }
            Complete(Execute(work));
        }
    }

    private (int, ExceptionDispatchInfo?) Execute(Func<int> work)
    {
        try
        {
            return (work(), null);
        }
        catch (Exception e)
        {
            return (0, ExceptionDispatchInfo.Capture(e));
        }
    }

    private void Complete((int Result, ExceptionDispatchInfo? Failure) outcome)
    {
        lock (_gate)
        {
            _result = outcome.Result;
            _failure = outcome.Failure;
            State = LcoreState.Finished;
            Monitor.PulseAll(_gate);
        }
    }
}
