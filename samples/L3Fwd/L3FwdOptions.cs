using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using PacketPlane.Net;

namespace PacketPlane.Samples.L3Fwd;

/// <summary>A bad L3Fwd argument or rule file; the message names it, and <see cref="L3FwdOptions.Usage"/> lists the accepted ones.</summary>
public class L3FwdArgumentException(string message) : PacketPlaneException(message);

/// <summary>
/// A rule file that cannot be used: a bad line (<see cref="Line"/> is its number, and the message starts
/// "FILE:LINE: "), or a problem with the whole file, unreadable or without a rule (<see cref="Line"/> is null, and
/// the message starts "FILE: ").
/// </summary>
public sealed class L3FwdRuleFileException : L3FwdArgumentException
{
    /// <summary>An error on line <paramref name="line"/> (1-based) of <paramref name="fileName"/>.</summary>
    public L3FwdRuleFileException(string fileName, int line, string why) : base($"{fileName}:{line}: {why}")
    {
        FileName = fileName;
        Line = line;
    }

    /// <summary>An error about the whole of <paramref name="fileName"/>.</summary>
    public L3FwdRuleFileException(string fileName, string why) : base($"{fileName}: {why}") => FileName = fileName;

    /// <summary>The rule file as it was named (on the command line, or to <see cref="RuleFile.Parse{T}"/>).</summary>
    public string FileName { get; }

    /// <summary>The 1-based number of the bad line, or null when the file as a whole is wrong.</summary>
    public int? Line { get; }

    /// <summary>The rule error about <paramref name="origin"/>, a rule's "FILE:LINE" (see <see cref="Ipv4LpmRule.Origin"/>).</summary>
    internal static L3FwdRuleFileException At(string origin, string why)
    {
        int colon = origin.LastIndexOf(':');
        return colon > 0 && int.TryParse(origin.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int line)
            ? new L3FwdRuleFileException(origin[..colon], line, why)
            : new L3FwdRuleFileException(origin, why);
    }
}

/// <summary>How next hops are found (DPDK l3fwd's <c>--lookup</c>).</summary>
public enum LookupMode
{
    /// <summary>Longest-prefix match on the destination address (Lpm4 and Lpm6), the default.</summary>
    Lpm,

    /// <summary>Exact match on the 5-tuple (CuckooHash of Ipv4FiveTuple and Ipv6FiveTuple).</summary>
    Em,
}

/// <summary>One <c>(port,queue,lcore)</c> of <c>--config</c>: lcore polls that RX queue of that port.</summary>
/// <param name="Port">Port id (its position in the EAL's device list).</param>
/// <param name="Queue">RX queue of the port.</param>
/// <param name="Lcore">Lcore that polls it.</param>
public readonly record struct RxQueueAssignment(int Port, int Queue, int Lcore);

/// <summary>
/// The application arguments of DPDK's l3fwd (after the EAL's <c>--</c>), poll mode:
/// <c>-p PORTMASK [-P] --config="(port,queue,lcore)[,...]" [--lookup=lpm|em] [--rule_ipv4=FILE] [--rule_ipv6=FILE]
/// [--eth-dest=X,MM:MM:MM:MM:MM:MM] [--max-pkt-len=N] [--rx-queue-size=N] [--tx-queue-size=N] [--parse-ptype]
/// [--ipv6] [--no-numa] [--per-port-pool] [--hash-entry-num=N] [--mode=poll] [-E] [-L]</c>, plus two extensions,
/// <c>--duration=SECONDS</c> and <c>--stats-period=SECONDS</c>. Long options take their value after <c>=</c> or as the
/// next argument; <c>-p</c> takes it attached (<c>-p3</c>) or separate.
/// </summary>
public sealed partial record L3FwdOptions
{
    /// <summary>RX and TX descriptors per queue by default (l3fwd's RX_DESC_DEFAULT, TX_DESC_DEFAULT).</summary>
    public const int DefaultDescriptors = 1024;

    /// <summary>Most RX queues one lcore polls (MAX_RX_QUEUE_PER_LCORE).</summary>
    public const int MaxRxQueuesPerLcore = 16;

    /// <summary>Most RX queues per port (MAX_RX_QUEUE_PER_PORT).</summary>
    public const int MaxRxQueuesPerPort = 128;

    /// <summary>Smallest and largest <c>--max-pkt-len</c> (RTE_ETHER_MIN_LEN and l3fwd's MAX_JUMBO_PKT_LEN).</summary>
    public const int MinPacketLength = 64, MaxPacketLength = 9600;

    /// <summary>Enabled ports (bit n = port n), from <c>-p</c>.</summary>
    public ulong PortMask { get; init; }

    /// <summary>Put the enabled ports in promiscuous mode (<c>-P</c>).</summary>
    public bool Promiscuous { get; init; }

    /// <summary>The lookup method (<c>--lookup</c>, <c>-E</c>, <c>-L</c>); LPM unless chosen.</summary>
    public LookupMode Lookup { get; init; } = LookupMode.Lpm;

    /// <summary>True when the lookup was chosen explicitly (DPDK allows choosing only once).</summary>
    public bool LookupChosen { get; init; }

    /// <summary>The <c>--config</c> tuples, or null when not given (then queue 0 of every enabled port is polled by the first lcore).</summary>
    public IReadOnlyList<RxQueueAssignment>? Config { get; init; }

    /// <summary>IPv4 rule file (<c>--rule_ipv4</c>), or null for the default routes.</summary>
    public string? RuleIpv4 { get; init; }

    /// <summary>IPv6 rule file (<c>--rule_ipv6</c>), or null for the default routes.</summary>
    public string? RuleIpv6 { get; init; }

    /// <summary>Destination MACs set with <c>--eth-dest</c>, by port; other ports use 02:00:00:00:00:&lt;port&gt;.</summary>
    public IReadOnlyDictionary<int, MacAddress> EthDest { get; init; } = new Dictionary<int, MacAddress>();

    /// <summary>Largest frame to receive (<c>--max-pkt-len</c>), or null to keep each port's MTU.</summary>
    public int? MaxPacketLengthBytes { get; init; }

    /// <summary>RX descriptors per queue (<c>--rx-queue-size</c>).</summary>
    public int RxQueueSize { get; init; } = DefaultDescriptors;

    /// <summary>TX descriptors per queue (<c>--tx-queue-size</c>).</summary>
    public int TxQueueSize { get; init; } = DefaultDescriptors;

    /// <summary><c>--parse-ptype</c> was given. L3Fwd always reads the headers it must check itself, so it changes nothing.</summary>
    public bool ParsePtype { get; init; }

    /// <summary><c>--ipv6</c> was given. L3Fwd loads IPv4 and IPv6 rules in every mode, so it changes nothing.</summary>
    public bool Ipv6 { get; init; }

    /// <summary><c>--no-numa</c>: place every pool and table without a NUMA preference.</summary>
    public bool NoNuma { get; init; }

    /// <summary><c>--per-port-pool</c>: one mbuf pool per port instead of one shared pool.</summary>
    public bool PerPortPool { get; init; }

    /// <summary>Stop after this many seconds (<c>--duration</c>, an extension); null runs until SIGINT or SIGTERM.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Seconds between rate lines (<c>--stats-period</c>, an extension); 0 prints none. Default 1.</summary>
    public int StatsPeriodSeconds { get; init; } = 1;

    /// <summary>Messages for options accepted but without effect (printed at start, as DPDK prints its notices).</summary>
    public IReadOnlyList<string> Notices { get; init; } = [];

    /// <summary>The accepted arguments.</summary>
    public static string Usage =>
        "L3Fwd [EAL options] -- -p PORTMASK --config=\"(port,queue,lcore)[,(port,queue,lcore)]\" [-P] [--lookup=lpm|em]\n" +
        "      [--rule_ipv4=FILE] [--rule_ipv6=FILE] [--eth-dest=X,MM:MM:MM:MM:MM:MM] [--max-pkt-len=PKTLEN]\n" +
        "      [--rx-queue-size=NPKTS] [--tx-queue-size=NPKTS] [--parse-ptype] [--ipv6] [--no-numa] [--per-port-pool]\n" +
        "      [--duration=SECONDS] [--stats-period=SECONDS] [-E] [-L]\n" +
        "  (no arguments at all: a 10-second demo on the bundled capture, net_pcap port 0 to net_null port 1;\n" +
        "   only --duration SECONDS: the same demo for that long)\n\n" +
        "  -p PORTMASK: hexadecimal bitmask of ports to configure\n" +
        "  -P : enable promiscuous mode\n" +
        "  --config (port,queue,lcore): RX queue configuration; queue ids of a port start at 0 and follow in order\n" +
        "            Default: queue 0 of every enabled port on the first lcore\n" +
        "  --lookup: lookup method, lpm (longest prefix match, the default) or em (exact match on the 5-tuple)\n" +
        "  -E : exact match, legacy flag (use --lookup=em)\n" +
        "  -L : longest prefix match, legacy flag (use --lookup=lpm)\n" +
        "  --rule_ipv4=FILE: IPv4 rules, one per line: 'R198.18.0.0/24 0' (lpm) or\n" +
        "            'R<dst> <src> <dst port> <src port> <proto> <port>' (em); '#' starts a comment line\n" +
        "  --rule_ipv6=FILE: IPv6 rules, same formats. Without a file the family gets DPDK's default rules\n" +
        "  --eth-dest=X,MM:MM:MM:MM:MM:MM: Ethernet destination for port X (default 02:00:00:00:00:X)\n" +
        $"  --max-pkt-len PKTLEN: maximum packet length in decimal ({MinPacketLength}-{MaxPacketLength})\n" +
        $"  --rx-queue-size NPKTS: RX queue size in decimal (default {DefaultDescriptors})\n" +
        $"  --tx-queue-size NPKTS: TX queue size in decimal (default {DefaultDescriptors})\n" +
        "  --parse-ptype: accepted; L3Fwd always classifies packets in software from the headers it checks\n" +
        "  --ipv6: accepted; L3Fwd loads IPv4 and IPv6 rules in both lookup modes\n" +
        "  --no-numa: disable NUMA awareness\n" +
        "  --per-port-pool: use a separate buffer pool per port\n" +
        "  --hash-entry-num, --mode=poll: accepted as DPDK does (ignored; poll mode is the only mode)\n" +
        "  --duration SECONDS: stop after this long (extension; default: run until SIGINT or SIGTERM)\n" +
        "  --stats-period SECONDS: print the receive rate every SECONDS, 0 for never (extension; default 1)\n";

    /// <summary>Parses the application arguments.</summary>
    /// <exception cref="L3FwdArgumentException">An unknown, malformed or missing argument.</exception>
    public static L3FwdOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var o = new L3FwdOptions();
        var notices = new List<string>();
        var ethDest = new Dictionary<int, MacAddress>();
        for (int i = 0; i < args.Count; i++)
        {
            (string name, string? inline) = Split(args[i]);
            string Value()
            {
                if (inline is not null)
                    return inline;
                if (i + 1 >= args.Count)
                    throw new L3FwdArgumentException($"option {name} needs a value");
                return args[++i];
            }
            void NoValue()
            {
                if (inline is not null)
                    throw new L3FwdArgumentException($"option {name} takes no value, got '{args[i]}'");
            }
            switch (name)
            {
                case "-p":
                    o = o with { PortMask = ParseMask(Value()) };
                    break;
                case "-P":
                    NoValue();
                    o = o with { Promiscuous = true };
                    break;
                case "-E":
                case "-L":
                    NoValue();
                    o = ChooseLookup(o, name == "-E" ? LookupMode.Em : LookupMode.Lpm);
                    break;
                case "--lookup":
                    o = ChooseLookup(o, ParseLookup(Value()));
                    break;
                case "--config":
                    o = o with { Config = ParseConfig(Value()) };
                    break;
                case "--rule_ipv4":
                    o = o with { RuleIpv4 = NonEmpty(Value(), name) };
                    break;
                case "--rule_ipv6":
                    o = o with { RuleIpv6 = NonEmpty(Value(), name) };
                    break;
                case "--eth-dest":
                    (int port, MacAddress mac) = ParseEthDest(Value());
                    ethDest[port] = mac;
                    break;
                case "--max-pkt-len":
                    o = o with { MaxPacketLengthBytes = ParseDecimal(Value(), name, "maximum packet length", MinPacketLength, MaxPacketLength) };
                    break;
                case "--rx-queue-size":
                    o = o with { RxQueueSize = ParseDecimal(Value(), name, "RX queue size", 1, ushort.MaxValue) };
                    break;
                case "--tx-queue-size":
                    o = o with { TxQueueSize = ParseDecimal(Value(), name, "TX queue size", 1, ushort.MaxValue) };
                    break;
                case "--parse-ptype":
                    NoValue();
                    o = o with { ParsePtype = true };
                    notices.Add("soft parse-ptype is enabled (L3Fwd always checks the headers in software)");
                    break;
                case "--ipv6":
                    NoValue();
                    o = o with { Ipv6 = true };
                    notices.Add("--ipv6: IPv4 and IPv6 rules are both loaded in every lookup mode");
                    break;
                case "--no-numa":
                    NoValue();
                    o = o with { NoNuma = true };
                    break;
                case "--per-port-pool":
                    NoValue();
                    o = o with { PerPortPool = true };
                    notices.Add("per port buffer pool is enabled");
                    break;
                case "--hash-entry-num":
                    Value();
                    notices.Add("Hash entry number will be ignored");
                    break;
                case "--mode":
                    string mode = Value();
                    if (mode != "poll")
                        throw new L3FwdArgumentException($"--mode={mode}: only poll mode is supported (eventdev is not part of PacketPlane)");
                    break;
                case "--duration":
                    o = o with { DurationSeconds = ParseSeconds(Value()) };
                    break;
                case "--stats-period":
                    o = o with { StatsPeriodSeconds = ParseDecimal(Value(), name, "statistics period in seconds", 0, 86400) };
                    break;
                default:
                    throw new L3FwdArgumentException(Unsupported(args[i]));
            }
        }
        if (o.PortMask == 0)
            throw new L3FwdArgumentException("missing -p PORTMASK: say which ports to route between, e.g. -p 0x3");
        return o with { EthDest = ethDest, Notices = notices };
    }

    /// <summary>The configuration the demo and the default --config use: queue 0 of every enabled port on one lcore.</summary>
    public static IReadOnlyList<RxQueueAssignment> DefaultConfig(ulong portMask, int lcore)
    {
        var config = new List<RxQueueAssignment>();
        foreach (int port in L2Fwd.PortMask.Ports(portMask))
            config.Add(new RxQueueAssignment(port, 0, lcore));
        return config;
    }

    /// <summary>
    /// Parses <c>(port,queue,lcore),(port,queue,lcore)</c>. Numbers are decimal, 0x-hexadecimal or 0-octal as in
    /// DPDK (strtoul base 0).
    /// </summary>
    /// <exception cref="L3FwdArgumentException">Malformed text, a number out of range, or a (port,queue) given twice.</exception>
    public static IReadOnlyList<RxQueueAssignment> ParseConfig(string text)
    {
        string trimmed = text.Trim().Trim('"', '\'');
        var config = new List<RxQueueAssignment>();
        var seen = new HashSet<(int, int)>();
        int position = 0;
        foreach (Match m in TuplePattern().Matches(trimmed))
        {
            if (trimmed[position..m.Index].Trim().Trim(',').Trim().Length != 0)
                break;
            int port = ConfigField(m.Groups[1].Value, "port", L2Fwd.PortMask.MaxPorts - 1, text);
            int queue = ConfigField(m.Groups[2].Value, "queue", MaxRxQueuesPerPort - 1, text);
            int lcore = ConfigField(m.Groups[3].Value, "lcore", LcoreLimit - 1, text);
            if (!seen.Add((port, queue)))
                throw new L3FwdArgumentException($"Invalid config '{text}': RX queue {queue} of port {port} is listed twice");
            config.Add(new RxQueueAssignment(port, queue, lcore));
            position = m.Index + m.Length;
        }
        if (config.Count == 0 || trimmed[position..].Trim().Length != 0)
            throw new L3FwdArgumentException($"Invalid config '{text}': expected (port,queue,lcore) tuples such as \"(0,0,1),(1,0,2)\"");
        return config;
    }

    /// <summary>Highest lcore id + 1 accepted in --config (PacketPlane's lcore limit).</summary>
    private const int LcoreLimit = 1024;

    private static (string Name, string? Inline) Split(string arg)
    {
        if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is int eq and > 0)
            return (arg[..eq], arg[(eq + 1)..]);
        // getopt: -p takes its value attached (-p3) or as the next argument.
        if (arg.Length > 2 && arg.StartsWith("-p", StringComparison.Ordinal))
            return ("-p", arg[2..]);
        return (arg, null);
    }

    private static string Unsupported(string arg)
    {
        string name = arg.Split('=')[0];
        return name switch
        {
            "--alg" => "--alg selects an ACL classifier; PacketPlane's L3Fwd has lpm and em lookups only",
            "--event-vector" or "--event-vector-size" or "--event-vector-tmo" or "--eventq-sched" or "--event-eth-rxqs" =>
                $"{name} belongs to eventdev mode, which PacketPlane's L3Fwd does not have (poll mode only)",
            _ => $"unknown option '{arg}'",
        };
    }

    private static L3FwdOptions ChooseLookup(L3FwdOptions o, LookupMode mode)
    {
        if (o.LookupChosen)
            throw new L3FwdArgumentException("Only one lookup mode is allowed at a time! (-E, -L and --lookup each choose one)");
        return o with { Lookup = mode, LookupChosen = true };
    }

    private static LookupMode ParseLookup(string text) => text switch
    {
        "lpm" => LookupMode.Lpm,
        "em" => LookupMode.Em,
        "fib" or "acl" => throw new L3FwdArgumentException($"--lookup={text}: PacketPlane's L3Fwd has no {text} lookup; accepted: lpm, em"),
        _ => throw new L3FwdArgumentException($"Invalid lookup option '{text}'! Accepted options: lpm, em"),
    };

    private static ulong ParseMask(string text)
    {
        try
        {
            return L2Fwd.PortMask.Parse(text);
        }
        catch (FormatException e)
        {
            throw new L3FwdArgumentException(e.Message);
        }
    }

    private static (int Port, MacAddress Mac) ParseEthDest(string text)
    {
        int comma = text.IndexOf(',');
        if (comma <= 0 || !int.TryParse(text.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out int port))
            throw new L3FwdArgumentException($"Invalid eth-dest '{text}': expected PORT,MM:MM:MM:MM:MM:MM, e.g. 1,02:00:00:00:00:01");
        if (port >= L2Fwd.PortMask.MaxPorts)
            throw new L3FwdArgumentException($"eth-dest: port {port} >= {L2Fwd.PortMask.MaxPorts} (the most ports a mask can name)");
        if (!MacAddress.TryParse(text[(comma + 1)..], out MacAddress mac))
            throw new L3FwdArgumentException($"Invalid ethernet address '{text[(comma + 1)..]}' in eth-dest '{text}': expected MM:MM:MM:MM:MM:MM");
        return (port, mac);
    }

    private static int ParseDecimal(string text, string option, string what, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new L3FwdArgumentException($"invalid {what} '{text}' for {option}: expected a whole number from {min} to {max}");
        return n;
    }

    private static double ParseSeconds(string text)
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double s) || s <= 0 || s > 31_536_000)
            throw new L3FwdArgumentException($"invalid --duration '{text}': expected seconds, more than 0 (e.g. 10 or 2.5)");
        return s;
    }

    private static string NonEmpty(string text, string option) =>
        text.Length > 0 ? text : throw new L3FwdArgumentException($"option {option} needs a file name");

    private static int ConfigField(string text, string what, int max, string config)
    {
        if (!RuleFile.TryParseCNumber(text.Trim(), (ulong)max, out ulong value))
            throw new L3FwdArgumentException($"Invalid config '{config}': {what} '{text.Trim()}' is not a number from 0 to {max}");
        return (int)value;
    }

    [GeneratedRegex(@"\(\s*([^,()]*)\s*,\s*([^,()]*)\s*,\s*([^,()]*)\s*\)")]
    private static partial Regex TuplePattern();
}
