using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace PacketPlane;

/// <summary>
/// Parses DPDK EAL arguments. Everything after <c>--</c> belongs to the application and is returned
/// untouched. An unknown or malformed argument is an <see cref="EalArgumentException"/> that names it
/// and shows the accepted form.
/// </summary>
public static class EalArguments
{
    private sealed record Option(string[] Names, string? ValueForm, string Help, Action<EalOptions, string> Apply);

    private static readonly Option[] s_options =
    [
        new(["-l", "--lcores"], "LIST", "lcores to use, as a list of CPUs and ranges (0-3,5) or lcore@cpu pairs (1@2,2@3)", ApplyLcores),
        new(["-c"], "COREMASK", "lcores to use, as a hexadecimal CPU mask (0x3)", (o, v) => SetLcores(o, CpuSet.ParseMask(v))),
        new(["--main-lcore"], "ID", "the lcore that runs the caller's thread (default: the lowest)", (o, v) => o.MainLcore = ParseInt(v, "--main-lcore", "ID", 0, 1023)),
        new(["--vdev"], "DEVICE", "add a virtual device, e.g. net_null0,size=64 (repeatable)", (o, v) => o.VirtualDevices.Add(v)),
        new(["-a", "--allow"], "PCI_ADDR", "use only the listed PCI devices, e.g. 0000:03:00.0 (repeatable)", (o, v) => o.AllowedPciDevices.Add(ParsePci(v, "-a"))),
        new(["-b", "--block"], "PCI_ADDR", "never touch this PCI device (repeatable)", (o, v) => o.BlockedPciDevices.Add(ParsePci(v, "-b"))),
        new(["--no-pci"], null, "do not scan the PCI bus", (o, _) => o.NoPci = true),
        new(["--no-huge"], null, "use 4 KiB pages instead of hugepages", (o, _) => o.NoHuge = true),
        new(["--in-memory"], null, "accepted for DPDK compatibility; PacketPlane never leaves runtime files", (o, _) => o.InMemory = true),
        new(["-m"], "MB", "hugepage memory to require, in MiB", (o, v) => o.MemoryMegabytes = ParseInt(v, "-m", "MB", 1, int.MaxValue)),
        new(["--socket-mem"], "MB,MB,...", "hugepage memory to require per NUMA node, in MiB", ApplySocketMem),
        new(["--huge-dir"], "DIR", "accepted for DPDK compatibility; memfd needs no hugetlbfs mount", (o, v) => o.HugeDir = v),
        new(["--iova-mode"], "va|pa", "device addresses are virtual (va, default) or physical (pa, root only)", ApplyIovaMode),
        new(["--log-level"], "LEVEL", "minimum log level: trace, debug, info, notice, warning, error, critical, or 1-8 as DPDK", ApplyLogLevel),
        new(["-n"], "CHANNELS", "accepted for DPDK compatibility (memory channels); has no effect", (_, v) => ParseInt(v, "-n", "CHANNELS", 1, 32)),
        new(["--file-prefix"], "PREFIX", "runtime directory name (default rte); places the telemetry socket where dpdk-telemetry.py -f PREFIX looks", ApplyFilePrefix),
        new(["--telemetry"], null, "serve DPDK's telemetry protocol on <runtime dir>/dpdk_telemetry.v2 (off by default)", (o, _) => o.Telemetry = true),
        new(["--no-telemetry"], null, "do not serve telemetry (the default)", (o, _) => o.Telemetry = false),
    ];

    /// <summary>The accepted arguments, one line each, for a usage message.</summary>
    public static string Usage
    {
        get
        {
            var lines = new List<string>();
            foreach (Option opt in s_options)
            {
                string names = string.Join(", ", opt.Names) + (opt.ValueForm is null ? "" : " " + opt.ValueForm);
                lines.Add($"  {names,-28} {opt.Help}");
            }
            return string.Join(Environment.NewLine, lines);
        }
    }

    /// <summary>
    /// Parses EAL arguments up to <c>--</c>. Returns the options; <paramref name="applicationArgs"/> receives
    /// everything after <c>--</c>.
    /// </summary>
    public static EalOptions Parse(IReadOnlyList<string> args, out string[] applicationArgs)
    {
        var options = new EalOptions();
        int i = 0;
        for (; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }
            (Option opt, string? inlineValue) = Find(arg);
            if (opt.ValueForm is null)
            {
                if (inlineValue is not null)
                    throw new EalArgumentException($"EAL option {opt.Names[0]} takes no value, but got '{arg}'. Accepted form: {opt.Names[0]}");
                opt.Apply(options, "");
                continue;
            }
            string? value = inlineValue;
            if (value is null)
            {
                if (i + 1 >= args.Count)
                    throw new EalArgumentException($"EAL option {arg} needs a value. Accepted form: {opt.Names[0]} {opt.ValueForm} ({opt.Help})");
                value = args[++i];
            }
            opt.Apply(options, value);
        }
        applicationArgs = new string[args.Count - i];
        for (int j = 0; j < applicationArgs.Length; j++)
            applicationArgs[j] = args[i + j];
        return options;
    }

    private static (Option, string?) Find(string arg)
    {
        string name = arg;
        string? inlineValue = null;
        if (arg.StartsWith("--", StringComparison.Ordinal))
        {
            int eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }
        }
        else if (arg.Length > 2 && arg[0] == '-' && arg[1] != '-')
        {
            // DPDK (getopt) accepts "-l0-3" as well as "-l 0-3".
            name = arg[..2];
            inlineValue = arg[2..];
        }
        foreach (Option opt in s_options)
        {
            if (Array.IndexOf(opt.Names, name) >= 0)
                return (opt, inlineValue);
        }
        throw new EalArgumentException(
            $"unknown EAL argument '{arg}'. Application arguments go after '--'. Accepted EAL arguments:{Environment.NewLine}{Usage}");
    }

    private static void ApplyLcores(EalOptions o, string value)
    {
        if (!value.Contains('@'))
        {
            SetLcores(o, CpuSet.ParseList(value, "-l"));
            return;
        }
        if (value.Contains('('))
            throw new EalArgumentException($"invalid --lcores '{value}': lcore groups in parentheses are not supported; use lcore@cpu pairs such as 1@2,2@3");
        o.Lcores.Clear();
        foreach (string pair in value.Split(','))
        {
            string[] parts = pair.Split('@');
            if (parts.Length != 2)
                throw new EalArgumentException($"invalid --lcores entry '{pair}': expected lcore@cpu such as 1@2");
            int lcore = ParseInt(parts[0], "--lcores", "lcore@cpu", 0, 1023);
            int cpu = ParseInt(parts[1], "--lcores", "lcore@cpu", 0, 1023);
            if (!o.Lcores.TryAdd(lcore, cpu))
                throw new EalArgumentException($"invalid --lcores '{value}': lcore {lcore} appears twice");
        }
    }

    private static void SetLcores(EalOptions o, CpuSet cpus)
    {
        o.Lcores.Clear();
        foreach (int cpu in cpus.Cpus)
            o.Lcores[cpu] = cpu;
    }

    private static void ApplySocketMem(EalOptions o, string value)
    {
        o.SocketMemoryMegabytes.Clear();
        foreach (string part in value.Split(','))
            o.SocketMemoryMegabytes.Add(ParseInt(part, "--socket-mem", "MB,MB,... (one figure per NUMA node)", 0, int.MaxValue));
    }

    private static void ApplyFilePrefix(EalOptions o, string value)
    {
        Telemetry.TelemetryServer.CheckPrefix(value);
        o.FilePrefix = value;
    }

    private static void ApplyIovaMode(EalOptions o, string value)
    {
        o.IovaMode = value switch
        {
            "va" => IovaMode.VirtualAddress,
            "pa" => IovaMode.PhysicalAddress,
            _ => throw new EalArgumentException($"invalid --iova-mode '{value}': expected va or pa"),
        };
    }

    private static void ApplyLogLevel(EalOptions o, string value)
    {
        // DPDK also accepts "lib.eal:debug"-style per-component levels; the level after the last ':' applies globally here.
        string level = value.Contains(':') ? value[(value.LastIndexOf(':') + 1)..] : value;
        o.LogLevel = level.ToLowerInvariant() switch
        {
            "trace" or "8" => LogLevel.Trace,
            "debug" or "7" => LogLevel.Debug,
            "info" or "6" or "notice" or "5" => LogLevel.Information,
            "warning" or "4" => LogLevel.Warning,
            "error" or "err" or "3" => LogLevel.Error,
            "critical" or "crit" or "alert" or "emerg" or "2" or "1" => LogLevel.Critical,
            _ => throw new EalArgumentException($"invalid --log-level '{value}': expected trace, debug, info, notice, warning, error, critical, or a number 1-8"),
        };
    }

    private static string ParsePci(string value, string option)
    {
        // Accept "0000:03:00.0" and the short "03:00.0"; a trailing ",devargs" is kept for the driver.
        string address = value.Split(',')[0];
        string full = address.Length == 7 ? "0000:" + address : address;
        bool ok = full.Length == 12 && full[4] == ':' && full[7] == ':' && full[10] == '.'
            && IsHex(full.AsSpan(0, 4)) && IsHex(full.AsSpan(5, 2)) && IsHex(full.AsSpan(8, 2))
            && full[11] >= '0' && full[11] <= '7';
        if (!ok)
            throw new EalArgumentException($"invalid PCI address '{value}' for {option}: expected DOMAIN:BUS:DEVICE.FUNCTION such as 0000:03:00.0");
        return full.ToLowerInvariant() + value[address.Length..];
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!Uri.IsHexDigit(c))
                return false;
        }
        return true;
    }

    private static int ParseInt(string value, string option, string form, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new EalArgumentException($"invalid value '{value}' for {option}: expected {form}, a whole number from {min} to {max}");
        return n;
    }
}
