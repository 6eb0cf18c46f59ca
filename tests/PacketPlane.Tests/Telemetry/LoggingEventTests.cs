using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Telemetry;
using PacketPlane.Tests.Eal;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>Control-path points log structured events with stable ids through the application's ILoggerFactory.</summary>
[Collection(EalCollection.Name)]
public class LoggingEventTests
{
    [Fact]
    public void Port_lifecycle_logs_each_step_with_its_event_id_and_properties()
    {
        var logs = new CapturingLoggerFactory();
        using (PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { NoHuge = true, LoggerFactory = logs }))
        {
            using MbufPool pool = MbufPool.Create("log_pool", 1024, 0);
            using EthDev port = EthDev.Create("net_null41,size=64");
            port.Configure(1, 1);
            port.SetupRxQueue(0, 128, pool);
            port.SetupTxQueue(0, 128);
            port.Start();
            port.Stop();
            port.Close();
            port.Close(); // idempotent: no second event
        }

        int[] lifecycle = logs.Entries
            .Where(e => e.Properties.TryGetValue("Name", out object? n) && (string?)n == "net_null41")
            .Select(e => e.EventId.Id)
            .ToArray();
        Assert.Equal(new[]
        {
            LogEvents.DriverSelected.Id, LogEvents.PortCreated.Id, LogEvents.PortConfigured.Id,
            LogEvents.PortStarted.Id, LogEvents.PortStopped.Id, LogEvents.PortClosed.Id,
        }, lifecycle);
        Assert.Single(logs.WithEvent(LogEvents.EalInitialized));
        CapturingLoggerFactory.Entry created = logs.WithEvent(LogEvents.PortCreated).Single();
        Assert.Equal("net_null", created.Properties["Driver"]);
        Assert.Equal(LogLevel.Information, created.Level);
        Assert.Equal("PortCreated", created.EventId.Name);
        CapturingLoggerFactory.Entry configured = logs.WithEvent(LogEvents.PortConfigured).Single();
        Assert.Equal(1, configured.Properties["Rx"]);
    }

    [Fact]
    public void Hugepage_shortage_logs_the_fallback_event_with_the_fix()
    {
        var logs = new CapturingLoggerFactory();
        string fakeSys = Directory.CreateTempSubdirectory("pp_nohuge").FullName;
        string savedRoot = Hugepages.SysfsRoot;
        FieldInfo warned = typeof(MemoryRegion).GetField("s_smallPageWarningGiven", BindingFlags.NonPublic | BindingFlags.Static)!;
        object? savedWarned = warned.GetValue(null);
        bool savedAuto = MemoryRegion.AutoUsesSmallPages;
        try
        {
            // The unit-test module makes Auto mean small pages (so it never takes hugepages from the integration
            // tests); this test is about Auto looking for hugepages and falling back, so it turns that off.
            MemoryRegion.AutoUsesSmallPages = false;
            Hugepages.SysfsRoot = fakeSys; // a sysfs with no hugepages at all
            warned.SetValue(null, 0);
            using PacketPlane.Eal eal = PacketPlane.Eal.Init(new EalOptions { LoggerFactory = logs });
            using MbufPool pool = MbufPool.Create("log_fallback", 512, 0);
            Assert.False(pool.Region.IsHugepage);
        }
        finally
        {
            Hugepages.SysfsRoot = savedRoot;
            MemoryRegion.AutoUsesSmallPages = savedAuto;
            warned.SetValue(null, savedWarned);
            Directory.Delete(fakeSys, true);
        }
        CapturingLoggerFactory.Entry fallback = Assert.Single(logs.WithEvent(LogEvents.HugepageFallback));
        Assert.Equal(LogLevel.Warning, fallback.Level);
        Assert.Contains("nr_hugepages", fallback.Message); // names the command that fixes it
    }

    [Fact]
    public void Event_ids_are_unique_and_named_after_their_field()
    {
        var fields = typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.Name, Id: (EventId)f.GetValue(null)!)).ToArray();
        Assert.True(fields.Length >= 15);
        Assert.Equal(fields.Length, fields.Select(f => f.Id.Id).Distinct().Count());
        Assert.All(fields, f => Assert.Equal(f.Name, f.Id.Name));
    }
}
