using System;
using System.IO;
using System.Linq;
using Xunit;

namespace PacketPlane.IntegrationTests.Infrastructure;

/// <summary>What an integration test needs from the machine.</summary>
public enum Requirement
{
    /// <summary>Running as root (namespaces, hugepages, raw sockets, XDP).</summary>
    Root,
    /// <summary>At least 64 free 2 MiB hugepages.</summary>
    Hugepages,
    /// <summary>iproute2 and the right to create network namespaces and veth pairs.</summary>
    NetworkNamespaces,
    /// <summary>DPDK's dpdk-testpmd (Debian package dpdk).</summary>
    DpdkTestpmd,
    /// <summary>tshark (Debian package tshark).</summary>
    Tshark,
    /// <summary>clang with the bpf target (Debian package clang).</summary>
    Clang,
    /// <summary>python3 with scapy (Debian package python3-scapy).</summary>
    Scapy,
    /// <summary>/dev/net/tun.</summary>
    Tun,
}

/// <summary>
/// Checks a test's prerequisites. Missing ones skip the test with the reason ("skipped: needs root ..."),
/// except under CI=true, where they fail it: CI must never pass by skipping.
/// </summary>
public static class Prerequisites
{
    /// <summary>True when running under CI (CI=true).</summary>
    public static bool IsCI => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, under CI, fails) the calling test unless every requirement is met.</summary>
    public static void Require(params Requirement[] requirements)
    {
        foreach (Requirement r in requirements)
        {
            string? missing = Check(r);
            if (missing is null)
                continue;
            if (IsCI)
                throw new InvalidOperationException($"CI=true and a prerequisite is missing: {missing}. .ci/run installs it; run that first.");
            Skip.If(true, $"skipped: {missing}");
        }
    }

    private static string? Check(Requirement r) => r switch
    {
        Requirement.Root => PacketPlane.Interop.Libc.IsRoot ? null : "needs root (creates network namespaces, maps hugepages, opens raw sockets)",
        Requirement.Hugepages => PacketPlane.Hugepages.FreeBytes(PacketPlane.Hugepages.Size2M) >= 64 * PacketPlane.Hugepages.Size2M
            ? null : "needs at least 64 free 2 MiB hugepages (echo 1024 > /proc/sys/vm/nr_hugepages)",
        Requirement.NetworkNamespaces => PacketPlane.Interop.Libc.IsRoot && OnPath("ip") ? null : "needs root and iproute2 (creates network namespaces and veth pairs)",
        Requirement.DpdkTestpmd => OnPath("dpdk-testpmd") ? null : "needs dpdk-testpmd (apt-get install dpdk)",
        Requirement.Tshark => OnPath("tshark") ? null : "needs tshark (apt-get install tshark)",
        Requirement.Clang => OnPath("clang") ? null : "needs clang (apt-get install clang)",
        Requirement.Scapy => File.Exists("/usr/lib/python3/dist-packages/scapy/__init__.py") ? null : "needs scapy (apt-get install python3-scapy)",
        Requirement.Tun => File.Exists("/dev/net/tun") ? null : "needs /dev/net/tun",
        _ => $"unknown requirement {r}",
    };

    /// <summary>True when <paramref name="program"/> is found on PATH (or in /usr/sbin, /usr/bin).</summary>
    public static bool OnPath(string program)
    {
        string path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/usr/bin:/sbin:/bin";
        return path.Split(':').Where(d => d.Length > 0).Any(d => File.Exists(Path.Combine(d, program)));
    }
}
