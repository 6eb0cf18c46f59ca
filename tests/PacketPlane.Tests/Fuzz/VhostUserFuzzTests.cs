using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging.Abstractions;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using Xunit;
using Xunit.Abstractions;
using static PacketPlane.Drivers.Virtio.VhostUser.VhostUserProtocol;

namespace PacketPlane.Tests.Fuzz;

/// <summary>
/// Mutated vhost-user message streams written to our backend's socket (100,000 connections, PACKETPLANE_FUZZ_ITERATIONS):
/// whatever arrives, the backend refuses or serves it, never crashes, leaks no descriptor, and still answers a
/// well-behaved frontend at the end. A real memfd rides along with streams that start with SET_MEM_TABLE so the
/// region checks (sizes, offsets, overlap, larger than the file) are exercised with a mappable descriptor.
/// It counts the process's open descriptors, so it runs in the serial EAL collection: a test running beside it
/// would open and close descriptors of its own.
/// </summary>
[Collection(PacketPlane.Tests.Eal.EalCollection.Name)]
public sealed class VhostUserFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_message_streams_never_take_the_backend_down()
    {
        string dir = Directory.CreateTempSubdirectory("ppvhostfuzz").FullName;
        string sock = Path.Combine(dir, "vhost.sock");
        int memfd = Libc.memfd_create("ppfuzz", Libc.MFD_CLOEXEC);
        Assert.True(memfd >= 0);
        Assert.Equal(0, Libc.ftruncate(memfd, 2 << 20));
        Internal.Log.Factory = NullLoggerFactory.Instance;
        EthDev backend = EthDev.Create($"net_vhost{900 + Environment.ProcessId % 97},iface={sock}");
        try
        {
            int fdsBefore = OpenFds();
            FuzzResult r = Fuzzer.Run("vhost-user messages", Seeds(), [], input =>
            {
                int fd = UnixSocket.Connect(sock);
                Assert.True(fd >= 0, $"backend stopped accepting: {Libc.Describe(-fd)}");
                using var ch = new VhostUserChannel(fd);
                bool memTable = input.Length >= 4 && BitConverter.ToUInt32(input, 0) == VHOST_USER_SET_MEM_TABLE;
                ch.SendRaw(input, memTable ? [memfd] : []);
            }, _ => false, iterations: Fuzzer.DefaultIterations);
            output.WriteLine($"{r}; refused messages: {Refusals(backend)}, connections: {Connections(backend)}");

            AssertStillServes(sock);
            // Sessions end asynchronously after our side closes; give the last ones a moment.
            for (int i = 0; i < 100 && OpenFds() > fdsBefore; i++)
                Thread.Sleep(20);
            Assert.True(OpenFds() <= fdsBefore, $"descriptors {fdsBefore} -> {OpenFds()}: the backend leaked what fuzzed sessions sent");
            Assert.True(Refusals(backend) > 1000, "the fuzzer never got a message refused: it is not reaching the parser");
        }
        finally
        {
            backend.Close();
            Libc.close(memfd);
            Internal.Log.Reset();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Valid request streams, in the order a frontend sends them (vhost-user.rst), one to a few messages each.</summary>
    private static IEnumerable<byte[]> Seeds()
    {
        byte[] U64(ulong v) => BitConverter.GetBytes(v);
        byte[] State(uint index, uint num) => [.. BitConverter.GetBytes(index), .. BitConverter.GetBytes(num)];
        byte[] Addr(uint index) =>
        [
            .. BitConverter.GetBytes(index), .. BitConverter.GetBytes(0u), .. U64(0x1000_0000), .. U64(0x1000_4000),
            .. U64(0x1000_2000), .. U64(0),
        ];
        byte[] MemTable() => [.. BitConverter.GetBytes(1u), .. BitConverter.GetBytes(0u), .. U64(0x1000_0000), .. U64(2 << 20), .. U64(0x7f00_0000_0000), .. U64(0)];
        byte[] Msg(uint request, byte[] payload, uint flags = VHOST_USER_VERSION) =>
            [.. BitConverter.GetBytes(request), .. BitConverter.GetBytes(flags), .. BitConverter.GetBytes((uint)payload.Length), .. payload];

        yield return Msg(VHOST_USER_SET_MEM_TABLE, MemTable());
        yield return [.. Msg(VHOST_USER_SET_OWNER, []), .. Msg(VHOST_USER_GET_FEATURES, [])];
        yield return [.. Msg(VHOST_USER_SET_FEATURES, U64((1UL << 32) | (1UL << 30))), .. Msg(VHOST_USER_SET_PROTOCOL_FEATURES, U64(0b1001), VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK)];
        yield return [.. Msg(VHOST_USER_SET_VRING_NUM, State(0, 256)), .. Msg(VHOST_USER_SET_VRING_BASE, State(0, 0)), .. Msg(VHOST_USER_SET_VRING_ADDR, Addr(0))];
        yield return [.. Msg(VHOST_USER_SET_VRING_KICK, U64(0x100)), .. Msg(VHOST_USER_SET_VRING_CALL, U64(0x101)), .. Msg(VHOST_USER_SET_VRING_ENABLE, State(1, 1))];
        yield return [.. Msg(VHOST_USER_GET_VRING_BASE, State(0, 0)), .. Msg(VHOST_USER_SET_STATUS, U64(0xf)), .. Msg(VHOST_USER_GET_QUEUE_NUM, [])];
        yield return Msg(VHOST_USER_NET_SET_MTU, U64(1500), VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
    }

    private static void AssertStillServes(string sock)
    {
        int fd = UnixSocket.Connect(sock);
        Assert.True(fd >= 0, "the backend no longer accepts connections after the fuzz");
        using var ch = new VhostUserChannel(fd);
        Assert.Equal(0, ch.SendRaw([.. BitConverter.GetBytes(VHOST_USER_GET_FEATURES), .. BitConverter.GetBytes(VHOST_USER_VERSION), .. BitConverter.GetBytes(0u)], []));
        var payload = new byte[MaxPayloadSize];
        var fds = new int[MaxFds];
        var msg = new VhostUserMessage();
        Assert.Equal(ReceiveStatus.Ok, ch.Receive(ref msg, payload, fds, 5000));
        Assert.Equal(VHOST_USER_GET_FEATURES, msg.Header.Request);
    }

    private static int OpenFds() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    private static ulong Refusals(EthDev port) => port.GetXStats().Single(x => x.Name == "vhost_refused_messages").Value;

    private static ulong Connections(EthDev port) => port.GetXStats().Single(x => x.Name == "vhost_connections").Value;
}
