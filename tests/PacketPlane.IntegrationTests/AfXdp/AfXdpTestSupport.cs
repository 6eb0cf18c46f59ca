using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.AfXdp;

/// <summary>AF_XDP tests poll queues in tight loops on a 2-core machine: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AfXdpCollection
{
    public const string Name = "AF_XDP";
}

/// <summary>Opening ports, receiving frames, and reading an interface's XDP state for the AF_XDP tests.</summary>
internal static class AfXdpTestSupport
{
    private static int s_next = 500;

    /// <summary>Skips the test with <paramref name="reason"/> when <paramref name="condition"/> holds, or fails it under CI=true.</summary>
    public static void SkipUnlessCI(bool condition, string reason)
    {
        if (!condition)
            return;
        if (Prerequisites.IsCI)
            throw new InvalidOperationException($"CI=true and a prerequisite is missing: {reason}");
        Skip.If(true, "skipped: " + reason);
    }

    /// <summary>A device name no other test in this process uses.</summary>
    public static string NextName() => $"net_af_xdp{Interlocked.Increment(ref s_next)}";

    /// <summary>Creates, configures, sets up and starts a port.</summary>
    public static EthDev Open(string arguments, MbufPool pool, int queues = 1, int descriptors = 1024)
    {
        EthDev port = EthDev.Create($"{NextName()},{arguments}");
        try
        {
            port.Configure(queues, queues);
            for (int q = 0; q < queues; q++)
            {
                port.SetupRxQueue(q, descriptors, pool);
                port.SetupTxQueue(q, descriptors);
            }
            port.Start();
            return port;
        }
        catch
        {
            port.Close();
            throw;
        }
    }

    /// <summary>Polls <paramref name="queue"/> until <paramref name="count"/> frames arrived or the time is up; returns copies of their bytes.</summary>
    public static List<byte[]> Receive(EthDev port, int queue, int count, TimeSpan timeout, Action<Packet>? inspect = null)
    {
        var frames = new List<byte[]>();
        var burst = new Packet[32];
        var clock = Stopwatch.StartNew();
        while (frames.Count < count && clock.Elapsed < timeout)
        {
            int n = port.RxBurst(queue, burst);
            for (int i = 0; i < n; i++)
            {
                inspect?.Invoke(burst[i]);
                frames.Add(burst[i].Data.ToArray());
            }
            Packet.FreeBulk(burst.AsSpan(0, n));
            if (n == 0)
                Thread.Yield();
        }
        return frames;
    }

    /// <summary>The XDP state of <paramref name="iface"/> from rtnetlink.</summary>
    public static XdpLinkState XdpState(string iface)
    {
        uint index = Libc.if_nametoindex(iface);
        Assert.NotEqual(0u, index);
        return Netlink.QueryXdp((int)index);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the interface to carry no XDP program; returns the last state.</summary>
    public static XdpLinkState WaitForNoProgram(string iface, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        XdpLinkState state = XdpState(iface);
        while (state.HasProgram && clock.Elapsed < timeout)
        {
            Thread.Sleep(50);
            state = XdpState(iface);
        }
        return state;
    }

    /// <summary>Asserts the interface carries no XDP program, by rtnetlink and by <c>ip -d link show</c>.</summary>
    public static void AssertNoProgram(string iface)
    {
        XdpLinkState state = WaitForNoProgram(iface, TimeSpan.FromSeconds(5));
        Assert.False(state.HasProgram, $"{iface} still carries XDP program(s) {string.Join(",", state.ProgramIds)}");
        string details = Shell.Run($"ip -d link show dev {iface}");
        Assert.DoesNotContain("prog/xdp", details);
    }

    /// <summary>Sends test frames from the peer namespace with rawsock.py.</summary>
    public static void SendFromPeer(VethPair veth, int count, int size, int seed, double pps = 0) =>
        veth.InPeer($"/usr/bin/python3 {TestFrames.RawSockScript} send {veth.PeerInterface} {count} {size} {seed} {pps.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            TimeSpan.FromMinutes(5));

    /// <summary>Path of a file in the repository (walks up from the test assembly).</summary>
    public static string RepositoryFile(string relative)
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Compiles BPF C source with clang -O2 -target bpf -c; returns the object path.</summary>
    public static string CompileBpf(string source, string name, string extraFlags = "")
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ppxdp-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string c = Path.Combine(dir, name + ".c");
        string o = Path.Combine(dir, name + ".o");
        File.WriteAllText(c, source);
        Shell.Run($"clang -O2 {extraFlags} -target bpf -c {c} -o {o}");
        return o;
    }
}
