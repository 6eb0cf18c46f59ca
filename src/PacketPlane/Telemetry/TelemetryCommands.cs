using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Internal;
using PacketPlane.Memory;

namespace PacketPlane.Telemetry;

/// <summary>
/// The commands the telemetry socket answers, with DPDK's names and reply shapes so DPDK's own client
/// (<c>dpdk-telemetry.py</c>) and scripts written for it work unchanged: <c>/</c>, <c>/info</c>, <c>/help</c>,
/// <c>/ethdev/list</c>, <c>/ethdev/stats,N</c>, <c>/ethdev/xstats,N</c>, <c>/ethdev/link_status,N</c>,
/// <c>/ethdev/info,N</c>, <c>/mempool/list</c>, <c>/mempool/info,NAME</c>, <c>/eal/lcore/list</c>,
/// <c>/eal/lcore/info,N</c>. Every reply is one JSON object <c>{"/command": data}</c>; a command that is unknown
/// or given a bad parameter answers <c>{"/command": null}</c>, as DPDK does. Applications add their own with
/// <see cref="Register"/>.
/// </summary>
public static class TelemetryCommands
{
    /// <summary>Longest command name (DPDK's MAX_CMD_LEN is 56, terminator included).</summary>
    public const int MaxCommandLength = 55;

    /// <summary>Longest help text (DPDK's MAX_HELP_LEN is 64, terminator included).</summary>
    public const int MaxHelpLength = 63;

    /// <summary>Largest reply in bytes, announced as max_output_len to clients (DPDK's MAX_OUTPUT_LEN).</summary>
    public const int MaxOutputLength = 16 * 1024;

    /// <summary>Queue counters reported per port in /ethdev/stats (RTE_ETHDEV_QUEUE_STAT_CNTRS).</summary>
    public const int QueueStatCounters = 16;

    private sealed record Command(string Help, Func<string?, JsonNode?> Handler);

    private static readonly object s_lock = new();
    private static readonly SortedDictionary<string, Command> s_commands = new(StringComparer.Ordinal);
    private static readonly ILogger s_log = Log.For("PacketPlane.Telemetry");

    static TelemetryCommands()
    {
        Add("/", "Lists the available commands. No parameters", _ => new JsonArray(Names.Select(n => (JsonNode?)n).ToArray()));
        Add("/info", "Telemetry information: version, pid, max_output_len", _ => Info());
        Add("/help", "Help text of a command. Parameter: the command", Help);
        Add("/ethdev/list", "Lists the port ids. No parameters", _ => new JsonArray(EthDev.All.Select(p => (JsonNode?)(int)p.PortId).ToArray()));
        Add("/ethdev/stats", "Basic counters of a port. Parameter: port id", p => WithPort(p, EthdevStats));
        Add("/ethdev/xstats", "Extended counters of a port. Parameter: port id", p => WithPort(p, EthdevXStats));
        Add("/ethdev/link_status", "Link state of a port. Parameter: port id", p => WithPort(p, EthdevLink));
        Add("/ethdev/info", "Configuration and state of a port. Parameter: port id", p => WithPort(p, EthdevInfo));
        Add("/mempool/list", "Lists the mbuf pools by name. No parameters", _ => new JsonArray(MbufPool.All.Select(p => (JsonNode?)p.Name).ToArray()));
        Add("/mempool/info", "Size and fill of a pool. Parameter: pool name", MempoolInfo);
        Add("/eal/lcore/list", "Lists the lcore ids. No parameters", _ => new JsonArray(LcoreIds().Select(i => (JsonNode?)i).ToArray()));
        Add("/eal/lcore/info", "CPU, NUMA node and poll counts of an lcore. Parameter: id", LcoreInfo);
    }

    /// <summary>Every command, in order (as <c>/</c> lists them).</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (s_lock)
                return s_commands.Keys.ToArray();
        }
    }

    /// <summary>
    /// Adds a command (rte_telemetry_register_cmd). <paramref name="handler"/> gets the parameter string (or null)
    /// and returns the reply data: a JsonObject, JsonArray or value; null means "bad request" and the client reads
    /// <c>{"/command": null}</c>. It runs on the telemetry thread of the client that asked.
    /// </summary>
    /// <exception cref="ArgumentException">The name does not start with '/', is too long or taken, or the help text is too long.</exception>
    public static void Register(string command, string help, Func<string?, JsonNode?> handler)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(help);
        ArgumentNullException.ThrowIfNull(handler);
        if (command.Length == 0 || command[0] != '/' || command.Length > MaxCommandLength || command.Contains(','))
            throw new ArgumentException($"telemetry command '{command}' must start with '/', have no comma and be at most {MaxCommandLength} characters", nameof(command));
        if (help.Length > MaxHelpLength)
            throw new ArgumentException($"help text of telemetry command {command} is {help.Length} characters; at most {MaxHelpLength}", nameof(help));
        lock (s_lock)
        {
            if (!s_commands.TryAdd(command, new Command(help, handler)))
                throw new ArgumentException($"telemetry command {command} is already registered", nameof(command));
        }
    }

    /// <summary>Removes a command added with <see cref="Register"/>; false when it was not there.</summary>
    public static bool Unregister(string command)
    {
        lock (s_lock)
            return s_commands.Remove(command);
    }

    /// <summary>Answers a request as the socket would (for in-process use and tests). Never throws.</summary>
    public static string Execute(string request) => Execute(TelemetryRequest.Parse(request ?? ""));

    /// <summary>Answers a parsed request: a JSON object of at most <see cref="MaxOutputLength"/> bytes. Never throws.</summary>
    public static string Execute(TelemetryRequest request)
    {
        string key = request.Command ?? "none";
        if (key.Length > MaxCommandLength + 1)
            key = key[..(MaxCommandLength + 1)]; // DPDK prints at most MAX_CMD_LEN characters of an unknown command
        Command? command = null;
        if (request.Command is not null && request.Command.Length <= MaxCommandLength)
        {
            lock (s_lock)
                s_commands.TryGetValue(request.Command, out command);
        }
        JsonNode? data = null;
        if (command is not null)
        {
            try
            {
                data = command.Handler(request.Parameters);
            }
            catch (Exception e)
            {
                s_log.LogWarning(LogEvents.TelemetryClientError, e, "telemetry command {Command} failed", request.Command);
                data = null;
            }
        }
        return Reply(key, data);
    }

    private static void Add(string command, string help, Func<string?, JsonNode?> handler) => s_commands.Add(command, new Command(help, handler));

    private static string Reply(string key, JsonNode? data)
    {
        string json = new JsonObject { [key] = data }.ToJsonString();
        // Too big for a client's buffer: drop trailing entries, as DPDK's JSON helpers drop what does not fit.
        while (Encoding.UTF8.GetByteCount(json) > MaxOutputLength)
        {
            if (data is JsonObject o && o.Count > 0)
                o.RemoveAt(o.Count - 1);
            else if (data is JsonArray a && a.Count > 0)
                a.RemoveAt(a.Count - 1);
            else
                data = null;
            json = new JsonObject { [key] = data?.DeepClone() }.ToJsonString();
        }
        return json;
    }

    internal static JsonObject Info() => new()
    {
        ["version"] = "PacketPlane " + (typeof(TelemetryCommands).Assembly.GetName().Version?.ToString(3) ?? "0"),
        ["pid"] = Environment.ProcessId,
        ["max_output_len"] = MaxOutputLength,
    };

    private static JsonNode? Help(string? parameters)
    {
        if (parameters is null)
        {
            // DPDK 22.11 answers a bare /help with its own help text.
            lock (s_lock)
                return JsonValue.Create(s_commands["/help"].Help);
        }
        lock (s_lock)
        {
            return s_commands.TryGetValue(parameters, out Command? c) ? new JsonObject { [parameters] = c.Help } : null;
        }
    }

    /// <summary>
    /// A port id as DPDK's ethdev handlers read it: it must start with a digit; the number is read as strtoul base 0
    /// (decimal, 0x hex, 0 octal) and anything after it is ignored.
    /// </summary>
    internal static bool TryParseLeadingNumber(string? text, out ulong value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text) || !char.IsAsciiDigit(text[0]))
            return false;
        int at = 0;
        int radix = 10;
        if (text.Length > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && text.Length > 2 && char.IsAsciiHexDigit(text[2]))
        {
            radix = 16;
            at = 2;
        }
        else if (text[0] == '0')
        {
            radix = 8;
        }
        for (; at < text.Length; at++)
        {
            int digit = HexValue(text[at]);
            if (digit < 0 || digit >= radix)
                break;
            if (value > (ulong.MaxValue - (ulong)digit) / (ulong)radix)
                return false;
            value = value * (ulong)radix + (ulong)digit;
        }
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static JsonNode? WithPort(string? parameters, Func<EthDev, JsonNode> handler)
    {
        if (!TryParseLeadingNumber(parameters, out ulong id) || id >= EthDev.MaxPorts)
            return null;
        EthDev? port = EthDev.All.FirstOrDefault(p => p.PortId == id);
        return port is null || port.State == PortState.Closed ? null : handler(port);
    }

    private static JsonNode EthdevStats(EthDev port)
    {
        PortStats s = port.GetStats();
        return new JsonObject
        {
            ["ipackets"] = s.InPackets,
            ["opackets"] = s.OutPackets,
            ["ibytes"] = s.InBytes,
            ["obytes"] = s.OutBytes,
            ["imissed"] = s.InMissed,
            ["ierrors"] = s.InErrors,
            ["oerrors"] = s.OutErrors,
            ["rx_nombuf"] = s.RxNoMbuf,
            ["q_ipackets"] = QueueArray(s.RxQueues, q => q.Packets),
            ["q_opackets"] = QueueArray(s.TxQueues, q => q.Packets),
            ["q_ibytes"] = QueueArray(s.RxQueues, q => q.Bytes),
            ["q_obytes"] = QueueArray(s.TxQueues, q => q.Bytes),
            ["q_errors"] = QueueArray(s.RxQueues, q => q.Errors),
        };
    }

    private static JsonArray QueueArray(IReadOnlyList<QueueStats> queues, Func<QueueStats, ulong> field)
    {
        var array = new JsonArray();
        for (int q = 0; q < QueueStatCounters; q++)
            array.Add((JsonNode)(q < queues.Count ? field(queues[q]) : 0UL));
        return array;
    }

    private static JsonNode EthdevXStats(EthDev port)
    {
        var o = new JsonObject();
        foreach (XStat x in port.GetXStats())
            o[x.Name] = x.Value;
        return o;
    }

    private static JsonNode EthdevLink(EthDev port)
    {
        LinkStatus link = port.Link;
        return link.IsUp
            ? new JsonObject { ["status"] = "UP", ["speed"] = link.SpeedMbps, ["duplex"] = link.FullDuplex ? "full-duplex" : "half-duplex" }
            : new JsonObject { ["status"] = "DOWN" };
    }

    private static JsonNode EthdevInfo(EthDev port) => new JsonObject
    {
        ["name"] = port.Name,
        ["driver_name"] = port.Driver.Name,
        ["state"] = 1, // RTE_ETH_DEV_ATTACHED
        ["nb_rx_queues"] = port.RxQueueCount,
        ["nb_tx_queues"] = port.TxQueueCount,
        ["port_id"] = (int)port.PortId,
        ["mtu"] = port.Mtu,
        ["mac_addr"] = port.MacAddress.ToString().ToUpperInvariant(),
        ["promiscuous"] = port.Promiscuous ? 1 : 0,
        ["all_multicast"] = port.AllMulticast ? 1 : 0,
        ["dev_started"] = port.IsStarted ? 1 : 0,
        ["dev_configured"] = port.State == PortState.Created ? 0 : 1,
        ["rx_offloads"] = (ulong)port.Configuration.RxOffloads,
        ["tx_offloads"] = (ulong)port.Configuration.TxOffloads,
        ["mode"] = port.Info.Mode,
    };

    private static JsonNode? MempoolInfo(string? name)
    {
        MbufPool? pool = name is null ? null : MbufPool.All.FirstOrDefault(p => p.Name == name);
        if (pool is null)
            return null;
        return new JsonObject
        {
            ["name"] = pool.Name,
            ["pool_id"] = (int)pool.Id,
            ["flags"] = 0,
            ["socket_id"] = pool.Options.NumaNode,
            ["size"] = pool.Count,
            ["cache_size"] = pool.CacheSize,
            ["elt_size"] = pool.ElementSize,
            ["header_size"] = 0,
            ["trailer_size"] = 0,
            ["private_data_size"] = pool.PrivateSize,
            ["populated_size"] = pool.Count,
            ["mz_name"] = pool.Region.Name,
            ["mz_len"] = pool.Region.Length,
            ["mz_hugepage_sz"] = pool.Region.PageSize,
            ["avail_count"] = pool.Available,
            ["in_use_count"] = pool.InUse,
        };
    }

    private static int[] LcoreIds() =>
        Eal.Current is Eal eal ? eal.Lcores.Select(l => l.Id).ToArray() : LcorePollStats.ActiveLcores();

    private static JsonNode? LcoreInfo(string? parameters)
    {
        if (!TryParseLeadingNumber(parameters, out ulong value) || value >= LcorePollStats.MaxLcores)
            return null;
        int id = (int)value;
        Lcore? lcore = Eal.Current?.Lcores.FirstOrDefault(l => l.Id == id);
        (ulong polls, ulong busy) = LcorePollStats.Get(id);
        if (lcore is null && polls == 0)
            return null;
        var o = new JsonObject { ["lcore_id"] = id };
        if (lcore is not null)
        {
            o["socket"] = lcore.NumaNode;
            o["role"] = lcore.IsMain ? "MAIN" : "EAL";
            o["cpuset"] = new JsonArray(lcore.Cpu);
            o["state"] = lcore.State.ToString().ToUpperInvariant();
        }
        o["total_polls"] = polls;
        o["busy_polls"] = busy;
        o["busy_ratio"] = Math.Round(polls == 0 ? 0 : (double)busy / polls, 6);
        return o;
    }

    /// <summary>Formats a number for logs.</summary>
    internal static string Format(ulong v) => v.ToString(CultureInfo.InvariantCulture);
}
