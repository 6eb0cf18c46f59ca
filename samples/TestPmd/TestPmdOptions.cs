using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PacketPlane.Net;

namespace PacketPlane.Samples.TestPmd;

/// <summary>The forwarding engines (testpmd's --forward-mode).</summary>
public enum ForwardMode
{
    /// <summary>Forward packets as they are.</summary>
    Io,
    /// <summary>Set destination MAC to the peer, source MAC to the TX port's.</summary>
    Mac,
    /// <summary>Swap source and destination MAC.</summary>
    MacSwap,
    /// <summary>Receive and free.</summary>
    RxOnly,
    /// <summary>Generate UDP frames (the traffic generator).</summary>
    TxOnly,
}

/// <summary>A bad TestPmd argument; the message names it, and <see cref="TestPmdOptions.Usage"/> lists the accepted ones.</summary>
public sealed class TestPmdArgumentException(string message) : Exception(message);

/// <summary>The application arguments of TestPmd (a subset of dpdk-testpmd's, same spelling).</summary>
public sealed record TestPmdOptions
{
    /// <summary>Forwarding engine.</summary>
    public ForwardMode Mode { get; init; } = ForwardMode.Io;

    /// <summary>Forwarding lcores to use; null for all worker lcores (capped at the number of streams).</summary>
    public int? ForwardingCores { get; init; }

    /// <summary>Packets per burst (testpmd's default 32).</summary>
    public int Burst { get; init; } = 32;

    /// <summary>Seconds between NIC statistics displays; 0 for none.</summary>
    public int StatsPeriodSeconds { get; init; }

    /// <summary>RX queues per port.</summary>
    public int RxQueues { get; init; } = 1;

    /// <summary>TX queues per port.</summary>
    public int TxQueues { get; init; } = 1;

    /// <summary>RX descriptors per queue.</summary>
    public int RxDescriptors { get; init; } = 1024;

    /// <summary>TX descriptors per queue.</summary>
    public int TxDescriptors { get; init; } = 1024;

    /// <summary>Mbufs in the pool; null sizes it with MbufPool.RequiredCount.</summary>
    public int? TotalMbufs { get; init; }

    /// <summary>txonly frame length without FCS (testpmd's --txpkts, default 64).</summary>
    public int TxPacketLength { get; init; } = 64;

    /// <summary>Peer MAC per port (--eth-peer); others default to 02:00:00:00:00:PORT.</summary>
    public IReadOnlyDictionary<int, MacAddress> Peers { get; init; } = new Dictionary<int, MacAddress>();

    /// <summary>Skip draining the RX queues before forwarding starts (--no-flush-rx).</summary>
    public bool NoFlushRx { get; init; }

    /// <summary>Stop after this many seconds (PacketPlane addition); null runs until SIGINT/SIGTERM.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>The accepted arguments.</summary>
    public const string Usage =
        "TestPmd [EAL options] -- [options]\n" +
        "  --forward-mode=MODE      io (default), mac, macswap, rxonly or txonly\n" +
        "  --nb-cores=N             forwarding lcores (default: every lcore but the main one)\n" +
        "  --burst=N                packets per burst, 1 to 512 (default 32)\n" +
        "  --stats-period=S         print NIC statistics every S seconds (default 0: never)\n" +
        "  --rxq=N / --txq=N        RX / TX queues per port, 1 to 1024 (default 1); --txq must be at least --rxq\n" +
        "  --rxd=N / --txd=N        descriptors per RX / TX queue (default 1024)\n" +
        "  --total-num-mbufs=N      mbufs in the pool (default: sized for the queues, lcores and bursts)\n" +
        "  --txpkts=SIZE            txonly frame length in bytes without FCS, 60 to 9000 (default 64)\n" +
        "  --eth-peer=PORT,MAC      peer MAC of a port for mac and txonly modes (repeatable; default 02:00:00:00:00:PORT)\n" +
        "  --no-flush-rx            do not drain RX queues before forwarding\n" +
        "  --duration=S             stop after S seconds (default: run until SIGINT or SIGTERM)\n" +
        "  --record-core-cycles     accepted for compatibility; cycles per packet are always reported\n";

    /// <summary>Parses the application arguments (after the EAL's <c>--</c>).</summary>
    /// <exception cref="TestPmdArgumentException">An unknown, malformed or inconsistent argument.</exception>
    public static TestPmdOptions Parse(IReadOnlyList<string> args)
    {
        var o = new TestPmdOptions();
        var peers = new Dictionary<int, MacAddress>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            int eq = arg.IndexOf('=');
            string name = eq > 0 ? arg[..eq] : arg;
            string? inline = eq > 0 ? arg[(eq + 1)..] : null;
            string Value()
            {
                if (inline is not null)
                    return inline;
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new TestPmdArgumentException($"option {name} needs a value");
                return args[++i];
            }
            o = name switch
            {
                "--forward-mode" => o with { Mode = ParseMode(Value()) },
                "--nb-cores" => o with { ForwardingCores = ParseInt(Value(), name, 1, 1024) },
                "--burst" => o with { Burst = ParseInt(Value(), name, 1, 512) },
                "--stats-period" => o with { StatsPeriodSeconds = ParseInt(Value(), name, 0, 86400) },
                "--rxq" => o with { RxQueues = ParseInt(Value(), name, 1, 1024) },
                "--txq" => o with { TxQueues = ParseInt(Value(), name, 1, 1024) },
                "--rxd" => o with { RxDescriptors = ParseInt(Value(), name, 1, 65535) },
                "--txd" => o with { TxDescriptors = ParseInt(Value(), name, 1, 65535) },
                "--total-num-mbufs" => o with { TotalMbufs = ParseInt(Value(), name, 1024, int.MaxValue) },
                "--txpkts" => o with { TxPacketLength = ParseInt(Value(), name, 60, 9000) },
                "--eth-peer" => AddPeer(o, peers, Value()),
                "--no-flush-rx" => o with { NoFlushRx = true },
                "--duration" => o with { DurationSeconds = ParseSeconds(Value()) },
                "--record-core-cycles" => o,
                "-i" or "--interactive" => throw new TestPmdArgumentException("interactive mode is not supported; run with --stats-period and --duration, or stop with Ctrl-C"),
                _ => throw new TestPmdArgumentException($"unknown option '{arg}'"),
            };
        }
        if (o.TxQueues < o.RxQueues)
            throw new TestPmdArgumentException($"--txq={o.TxQueues} is less than --rxq={o.RxQueues}: each RX queue forwards to the TX queue of the same index, so use --txq={o.RxQueues} or more");
        return o with { Peers = peers };
    }

    /// <summary>The peer MAC of <paramref name="port"/>: --eth-peer, else 02:00:00:00:00:PORT (testpmd's default).</summary>
    public MacAddress PeerOf(int port) =>
        Peers.TryGetValue(port, out MacAddress mac) ? mac : new MacAddress(0x0200_0000_0000UL | (uint)(port & 0xFF));

    private static TestPmdOptions AddPeer(TestPmdOptions o, Dictionary<int, MacAddress> peers, string value)
    {
        string[] parts = value.Split(',', 2);
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 1023
            || !MacAddress.TryParse(parts[1], out MacAddress mac))
            throw new TestPmdArgumentException($"invalid --eth-peer '{value}': expected PORT,MAC such as 0,02:00:00:00:00:10");
        peers[port] = mac;
        return o;
    }

    private static ForwardMode ParseMode(string text) => text switch
    {
        "io" => ForwardMode.Io,
        "mac" => ForwardMode.Mac,
        "macswap" => ForwardMode.MacSwap,
        "rxonly" => ForwardMode.RxOnly,
        "txonly" => ForwardMode.TxOnly,
        _ => throw new TestPmdArgumentException($"invalid forwarding mode '{text}'; available modes: io, mac, macswap, rxonly, txonly"),
    };

    private static int ParseInt(string text, string option, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new TestPmdArgumentException($"invalid value '{text}' for {option}: expected a whole number from {min} to {max}");
        return n;
    }

    private static double ParseSeconds(string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0) || s > 86400 * 365)
            throw new TestPmdArgumentException($"invalid value '{text}' for --duration: expected a number of seconds greater than 0");
        return s;
    }

    /// <summary>The mode's name as testpmd prints it.</summary>
    public static string ModeName(ForwardMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>Every accepted option name, for error messages.</summary>
    public static IEnumerable<string> OptionNames => Usage.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("--", StringComparison.Ordinal)).Select(l => l.Split(' ', '=')[0]);
}
