using System;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.DeviceModels.Common;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Pci;

/// <summary>
/// A TAP interface opened by a NIC model (its wire) and moved into a fresh network namespace, where rawsock.py
/// sends test frames out of it (they reach the model, then the driver) and captures what comes back (the driver
/// echoes every frame, the model transmits it to the TAP, the kernel receives it). Only names and addresses this
/// test creates are touched.
/// </summary>
internal sealed class TapBridge : IDisposable
{
    private static int s_counter;

    private TapBridge(string ns, TapWire tap)
    {
        Namespace = ns;
        Tap = tap;
    }

    public string Namespace { get; }

    public TapWire Tap { get; }

    public static TapBridge Create()
    {
        int n = Interlocked.Increment(ref s_counter);
        string tag = $"{Environment.ProcessId % 10000}m{n}";
        string ns = $"ppmodel{tag}";
        Shell.Run($"ip netns add {ns}");
        TapWire? tap = null;
        try
        {
            tap = new TapWire($"pptap{tag}");
            Shell.Run($"ip link set {tap.Name} netns {ns}");
            Shell.Run($"ip netns exec {ns} sysctl -qw net.ipv6.conf.{tap.Name}.disable_ipv6=1");
            Shell.Run($"ip -n {ns} link set {tap.Name} multicast off up");
            return new TapBridge(ns, tap);
        }
        catch
        {
            tap?.Dispose();
            Shell.TryRun($"ip netns del {ns}");
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> test frames from the namespace through the TAP, while <paramref name="port"/>'s
    /// queue 0 echoes whatever it receives, and returns the frames the namespace got back.
    /// </summary>
    public string[] EchoThroughDriver(EthDev port, int count, int size, int seed, Action checkModel)
    {
        string outFile = Path.Combine(Path.GetTempPath(), $"pp-tap-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}.hex");
        using var recv = Shell.Start($"ip netns exec {Namespace} /usr/bin/python3 {TestFrames.RawSockScript} recv {Tap.Name} {count} 60 {outFile}");
        Thread.Sleep(500); // let the receiver bind before frames fly
        using var send = Shell.Start($"ip netns exec {Namespace} /usr/bin/python3 {TestFrames.RawSockScript} send {Tap.Name} {count} {size} {seed} 20000");
        var burst = new Packet[32];
        int echoed = 0;
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (echoed < count && DateTime.UtcNow < deadline)
        {
            int n = port.RxBurst(0, burst);
            int sent = 0;
            while (sent < n)
                sent += port.TxBurst(0, burst.AsSpan(sent, n - sent));
            echoed += n;
            if (n == 0)
            {
                checkModel();
                Thread.Sleep(1);
            }
        }
        Assert.True(recv.WaitForExit(70_000), "rawsock recv did not finish");
        send.WaitForExit(10_000);
        try
        {
            return File.Exists(outFile) ? File.ReadAllLines(outFile).Where(l => l.Length > 0).ToArray() : [];
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    public void Dispose()
    {
        Tap.Dispose();
        Shell.TryRun($"ip netns del {Namespace}");
    }
}
