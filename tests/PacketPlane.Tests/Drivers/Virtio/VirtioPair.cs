using System;
using System.Buffers.Binary;
using System.IO;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Memory;

namespace PacketPlane.Tests.Drivers.Virtio;

/// <summary>
/// Our virtio-user frontend connected to our vhost-user backend over a socket in a temporary directory, both
/// polled from the calling thread. Builds deterministic frames and checks them byte for byte.
/// </summary>
internal sealed class VirtioPair : IDisposable
{
    private static int s_next;
    private readonly string _dir;

    public VirtioPair(string frontendArgs = "", string backendArgs = "", int poolSize = 4096, int dataRoom = MbufPool.DefaultDataRoomSize,
        bool frontendIsServer = false)
    {
        int id = Interlocked.Increment(ref s_next) + Environment.ProcessId % 1000 * 100;
        _dir = Directory.CreateTempSubdirectory("ppvirtio").FullName;
        SocketPath = Path.Combine(_dir, "vhost.sock");
        FrontendPool = MbufPool.Create($"vu_front{id}", poolSize, cacheSize: 64, dataRoomSize: dataRoom);
        BackendPool = MbufPool.Create($"vu_back{id}", poolSize, cacheSize: 64, dataRoomSize: dataRoom);
        string backendRole = frontendIsServer ? ",client=1" : "";
        string frontendRole = frontendIsServer ? ",server=1" : "";
        if (frontendIsServer)
        {
            Frontend = EthDev.Create($"net_virtio_user{id},path={SocketPath}{frontendRole}{frontendArgs}");
            Backend = EthDev.Create($"net_vhost{id},iface={SocketPath}{backendRole}{backendArgs}");
        }
        else
        {
            Backend = EthDev.Create($"net_vhost{id},iface={SocketPath}{backendRole}{backendArgs}");
            Frontend = EthDev.Create($"net_virtio_user{id},path={SocketPath}{frontendRole}{frontendArgs}");
        }
        Setup(Backend, BackendPool);
        Setup(Frontend, FrontendPool);
        FrontendInUseAtStart = FrontendPool.InUse;
    }

    public string SocketPath { get; }
    public MbufPool FrontendPool { get; }
    public MbufPool BackendPool { get; }
    public EthDev Frontend { get; }
    public EthDev Backend { get; }
    public int FrontendInUseAtStart { get; }

    private static void Setup(EthDev port, MbufPool pool)
    {
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
    }

    public void WaitForLinks()
    {
        if (!Frontend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp)
            throw new InvalidOperationException("frontend link did not come up");
        if (!Backend.WaitForLink(TimeSpan.FromSeconds(10)).IsUp)
            throw new InvalidOperationException("backend link did not come up");
    }

    /// <summary>Frame <paramref name="seq"/> of <paramref name="size"/> bytes: Ethernet header, sequence number, pattern.</summary>
    public static void BuildFrame(Span<byte> f, int seq, int size)
    {
        ReadOnlySpan<byte> header = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xB5];
        header.CopyTo(f);
        BinaryPrimitives.WriteInt32BigEndian(f[14..], seq);
        for (int j = 18; j < size; j++)
            f[j] = (byte)(seq * 31 + j * 7);
    }

    /// <summary>True when <paramref name="f"/> is exactly frame <paramref name="seq"/> of its length.</summary>
    public static bool CheckFrame(ReadOnlySpan<byte> f, int seq, int size)
    {
        if (f.Length != size)
            return false;
        Span<byte> expected = stackalloc byte[size];
        BuildFrame(expected, seq, size);
        return f.SequenceEqual(expected);
    }

    public static int SequenceOf(ReadOnlySpan<byte> f) => BinaryPrimitives.ReadInt32BigEndian(f[14..]);

    /// <summary>Allocates frames <paramref name="first"/>.. of <paramref name="size"/> bytes into <paramref name="burst"/>.</summary>
    public static int Fill(MbufPool pool, Span<Packet> burst, int first, int size)
    {
        if (pool.AllocBulk(burst) != burst.Length)
            return 0;
        for (int i = 0; i < burst.Length; i++)
        {
            if (!burst[i].TrySetLength(size))
                throw new InvalidOperationException($"frame of {size} bytes does not fit the pool's buffers");
            BuildFrame(burst[i].Data, first + i, size);
        }
        return burst.Length;
    }

    public void Dispose()
    {
        Frontend.Close();
        Backend.Close();
        FrontendPool.Dispose();
        BackendPool.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
