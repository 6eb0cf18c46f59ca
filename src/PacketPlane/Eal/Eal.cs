using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;
using PacketPlane.Interop;

namespace PacketPlane;

/// <summary>
/// The environment abstraction layer: lcores (pinned threads), memory policy (hugepages or 4 KiB pages,
/// NUMA, IOVA mode) and the devices named on the command line. One per process, like DPDK's
/// <c>rte_eal_init</c>; dispose it to tear everything down in order (ports, then pools, then memory, then
/// lcores). Rings, pools and tables also work without an <see cref="Eal"/>, with default memory policy.
/// </summary>
public sealed partial class Eal : IDisposable
{
    private static Eal? s_current;
    private static readonly object s_initLock = new();

    private readonly Dictionary<int, Lcore> _lcores;
    private readonly List<(TeardownStage Stage, IDisposable Item)> _owned = new();
    private readonly ILogger _log;
    private readonly int _mainThreadTid;
    private readonly ulong[] _mainThreadAffinity;
    private int _disposed;

    private Eal(EalOptions options, Dictionary<int, Lcore> lcores, Lcore main, ulong[] mainAffinity, ILogger log)
    {
        Options = options;
        _lcores = lcores;
        MainLcore = main;
        _mainThreadAffinity = mainAffinity;
        _mainThreadTid = GetTid();
        _log = log;
    }

    /// <summary>The initialised EAL, or null before <c>Init</c> and after <c>Dispose</c>.</summary>
    public static Eal? Current => Volatile.Read(ref s_current);

    /// <summary>The options the EAL was initialised with.</summary>
    public EalOptions Options { get; }

    /// <summary>The main lcore (the thread that called Init).</summary>
    public Lcore MainLcore { get; }

    /// <summary>Every lcore, ascending by id.</summary>
    public IReadOnlyList<Lcore> Lcores => _lcores.Values.OrderBy(l => l.Id).ToArray();

    /// <summary>Worker lcores (all but the main one), ascending by id.</summary>
    public IReadOnlyList<Lcore> WorkerLcores => Lcores.Where(l => !l.IsMain).ToArray();

    /// <summary>
    /// Initialises from DPDK-style arguments: EAL arguments, then <c>--</c>, then the application's.
    /// </summary>
    public static Eal Init(string[] args, out string[] applicationArgs) =>
        Init(EalArguments.Parse(args, out applicationArgs));

    /// <summary>Initialises from an options object.</summary>
    /// <exception cref="EalArgumentException">An lcore outside the allowed CPU set, or inconsistent options.</exception>
    /// <exception cref="MemoryAllocationException">Hugepages requested but not reserved (the message carries the command).</exception>
    public static Eal Init(EalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (s_initLock)
        {
            if (s_current is not null)
                throw new PacketPlaneException("the EAL is already initialised in this process; dispose the existing Eal before calling Init again");
            if (options.LoggerFactory is not null)
                Log.Factory = options.LoggerFactory;
            Log.MinimumLevel = options.LogLevel;
            ILogger log = Log.For("PacketPlane.Eal");

            CheckHugepageRequirement(options);
            Dictionary<int, Lcore> lcores = CreateLcores(options, out Lcore main);
            ulong[] saved = SaveCallerAffinity();
            if (!Lcore.PinCurrentThread(main.Cpu))
                log.LogWarning("could not pin the main lcore {Lcore} to CPU {Cpu}: {Error}", main.Id, main.Cpu, Libc.Describe(Libc.LastErrno));
            Lcore.SetCurrent(main.Id);
            foreach (Lcore worker in lcores.Values.Where(l => !l.IsMain))
                worker.StartThread();

            var eal = new Eal(options, lcores, main, saved, log);
            s_current = eal;
            log.LogInformation(PacketPlane.Telemetry.LogEvents.EalInitialized, "EAL: {Count} lcore(s) [{Lcores}], main lcore {Main} on CPU {Cpu}, memory {Memory}, IOVA {Iova}",
                lcores.Count, string.Join(",", lcores.Values.OrderBy(l => l.Id).Select(l => $"{l.Id}@{l.Cpu}")),
                main.Id, main.Cpu, options.NoHuge ? "4 KiB pages" : options.RequiresHugepages ? "hugepages" : "hugepages if free",
                options.IovaMode == IovaMode.VirtualAddress ? "va" : "pa");
            try
            {
                eal.ProbeDevices();
                eal.StartServices();
            }
            catch
            {
                eal.Dispose();
                throw;
            }
            return eal;
        }
    }

    /// <summary>The lcore with <paramref name="lcoreId"/>.</summary>
    public Lcore GetLcore(int lcoreId)
    {
        if (!_lcores.TryGetValue(lcoreId, out Lcore? lcore))
            throw new ArgumentOutOfRangeException(nameof(lcoreId), $"lcore {lcoreId} is not enabled; enabled lcores: {string.Join(",", _lcores.Keys.Order())}");
        return lcore;
    }

    /// <summary>Runs <paramref name="work"/> on worker lcore <paramref name="lcoreId"/> (rte_eal_remote_launch).</summary>
    public void RemoteLaunch(int lcoreId, Func<int> work)
    {
        ThrowIfDisposed();
        Lcore lcore = GetLcore(lcoreId);
        if (lcore.IsMain)
            throw new InvalidOperationException($"lcore {lcoreId} is the main lcore; call the function directly, or use LaunchOnAll with includeMain");
        lcore.Launch(work);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on every worker lcore, and on the main lcore (in the caller's thread,
    /// after the workers started) when <paramref name="includeMain"/> is true. Then wait with <see cref="WaitAll"/>.
    /// </summary>
    public void LaunchOnAll(Func<int> work, bool includeMain)
    {
        ThrowIfDisposed();
        foreach (Lcore worker in WorkerLcores)
            worker.Launch(work);
        if (includeMain)
            MainLcore.RunOnCaller(work);
    }

    /// <summary>Waits for the lcore to finish and returns the function's result (rte_eal_wait_lcore).</summary>
    /// <exception cref="PacketPlaneException">The launched function threw; the original is the inner exception.</exception>
    public int Wait(int lcoreId) => GetLcore(lcoreId).Wait();

    /// <summary>Waits for every lcore; returns their results by lcore id.</summary>
    public IReadOnlyDictionary<int, int> WaitAll()
    {
        var results = new SortedDictionary<int, int>();
        foreach (Lcore lcore in Lcores)
            results[lcore.Id] = lcore.Wait();
        return results;
    }

    /// <summary>Memory options every region created under this EAL uses.</summary>
    public MemoryRegionOptions RegionOptions(int numaNode) => new()
    {
        Pages = Options.NoHuge ? PagePolicy.SmallPages : Options.RequiresHugepages ? PagePolicy.RequireHugepages : PagePolicy.Auto,
        NumaNode = numaNode,
        IovaMode = Options.IovaMode,
    };

    /// <summary>
    /// Creates a memory region under the EAL's policy, owned by the EAL (freed at its teardown unless
    /// disposed earlier).
    /// </summary>
    public MemoryRegion AllocateRegion(string name, long size, int numaNode = -1)
    {
        ThrowIfDisposed();
        MemoryRegion region = MemoryRegion.Create(name, size, RegionOptions(numaNode));
        Own(region, TeardownStage.Memory);
        return region;
    }

    /// <summary>
    /// Memory for <paramref name="name"/> under the current EAL's policy, or the default policy (hugepages if
    /// free, else 4 KiB pages) when there is no EAL. Pools and tables call this.
    /// </summary>
    internal static MemoryRegion AllocateMemory(string name, long size, int numaNode)
    {
        Eal? eal = Current;
        return eal is null
            ? MemoryRegion.Create(name, size, new MemoryRegionOptions { NumaNode = numaNode })
            : eal.AllocateRegion(name, size, numaNode);
    }

    internal enum TeardownStage
    {
        Ports = 0,
        Pools = 1,
        Memory = 2,
    }

    internal void Own(IDisposable item, TeardownStage stage)
    {
        lock (_owned)
            _owned.Add((stage, item));
    }

    internal void Disown(IDisposable item)
    {
        lock (_owned)
            _owned.RemoveAll(o => ReferenceEquals(o.Item, item));
    }

    /// <summary>
    /// Tears down in order: ports, pools, memory, then the worker lcores; restores the caller's CPU
    /// affinity. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        (TeardownStage Stage, IDisposable Item)[] owned;
        lock (_owned)
        {
            owned = _owned.Select((o, index) => (o, index)).OrderBy(x => x.o.Stage).ThenByDescending(x => x.index).Select(x => x.o).ToArray();
            _owned.Clear();
        }
        foreach ((TeardownStage _, IDisposable item) in owned)
        {
            try
            {
                item.Dispose();
            }
            catch (Exception e)
            {
                _log.LogError(PacketPlane.Telemetry.LogEvents.EalTeardownFailed, e, "teardown of {Item} failed", item);
            }
        }
        foreach (Lcore worker in _lcores.Values.Where(l => !l.IsMain))
            worker.Stop();
        RestoreCallerAffinity();
        if (Lcore.CurrentId == MainLcore.Id)
            Lcore.SetCurrent(Lcore.IdAny);
        lock (s_initLock)
        {
            if (ReferenceEquals(s_current, this))
                s_current = null;
        }
        Log.Reset();
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            ThrowHelper.ThrowObjectDisposed(nameof(Eal));
    }

    private static Dictionary<int, Lcore> CreateLcores(EalOptions options, out Lcore main)
    {
        CpuSet allowed = CpuSet.ProcessAllowed();
        IDictionary<int, int> map = options.Lcores.Count > 0
            ? options.Lcores
            : allowed.Cpus.ToDictionary(c => c, c => c);
        foreach ((int lcore, int cpu) in map)
        {
            if (!allowed.Contains(cpu))
                throw new EalArgumentException($"lcore {lcore} asks for CPU {cpu}, which this process may not run on; allowed CPUs: {allowed} (see taskset/cgroup cpuset)");
        }
        int mainId = options.MainLcore ?? map.Keys.Min();
        if (!map.ContainsKey(mainId))
            throw new EalArgumentException($"--main-lcore {mainId} is not among the enabled lcores ({string.Join(",", map.Keys.Order())})");
        var lcores = map.ToDictionary(kv => kv.Key, kv => new Lcore(kv.Key, kv.Value, kv.Key == mainId));
        main = lcores[mainId];
        return lcores;
    }

    private static void CheckHugepageRequirement(EalOptions options)
    {
        if (!options.RequiresHugepages)
            return;
        if (options.MemoryMegabytes is long total)
        {
            long free = Hugepages.FreeBytes(Hugepages.Size2M);
            if (free < total << 20)
            {
                throw new MemoryAllocationException(
                    $"-m {total} asks for {total} MiB of hugepages but {free >> 20} MiB are free. Reserve them with: " +
                    $"{Hugepages.ReserveCommand((total << 20) - free)}  (or run with --no-huge)");
            }
        }
        for (int node = 0; node < options.SocketMemoryMegabytes.Count; node++)
        {
            long wanted = options.SocketMemoryMegabytes[node] << 20;
            if (wanted == 0)
                continue;
            long free = Hugepages.FreeBytes(Hugepages.Size2M, Numa.IsMultiNode ? node : -1);
            if (free < wanted)
            {
                throw new MemoryAllocationException(
                    $"--socket-mem asks for {wanted >> 20} MiB of hugepages on NUMA node {node} but {free >> 20} MiB are free. " +
                    $"Reserve them with: {Hugepages.ReserveCommand(wanted - free, Hugepages.Size2M, node)}  (or run with --no-huge)");
            }
        }
    }

    private static unsafe ulong[] SaveCallerAffinity()
    {
        var mask = new ulong[16];
        fixed (ulong* p = mask)
            Libc.sched_getaffinity(0, (nuint)(mask.Length * sizeof(ulong)), p);
        return mask;
    }

    private unsafe void RestoreCallerAffinity()
    {
        fixed (ulong* p = _mainThreadAffinity)
            Libc.sched_setaffinity(_mainThreadTid, (nuint)(_mainThreadAffinity.Length * sizeof(ulong)), p);
    }

    private static int GetTid()
    {
        long nr = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? 178 : 186;
        return (int)Libc.syscall(nr, 0, 0, 0, 0, 0, 0);
    }

    // Implemented by the ethdev layer: creates a port for every --vdev (and allowed PCI device).
    partial void ProbeDevices();
}
