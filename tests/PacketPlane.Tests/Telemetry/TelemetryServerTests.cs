using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using PacketPlane.Telemetry;
using Xunit;

namespace PacketPlane.Tests.Telemetry;

/// <summary>The socket side: SOCK_SEQPACKET, the info message on connect, one reply per request, the connection limit, cleanup.</summary>
public class TelemetryServerTests
{
    internal static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    internal static JsonNode Receive(Socket s)
    {
        var buffer = new byte[TelemetryCommands.MaxOutputLength];
        int n = s.Receive(buffer);
        return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, n))!;
    }

    internal static JsonNode Ask(Socket s, string request)
    {
        s.Send(Encoding.UTF8.GetBytes(request));
        return Receive(s);
    }

    private static string TempPath() => Path.Combine(Path.GetTempPath(), $"pptel_{Guid.NewGuid():N}"[..20]);

    [Fact]
    public void Client_gets_the_info_message_then_one_reply_per_request()
    {
        string path = TempPath();
        using (TelemetryServer server = TelemetryServer.StartAtPath(path))
        {
            using Socket client = Connect(path);
            JsonObject hello = Receive(client).AsObject();
            Assert.Equal(new[] { "version", "pid", "max_output_len" }, hello.Select(kv => kv.Key));
            Assert.Equal(Environment.ProcessId, (int)hello["pid"]!);
            Assert.Equal(16384, (int)hello["max_output_len"]!);
            Assert.Equal(3, hello.Count);
            Assert.NotNull(Ask(client, "/")["/"]);
            Assert.Equal(Environment.ProcessId, (int)Ask(client, "/info")["/info"]!["pid"]!);
            Assert.Null(Ask(client, "/unknown")["/unknown"]);
            Assert.Equal(1, server.ClientCount);
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void At_most_ten_clients_are_served_at_once()
    {
        string path = TempPath();
        using TelemetryServer server = TelemetryServer.StartAtPath(path);
        var clients = new Socket[TelemetryServer.MaxConnections];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = Connect(path);
            Receive(clients[i]);
        }
        using (Socket extra = Connect(path))
        {
            var buffer = new byte[256];
            Assert.Equal(0, extra.Receive(buffer)); // accepted and closed at once
        }
        clients[0].Dispose();
        for (int i = 0; i < 100 && server.ClientCount >= TelemetryServer.MaxConnections; i++)
            Thread.Sleep(20);
        using (Socket again = Connect(path))
            Assert.NotNull(Receive(again)["pid"]);
        foreach (Socket c in clients)
            c.Dispose();
    }

    [Fact]
    public void Dispose_disconnects_clients_and_is_idempotent()
    {
        string path = TempPath();
        TelemetryServer server = TelemetryServer.StartAtPath(path);
        using Socket client = Connect(path);
        Receive(client);
        server.Dispose();
        server.Dispose();
        Assert.Equal(0, client.Receive(new byte[64]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_stale_socket_file_is_replaced_and_a_live_one_gets_the_next_instance_number()
    {
        string prefix = $"pptest_{Guid.NewGuid():N}"[..16];
        string dir = TelemetryServer.RuntimeDirectory(prefix);
        Assert.EndsWith(Path.Combine("dpdk", prefix), dir);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, TelemetryServer.SocketName), "stale");
        try
        {
            using TelemetryServer first = TelemetryServer.Start(prefix);
            Assert.Equal(Path.Combine(dir, "dpdk_telemetry.v2"), first.SocketPath);
            using TelemetryServer second = TelemetryServer.Start(prefix);
            Assert.Equal(Path.Combine(dir, "dpdk_telemetry.v2:1"), second.SocketPath);
            Assert.Equal(1, second.Instance);
            Assert.Equal($" -f {prefix} -i 1", TelemetryServer.ClientArguments(second.SocketPath));
            using Socket c = Connect(second.SocketPath);
            Assert.NotNull(Receive(c)["pid"]);
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void The_runtime_directory_is_created_and_removed_when_empty()
    {
        string prefix = $"pptest_{Guid.NewGuid():N}"[..16];
        string dir = TelemetryServer.RuntimeDirectory(prefix);
        Assert.False(Directory.Exists(dir));
        using (TelemetryServer server = TelemetryServer.Start(prefix))
            Assert.True(Directory.Exists(dir));
        Assert.False(Directory.Exists(dir));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Bad_file_prefixes_are_refused(string prefix)
    {
        EalArgumentException e = Assert.Throws<EalArgumentException>(() => TelemetryServer.RuntimeDirectory(prefix));
        Assert.Contains("--file-prefix", e.Message);
    }
}
