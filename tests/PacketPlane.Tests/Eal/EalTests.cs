using System;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.Tests.Eal;

/// <summary>Only one EAL exists per process, so these tests run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EalCollection
{
    public const string Name = "EAL";
}

[Collection(EalCollection.Name)]
public class EalTests
{
    [Fact]
    public void Init_pins_lcores_launches_work_and_tears_down()
    {
        int cpus = CpuSet.ProcessAllowed().Count;
        string list = cpus > 1 ? "0-1" : "0";
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["-l", list, "--no-huge", "--", "app"], out string[] app))
        {
            Assert.Same(eal, PacketPlane.Eal.Current);
            Assert.Equal(["app"], app);
            Assert.Equal(0, eal.MainLcore.Id);
            Assert.Equal(0, Lcore.CurrentId);
            Assert.Equal(eal.MainLcore.Cpu, PacketPlane.Interop.Libc.sched_getcpu()); // the caller is pinned
            foreach (Lcore worker in eal.WorkerLcores)
            {
                int seenCpu = -1, seenLcore = -2;
                eal.RemoteLaunch(worker.Id, () =>
                {
                    seenCpu = PacketPlane.Interop.Libc.sched_getcpu();
                    seenLcore = Lcore.CurrentId;
                    return 42;
                });
                Assert.Equal(42, eal.Wait(worker.Id));
                Assert.Equal(worker.Cpu, seenCpu);
                Assert.Equal(worker.Id, seenLcore);
            }
        }
        Assert.Null(PacketPlane.Eal.Current);
        Assert.Equal(Lcore.IdAny, Lcore.CurrentId);
    }

    [Fact]
    public void Launch_on_all_includes_main_when_asked_and_reports_results()
    {
        using PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { NoHuge = true });
        int calls = 0;
        eal.LaunchOnAll(() => Interlocked.Increment(ref calls) > 0 ? Lcore.CurrentId + 100 : 0, includeMain: true);
        var results = eal.WaitAll();
        Assert.Equal(eal.Lcores.Count, calls);
        Assert.All(results, kv => Assert.Equal(kv.Key + 100, kv.Value));
    }

    [Fact]
    public void An_exception_on_a_worker_surfaces_at_wait()
    {
        using PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { NoHuge = true });
        Lcore? worker = eal.WorkerLcores.FirstOrDefault();
        if (worker is null)
            return; // single-CPU machine: nothing to launch remotely
        eal.RemoteLaunch(worker.Id, () => throw new InvalidDataException("boom"));
        var e = Assert.Throws<PacketPlaneException>(() => eal.Wait(worker.Id));
        Assert.IsType<InvalidDataException>(e.InnerException);
        Assert.Contains("boom", e.Message);
    }

    [Fact]
    public void Lcore_outside_the_allowed_cpus_is_refused_naming_the_allowed_set()
    {
        var e = Assert.Throws<EalArgumentException>(() => PacketPlane.Eal.Init(["-l", "1000"], out _));
        Assert.Contains("CPU 1000", e.Message);
        Assert.Contains("allowed CPUs: " + CpuSet.ProcessAllowed(), e.Message);
        Assert.Null(PacketPlane.Eal.Current);
    }

    [Fact]
    public void Second_init_is_refused_until_the_first_is_disposed()
    {
        using (PacketPlane.Eal.Init(new EalOptions { NoHuge = true }))
        {
            var e = Assert.Throws<PacketPlaneException>(() => PacketPlane.Eal.Init(new EalOptions()));
            Assert.Contains("already initialised", e.Message);
        }
        using PacketPlane.Eal again = PacketPlane.Eal.Init(new EalOptions { NoHuge = true });
        Assert.Same(again, PacketPlane.Eal.Current);
    }

    [Fact]
    public void Hugepage_memory_that_is_not_reserved_fails_with_the_command_that_reserves_it()
    {
        var e = Assert.Throws<MemoryAllocationException>(() => PacketPlane.Eal.Init(["-m", "1000000"], out _));
        Assert.Contains("/proc/sys/vm/nr_hugepages", e.Message);
        Assert.Contains("--no-huge", e.Message);
        Assert.Null(PacketPlane.Eal.Current);
    }

    [Fact]
    public void Vdevs_become_ports_and_teardown_closes_ports_before_pools()
    {
        MbufPool pool;
        EthDev port;
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(["--no-huge", "--vdev", "net_null0", "--vdev", "net_null1,size=128"], out _))
        {
            Assert.Equal(["net_null0", "net_null1"], eal.Ports.Select(p => p.Name).ToArray());
            port = eal.Ports[1];
            pool = MbufPool.Create("eal_pool", 1024, 32);
            port.Configure(1, 1);
            port.SetupRxQueue(0, 256, pool);
            port.SetupTxQueue(0, 256);
            port.Start();
            var burst = new Packet[8];
            Assert.Equal(8, port.RxBurst(0, burst));
            Packet.FreeBulk(burst);
        }
        Assert.Equal(PortState.Closed, port.State);
        Assert.Null(EthDev.FindByName("net_null1"));
        Assert.Equal(0, pool.LeakedAtDispose);
    }

    [Fact]
    public void A_bad_vdev_fails_init_and_leaves_no_eal_behind()
    {
        var e = Assert.Throws<DeviceArgumentException>(() => PacketPlane.Eal.Init(["--vdev", "net_nope0"], out _));
        Assert.Contains("no driver for device 'net_nope0'", e.Message);
        Assert.Null(PacketPlane.Eal.Current);
    }
}
