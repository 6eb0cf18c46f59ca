using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using PacketPlane.Memory;
using Xunit;
using static PacketPlane.Drivers.Virtio.VhostUser.VhostUserProtocol;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>
/// Malformed vhost-user messages written as raw bytes to our backend's socket: each is refused with an error
/// (logged, NACKed when asked, the connection closed), nothing leaks, and the backend takes the next frontend.
/// </summary>
[Collection(LcoreIdentity.Collection)]
public sealed class VhostProtocolRobustnessTests : IDisposable
{
    private static int s_next;
    private readonly string _dir = Directory.CreateTempSubdirectory("ppvhostbad").FullName;
    private readonly string _sock;
    private readonly EthDev _backend;

    public VhostProtocolRobustnessTests()
    {
        _sock = Path.Combine(_dir, "vhost.sock");
        int id = 500 + Interlocked.Increment(ref s_next) + Environment.ProcessId % 1000 * 1000;
        _backend = EthDev.Create($"net_vhost{id},iface={_sock}");
    }

    public void Dispose()
    {
        _backend.Close();
        Directory.Delete(_dir, recursive: true);
    }

    private VhostUserChannel Connect()
    {
        int fd = UnixSocket.Connect(_sock);
        Assert.True(fd >= 0, $"connect failed: {Libc.Describe(-fd)}");
        return new VhostUserChannel(fd);
    }

    private static byte[] Message(uint request, uint flags, ReadOnlySpan<byte> payload, uint? size = null)
    {
        var bytes = new byte[HeaderSize + payload.Length];
        var header = new VhostUserHeader { Request = request, Flags = flags, Size = size ?? (uint)payload.Length };
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes.AsSpan(HeaderSize));
        return bytes;
    }

    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    private static ReceiveStatus Read(VhostUserChannel ch, out ulong u64, out uint request)
    {
        var payload = new byte[MaxPayloadSize];
        var fds = new int[MaxFds];
        var msg = new VhostUserMessage();
        ReceiveStatus s = ch.Receive(ref msg, payload, fds, 5000);
        VhostUserChannel.CloseAll(msg.Fds);
        request = msg.Header.Request;
        u64 = s == ReceiveStatus.Ok && msg.Payload.Length >= 8 ? BitConverter.ToUInt64(payload, 0) : 0;
        return s;
    }

    /// <summary>
    /// The backend closes the connection: the next read sees end of stream, or a reset when the backend closed with
    /// our unread bytes still queued (the kernel answers those with RST).
    /// </summary>
    private static void AssertClosed(VhostUserChannel ch)
    {
        ReceiveStatus s = Read(ch, out _, out _);
        Assert.True(s is ReceiveStatus.Closed or ReceiveStatus.Failed, $"expected the backend to close the connection, got {s}");
    }

    private ulong Refusals => _backend.GetXStats().Single(x => x.Name == "vhost_refused_messages").Value;

    /// <summary>After any refusal the backend must still serve a well-behaved frontend.</summary>
    private void AssertBackendStillServes()
    {
        using VhostUserChannel ch = Connect();
        Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, []), []));
        Assert.Equal(ReceiveStatus.Ok, Read(ch, out ulong features, out uint req));
        Assert.Equal(VHOST_USER_GET_FEATURES, req);
        Assert.NotEqual(0UL, features & (1UL << 32));   // VERSION_1 offered
    }

    [Fact]
    public void Payload_size_that_does_not_match_the_request_is_refused()
    {
        ulong before = Refusals;
        using (VhostUserChannel ch = Connect())
        {
            // SET_FEATURES carries a u64; send 4 bytes.
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, new byte[4]), []));
            AssertClosed(ch);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void Payload_larger_than_any_request_is_refused()
    {
        ulong before = Refusals;
        using (VhostUserChannel ch = Connect())
        {
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, new byte[16], size: 1 << 20), []));
            AssertClosed(ch);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void More_than_eight_memory_regions_are_refused()
    {
        ulong before = Refusals;
        using (VhostUserChannel ch = Connect())
        {
            var payload = new byte[8 + 8 * 32];
            BitConverter.GetBytes(9u).CopyTo(payload, 0);
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, payload), []));
            AssertClosed(ch);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void File_descriptor_count_that_does_not_match_is_refused_and_closed()
    {
        ulong before = Refusals;
        int memfd = Libc.memfd_create("ppbad", Libc.MFD_CLOEXEC);
        Assert.True(memfd >= 0);
        Assert.Equal(0, Libc.ftruncate(memfd, 1 << 20));
        try
        {
            using (VhostUserChannel ch = Connect())
            {
                // Two regions announced, one descriptor sent.
                var payload = new byte[8 + 2 * 32];
                BitConverter.GetBytes(2u).CopyTo(payload, 0);
                WriteRegion(payload, 0, 0x1000_0000, 1 << 20);
                WriteRegion(payload, 1, 0x2000_0000, 1 << 20);
                Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, payload), [memfd]));
                AssertClosed(ch);
            }
            using (VhostUserChannel ch = Connect())
            {
                // SET_VRING_KICK without the no-fd bit and without a descriptor.
                Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_VRING_KICK, VHOST_USER_VERSION, U64(0)), []));
                AssertClosed(ch);
            }
            using (VhostUserChannel ch = Connect())
            {
                // GET_FEATURES carries no descriptor; one came.
                Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, []), [memfd]));
                AssertClosed(ch);
            }
        }
        finally
        {
            Libc.close(memfd);
        }
        Assert.Equal(before + 3, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void Unknown_request_is_nacked_when_a_reply_is_asked_for_and_the_connection_closed()
    {
        ulong before = Refusals;
        using (VhostUserChannel ch = Connect())
        {
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, []), []));
            Assert.Equal(ReceiveStatus.Ok, Read(ch, out _, out _));
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_VERSION, []), []));
            Assert.Equal(ReceiveStatus.Ok, Read(ch, out ulong protocol, out _));
            Assert.NotEqual(0UL, protocol & (1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK));
            Assert.Equal(0, ch.SendRaw(Message(VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_VERSION, U64(1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK)), []));
            Assert.Equal(0, ch.SendRaw(Message(99, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK, U64(0)), []));
            Assert.Equal(ReceiveStatus.Ok, Read(ch, out ulong ack, out uint req));
            Assert.Equal(99u, req);
            Assert.NotEqual(0UL, ack);                      // NACK
            AssertClosed(ch);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void Ring_address_outside_every_region_is_refused()
    {
        ulong before = Refusals;
        int memfd = Libc.memfd_create("ppbad", Libc.MFD_CLOEXEC);
        Assert.Equal(0, Libc.ftruncate(memfd, 1 << 20));
        try
        {
            using VhostUserChannel ch = Connect();
            ch.SendRaw(Message(VHOST_USER_SET_OWNER, VHOST_USER_VERSION, []), []);
            ch.SendRaw(Message(VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, U64(1UL << 32)), []);
            var table = new byte[8 + 32];
            BitConverter.GetBytes(1u).CopyTo(table, 0);
            WriteRegion(table, 0, 0x1000_0000, 1 << 20);
            ch.SendRaw(Message(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, table), [memfd]);
            var num = new byte[8];
            BitConverter.GetBytes(256u).CopyTo(num, 4);
            ch.SendRaw(Message(VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, num), []);
            var addr = new VhostVringAddr { Index = 0, DescUserAddr = 0x5000_0000, AvailUserAddr = 0x1000_1000, UsedUserAddr = 0x1000_2000 };
            ch.SendRaw(Message(VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringAddr>(in addr))), []);
            AssertClosed(ch);
        }
        finally
        {
            Libc.close(memfd);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void Region_larger_than_its_file_is_refused_instead_of_mapped()
    {
        ulong before = Refusals;
        int memfd = Libc.memfd_create("ppbad", Libc.MFD_CLOEXEC);
        Assert.Equal(0, Libc.ftruncate(memfd, 4096));
        try
        {
            using VhostUserChannel ch = Connect();
            var table = new byte[8 + 32];
            BitConverter.GetBytes(1u).CopyTo(table, 0);
            WriteRegion(table, 0, 0x1000_0000, 1 << 20);    // 1 MiB claimed, 4 KiB exist: touching it would SIGBUS
            ch.SendRaw(Message(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, table), [memfd]);
            AssertClosed(ch);
        }
        finally
        {
            Libc.close(memfd);
        }
        Assert.Equal(before + 1, Refusals);
        AssertBackendStillServes();
    }

    [Fact]
    public void A_frontend_still_moves_traffic_after_the_refusals()
    {
        using (VhostUserChannel ch = Connect())
        {
            ch.SendRaw(Message(12345, VHOST_USER_VERSION, []), []);
            AssertClosed(ch);
        }
        using var _ = LcoreIdentity.As(4);
        using MbufPool pool = MbufPool.Create("vhbad" + Environment.ProcessId + Interlocked.Increment(ref s_next), 2048, cacheSize: 32);
        _backend.Configure(1, 1);
        _backend.SetupRxQueue(0, 256, pool);
        _backend.SetupTxQueue(0, 256);
        _backend.Start();
        using EthDev frontend = EthDev.Create($"net_virtio_user{700 + Interlocked.Increment(ref s_next) + Environment.ProcessId % 1000 * 1000},path={_sock}");
        frontend.Configure(1, 1);
        frontend.SetupRxQueue(0, 256, pool);
        frontend.SetupTxQueue(0, 256);
        frontend.Start();
        Assert.True(frontend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp);
        Assert.True(_backend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp);
        var burst = new Packet[8];
        Assert.Equal(8, VirtioPair.Fill(pool, burst, 0, 100));
        Assert.Equal(8, frontend.TxBurst(0, burst));
        var rx = new Packet[8];
        int got = 0;
        for (int i = 0; i < 1000 && got < 8; i++)
            got += _backend.RxBurst(0, rx.AsSpan(got));
        Assert.Equal(8, got);
        for (int i = 0; i < 8; i++)
            Assert.True(VirtioPair.CheckFrame(rx[i].Data, i, 100));
        Packet.FreeBulk(rx);
        frontend.Close();
        _backend.Stop();
    }

    private static void WriteRegion(byte[] payload, int index, ulong address, ulong size)
    {
        var r = new VhostUserMemoryRegion { GuestPhysAddr = address, UserspaceAddr = address, MemorySize = size, MmapOffset = 0 };
        MemoryMarshal.Write(payload.AsSpan(8 + index * 32), in r);
    }
}
