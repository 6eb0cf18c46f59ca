using System;
using System.Threading;

namespace PacketPlane.IntegrationTests.Infrastructure;

/// <summary>
/// A veth pair: one end (<see cref="HostInterface"/>) in this process's namespace for the PMD under test,
/// the other (<see cref="PeerInterface"/>) in a fresh network namespace where test traffic is sent and captured.
/// Names are unique per instance; everything is removed on dispose. Addresses come from 10.99.0.0/16 only.
/// </summary>
public sealed class VethPair : IDisposable
{
    private static int s_counter;

    private VethPair(string ns, string host, string peer)
    {
        Namespace = ns;
        HostInterface = host;
        PeerInterface = peer;
    }

    /// <summary>Network namespace holding the peer end.</summary>
    public string Namespace { get; }

    /// <summary>Interface in this process's namespace.</summary>
    public string HostInterface { get; }

    /// <summary>Interface inside <see cref="Namespace"/>.</summary>
    public string PeerInterface { get; }

    /// <summary>
    /// Creates the pair with <paramref name="queues"/> RX and TX queues per end, both ends up, IPv6 and
    /// multicast noise switched off so only test traffic crosses.
    /// </summary>
    public static VethPair Create(int queues = 1)
    {
        int n = Interlocked.Increment(ref s_counter);
        string tag = $"{Environment.ProcessId % 10000}x{n}";
        string ns = $"ppns{tag}";
        string host = $"pph{tag}";
        string peer = $"ppp{tag}";
        var pair = new VethPair(ns, host, peer);
        try
        {
            Shell.Run($"ip netns add {ns}");
            Shell.Run($"ip link add {host} numrxqueues {queues} numtxqueues {queues} type veth peer name {peer} numrxqueues {queues} numtxqueues {queues}");
            Shell.Run($"ip link set {peer} netns {ns}");
            // No IPv6 on either end: router solicitations and DAD would add frames the tests did not send.
            Shell.Run($"sysctl -qw net.ipv6.conf.{host}.disable_ipv6=1");
            Shell.Run($"ip netns exec {ns} sysctl -qw net.ipv6.conf.{peer}.disable_ipv6=1");
            Shell.Run($"ip link set {host} multicast off up");
            Shell.Run($"ip -n {ns} link set {peer} multicast off up");
            Shell.Run($"ip -n {ns} link set lo up");
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    /// <summary>Runs a shell command inside the peer namespace.</summary>
    public string InPeer(string command, TimeSpan? timeout = null) =>
        Shell.Run($"ip netns exec {Namespace} {command}", timeout);

    /// <summary>Removes the namespace (which deletes both veth ends). Idempotent.</summary>
    public void Dispose()
    {
        Shell.TryRun($"ip link del {HostInterface} 2>/dev/null");
        Shell.TryRun($"ip netns del {Namespace} 2>/dev/null");
    }
}
