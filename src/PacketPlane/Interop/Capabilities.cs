using System;
using System.Globalization;
using System.IO;

namespace PacketPlane.Interop;

/// <summary>Linux capabilities of this process (CapEff in /proc/self/status), for errors that name the missing one.</summary>
internal static class Capabilities
{
    // <linux/capability.h>
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_NET_RAW = 13;
    public const int CAP_IPC_LOCK = 14;
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_SYS_RAWIO = 17;
    public const int CAP_PERFMON = 38;
    public const int CAP_BPF = 39;

    /// <summary>True when the effective set holds <paramref name="capability"/>.</summary>
    public static bool Has(int capability) => (Effective() & (1UL << capability)) != 0;

    /// <summary>The effective capability mask.</summary>
    public static ulong Effective()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return Libc.IsRoot ? ulong.MaxValue : 0;
    }

    /// <summary>
    /// Throws <see cref="PrivilegeException"/> when any of <paramref name="capabilities"/> is missing, naming them
    /// and how to grant them.
    /// </summary>
    public static void Require(string what, params int[] capabilities)
    {
        ulong eff = Effective();
        var missing = new System.Collections.Generic.List<string>();
        foreach (int cap in capabilities)
        {
            if ((eff & (1UL << cap)) == 0)
                missing.Add(Name(cap));
        }
        if (missing.Count == 0)
            return;
        string caps = string.Join(", ", missing);
        throw new PrivilegeException(
            $"{what} needs {caps}. Run as root, or grant the capabilities to the program: " +
            $"sudo setcap {string.Join(",", missing).ToLowerInvariant()}+ep $(readlink -f $(which dotnet)) " +
            $"(in a container: --cap-add {string.Join(" --cap-add ", missing).Replace("CAP_", "", StringComparison.Ordinal)})");
    }

    /// <summary>"CAP_NET_ADMIN".</summary>
    public static string Name(int capability) => capability switch
    {
        CAP_NET_ADMIN => "CAP_NET_ADMIN",
        CAP_NET_RAW => "CAP_NET_RAW",
        CAP_IPC_LOCK => "CAP_IPC_LOCK",
        CAP_SYS_ADMIN => "CAP_SYS_ADMIN",
        CAP_SYS_RAWIO => "CAP_SYS_RAWIO",
        CAP_PERFMON => "CAP_PERFMON",
        CAP_BPF => "CAP_BPF",
        _ => $"capability {capability}",
    };
}
