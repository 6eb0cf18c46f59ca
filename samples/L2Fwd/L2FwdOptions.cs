using System;
using System.Collections.Generic;
using System.Globalization;

namespace PacketPlane.Samples.L2Fwd;

/// <summary>A bad L2Fwd argument; the message names it, and <see cref="L2FwdOptions.Usage"/> lists the accepted ones.</summary>
public sealed class L2FwdArgumentException(string message) : Exception(message);

/// <summary>
/// The application arguments of DPDK's l2fwd (after the EAL's <c>--</c>):
/// <c>-p PORTMASK [-P] [-q NQ] [-T PERIOD] [--[no-]mac-updating] [--portmap="(0,1),(2,3)"]</c>.
/// </summary>
public sealed record L2FwdOptions
{
    /// <summary>Longest statistics period, as l2fwd's MAX_TIMER_PERIOD (one day).</summary>
    public const int MaxTimerPeriod = 86400;

    /// <summary>Most RX ports one lcore polls (l2fwd's MAX_RX_QUEUE_PER_LCORE).</summary>
    public const int MaxPortsPerLcore = 16;

    /// <summary>Enabled ports (bit n = port n).</summary>
    public ulong PortMask { get; init; }

    /// <summary>Put ports in promiscuous mode (-P).</summary>
    public bool Promiscuous { get; init; }

    /// <summary>RX ports polled per lcore (-q), 1 to 15.</summary>
    public int PortsPerLcore { get; init; } = 1;

    /// <summary>Seconds between statistics printouts (-T); 0 disables them. Default 10.</summary>
    public int StatsPeriodSeconds { get; init; } = 10;

    /// <summary>Rewrite MAC addresses (default; --no-mac-updating turns it off).</summary>
    public bool MacUpdating { get; init; } = true;

    /// <summary>Forwarding pairs from --portmap, or null for consecutive enabled ports.</summary>
    public IReadOnlyList<(int A, int B)>? PortMap { get; init; }

    /// <summary>
    /// Stop by itself after this many seconds (--duration; PacketPlane's addition for scripted benchmark runs,
    /// DPDK's l2fwd runs until a signal). Null: run until SIGINT/SIGTERM.
    /// </summary>
    public double? DurationSeconds { get; init; }

    /// <summary>The accepted arguments.</summary>
    public static string Usage =>
        "L2Fwd [EAL options] -- -p PORTMASK [-P] [-q NQ] [-T PERIOD] [--no-mac-updating] [--portmap=\"(0,1),(2,3)\"] [--duration=S]\n" +
        "  -p PORTMASK: hexadecimal bitmask of ports to configure\n" +
        "  -P : Enable promiscuous mode\n" +
        "  -q NQ: number of queue (=ports) per lcore (default is 1)\n" +
        "  -T PERIOD: statistics will be refreshed each PERIOD seconds (0 to disable, 10 default, 86400 maximum)\n" +
        "  --no-mac-updating: Disable MAC addresses updating (enabled by default)\n" +
        "  --mac-updating: Enable MAC addresses updating (the default)\n" +
        "      When enabled:\n" +
        "       - The source MAC address is replaced by the TX port MAC address\n" +
        "       - The destination MAC address is replaced by 02:00:00:00:00:TX_PORT_ID\n" +
        "  --portmap: Configure forwarding port pair mapping\n" +
        "      Default: alternate port pairs\n" +
        "  --duration=S: stop after S seconds and print the totals (default: run until SIGINT or SIGTERM)\n";

    /// <summary>Parses the application arguments.</summary>
    /// <exception cref="L2FwdArgumentException">An unknown, malformed or missing argument.</exception>
    public static L2FwdOptions Parse(IReadOnlyList<string> args)
    {
        var o = new L2FwdOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is int eq and > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            else if (arg.Length > 2 && arg[0] == '-' && arg[1] != '-' && arg[1] != 'P')
            {
                // getopt style: -p3 is -p 3.
                name = arg[..2];
                inline = arg[2..];
            }
            string Value()
            {
                if (inline is not null)
                    return inline;
                if (i + 1 >= args.Count)
                    throw new L2FwdArgumentException($"option {name} needs a value");
                return args[++i];
            }
            o = name switch
            {
                "-p" => o with { PortMask = ParseMask(Value()) },
                "-P" => o with { Promiscuous = true },
                "-q" => o with { PortsPerLcore = ParseInt(Value(), "-q", "number of queues per lcore", 1, MaxPortsPerLcore - 1) },
                "-T" => o with { StatsPeriodSeconds = ParseInt(Value(), "-T", "timer period", 0, MaxTimerPeriod - 1) },
                "--no-mac-updating" => o with { MacUpdating = false },
                "--mac-updating" => o with { MacUpdating = true },
                "--portmap" => o with { PortMap = ParsePortMap(Value()) },
                "--duration" => o with { DurationSeconds = ParseSeconds(Value()) },
                _ => throw new L2FwdArgumentException($"unknown option '{arg}'"),
            };
        }
        if (o.PortMask == 0)
            throw new L2FwdArgumentException("missing -p PORTMASK: say which ports to forward between, e.g. -p 0x3");
        return o;
    }

    private static ulong ParseMask(string text)
    {
        try
        {
            return L2Fwd.PortMask.Parse(text);
        }
        catch (FormatException e)
        {
            throw new L2FwdArgumentException(e.Message);
        }
    }

    private static IReadOnlyList<(int, int)> ParsePortMap(string text)
    {
        try
        {
            return L2Fwd.PortMask.ParsePortMap(text);
        }
        catch (FormatException e)
        {
            throw new L2FwdArgumentException(e.Message);
        }
    }

    private static double ParseSeconds(string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0) || s > MaxTimerPeriod * 365.0)
            throw new L2FwdArgumentException($"invalid value '{text}' for --duration: expected a number of seconds greater than 0");
        return s;
    }

    private static int ParseInt(string text, string option, string what, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new L2FwdArgumentException($"invalid {what} '{text}' for {option}: expected a whole number from {min} to {max}");
        return n;
    }
}
