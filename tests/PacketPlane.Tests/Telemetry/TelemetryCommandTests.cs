using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PacketPlane.Ethdev;
using PacketPlane.Memory;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>Request splitting and replies, in DPDK's shapes, without a socket.</summary>
public class TelemetryCommandTests
{
    [Theory]
    [InlineData("/ethdev/stats,0", "/ethdev/stats", "0")]
    [InlineData("/info", "/info", null)]
    [InlineData("/help,/ethdev/xstats", "/help", "/ethdev/xstats")]
    [InlineData(",,/info", "/info", null)]             // strtok skips leading delimiters
    [InlineData("/x,", "/x", null)]                    // an empty parameter is no parameter
    [InlineData("/x,a,b", "/x", "a,b")]                // the parameter is everything after the first comma
    [InlineData(",,,", null, null)]
    [InlineData("", null, null)]
    [InlineData("/info\0garbage,1", "/info", null)]    // C strings end at NUL
    public void Requests_split_as_dpdk_splits_them(string raw, string? command, string? parameters)
    {
        TelemetryRequest r = TelemetryRequest.Parse(raw);
        Assert.Equal(command, r.Command);
        Assert.Equal(parameters, r.Parameters);
    }

    [Fact]
    public void Requests_longer_than_dpdk_reads_are_cut_and_bad_utf8_is_replaced()
    {
        TelemetryRequest r = TelemetryRequest.Parse(Encoding.UTF8.GetBytes("/x," + new string('a', 2000)));
        Assert.Equal(TelemetryRequest.MaxRequestBytes - 3, r.Parameters!.Length);
        TelemetryRequest bad = TelemetryRequest.Parse(new byte[] { (byte)'/', 0xff, 0xfe, (byte)',', 0xc3 });
        Assert.Equal("/\uFFFD\uFFFD", bad.Command);
    }

    private static JsonNode? Reply(string request, string expectedKey)
    {
        string json = TelemetryCommands.Execute(request);
        JsonObject o = JsonNode.Parse(json)!.AsObject();
        Assert.Single(o);
        Assert.True(o.ContainsKey(expectedKey), json);
        return o[expectedKey];
    }

    [Fact]
    public void Info_list_and_help_answer_like_dpdk()
    {
        JsonObject info = Reply("/info", "/info")!.AsObject();
        Assert.StartsWith("PacketPlane ", (string)info["version"]!);
        Assert.Equal(Environment.ProcessId, (int)info["pid"]!);
        Assert.Equal(16384, (int)info["max_output_len"]!);

        string[] names = Reply("/", "/")!.AsArray().Select(n => (string)n!).ToArray();
        foreach (string c in new[] { "/", "/info", "/help", "/ethdev/list", "/ethdev/stats", "/ethdev/xstats", "/ethdev/link_status", "/mempool/list", "/mempool/info" })
            Assert.Contains(c, names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);

        Assert.Contains("port id", (string)Reply("/help,/ethdev/stats", "/help")!["/ethdev/stats"]!);
        Assert.Equal(JsonValueKind.String, Reply("/help", "/help")!.GetValueKind());
        Assert.Null(Reply("/help,/nope", "/help"));
        Assert.Null(Reply("/nope", "/nope"));
        Assert.Null(Reply("", "none"));
        string longCommand = "/" + new string('x', 100);
        Assert.Null(Reply(longCommand, longCommand[..56]));
    }

    [Fact]
    public void Port_and_pool_commands_report_a_running_port()
    {
        using MbufPool pool = MbufPool.Create("tel_pool", 512, 32);
        using EthDev port = EthDev.Create("net_null44,size=128");
        port.Configure(2, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupRxQueue(1, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        var burst = new Packet[4];
        Assert.Equal(4, port.RxBurst(1, burst));
        Assert.Equal(4, port.TxBurst(0, burst));
        int id = port.PortId;

        Assert.Contains(id, Reply("/ethdev/list", "/ethdev/list")!.AsArray().Select(n => (int)n!));
        JsonObject stats = Reply($"/ethdev/stats,{id}", "/ethdev/stats")!.AsObject();
        Assert.Equal(4UL, (ulong)stats["ipackets"]!);
        Assert.Equal(4UL, (ulong)stats["opackets"]!);
        Assert.Equal(512UL, (ulong)stats["ibytes"]!);
        Assert.Equal(0UL, (ulong)stats["rx_nombuf"]!);
        Assert.Equal(16, stats["q_ipackets"]!.AsArray().Count);
        Assert.Equal(4UL, (ulong)stats["q_ipackets"]![1]!);
        Assert.Equal(new[] { "ipackets", "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf",
            "q_ipackets", "q_opackets", "q_ibytes", "q_obytes", "q_errors" }, stats.Select(kv => kv.Key));

        JsonObject xstats = Reply($"/ethdev/xstats,{id}", "/ethdev/xstats")!.AsObject();
        Assert.Equal(4UL, (ulong)xstats["rx_good_packets"]!);
        Assert.Equal(4UL, (ulong)xstats["rx_q1_packets"]!);

        JsonObject link = Reply($"/ethdev/link_status,{id}", "/ethdev/link_status")!.AsObject();
        Assert.Equal("UP", (string)link["status"]!);
        Assert.Equal(10000, (int)link["speed"]!);
        Assert.Equal("full-duplex", (string)link["duplex"]!);

        JsonObject info = Reply($"/ethdev/info,{id}", "/ethdev/info")!.AsObject();
        Assert.Equal("net_null44", (string)info["name"]!);
        Assert.Equal(2, (int)info["nb_rx_queues"]!);
        Assert.Equal(1, (int)info["dev_started"]!);

        Assert.Contains("tel_pool", Reply("/mempool/list", "/mempool/list")!.AsArray().Select(n => (string)n!));
        JsonObject mp = Reply("/mempool/info,tel_pool", "/mempool/info")!.AsObject();
        Assert.Equal(512, (int)mp["size"]!);
        Assert.Equal(32, (int)mp["cache_size"]!);
        Assert.Equal(pool.InUse, (int)mp["in_use_count"]!);

        // Parameters as DPDK reads them: leading digits (base 0), trailing text ignored; anything else is null.
        Assert.NotNull(Reply($"/ethdev/stats,{id}abc", "/ethdev/stats"));
        Assert.NotNull(Reply($"/ethdev/stats,0x{id:x}", "/ethdev/stats"));
        Assert.Null(Reply("/ethdev/stats", "/ethdev/stats"));
        Assert.Null(Reply("/ethdev/stats,abc", "/ethdev/stats"));
        Assert.Null(Reply("/ethdev/stats,-1", "/ethdev/stats"));
        Assert.Null(Reply("/ethdev/stats,99999999999999999999999", "/ethdev/stats"));
        Assert.Null(Reply("/ethdev/stats,1023", "/ethdev/stats"));
        Assert.Null(Reply("/mempool/info,nope", "/mempool/info"));
        Assert.Null(Reply("/mempool/info", "/mempool/info"));
        Packet.FreeBulk(burst.AsSpan(0, 0));
    }

    [Fact]
    public void Registered_commands_are_listed_and_answered_and_a_failing_handler_answers_null()
    {
        TelemetryCommands.Register("/test/echo", "Echoes its parameter", p => JsonValue.Create(p));
        TelemetryCommands.Register("/test/throws", "Always fails", _ => throw new InvalidOperationException("boom"));
        try
        {
            Assert.Equal("hi,there", (string)Reply("/test/echo,hi,there", "/test/echo")!);
            Assert.Null(Reply("/test/throws", "/test/throws"));
            Assert.Contains("/test/echo", TelemetryCommands.Names);
            Assert.Throws<ArgumentException>(() => TelemetryCommands.Register("/test/echo", "x", _ => null));
            Assert.Throws<ArgumentException>(() => TelemetryCommands.Register("no-slash", "x", _ => null));
            Assert.Throws<ArgumentException>(() => TelemetryCommands.Register("/" + new string('a', 60), "x", _ => null));
            Assert.Throws<ArgumentException>(() => TelemetryCommands.Register("/test/long", new string('h', 64), _ => null));
        }
        finally
        {
            TelemetryCommands.Unregister("/test/echo");
            TelemetryCommands.Unregister("/test/throws");
        }
    }

    [Fact]
    public void Replies_never_exceed_max_output_len()
    {
        TelemetryCommands.Register("/test/huge", "A reply too big for one message", _ =>
        {
            var o = new JsonObject();
            for (int i = 0; i < 5000; i++)
                o[$"counter_{i}"] = (ulong)i;
            return o;
        });
        try
        {
            string json = TelemetryCommands.Execute("/test/huge");
            Assert.True(Encoding.UTF8.GetByteCount(json) <= TelemetryCommands.MaxOutputLength);
            JsonObject data = JsonNode.Parse(json)!["/test/huge"]!.AsObject();
            Assert.True(data.Count > 100);
            Assert.True(data.ContainsKey("counter_0"));
        }
        finally
        {
            TelemetryCommands.Unregister("/test/huge");
        }
    }
}
