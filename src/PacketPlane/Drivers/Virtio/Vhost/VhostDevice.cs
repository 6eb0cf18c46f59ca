using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// <c>net_vhost</c>: a vhost-user backend. A virtio frontend (DPDK's net_virtio_user, our virtio-user, a QEMU
/// guest) connects over a UNIX socket and shares its memory; our RX queue N reads the frontend's transmit vring
/// 2N+1 and our TX queue N fills its receive vring 2N, copying packets between its buffers and our mbufs.
/// </summary>
internal sealed class VhostDriver : EthDriver
{
    public override string Name => "net_vhost";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["iface"] = "path of the vhost-user UNIX socket (required)",
        ["queues"] = "queue pairs offered to the frontend, 1 to 128, default 1",
        ["client"] = "1 to connect to a frontend listening on iface (and reconnect when it comes back), default 0: listen",
    };

    public override string Requirements =>
        "nothing beyond write access to the socket's directory; the frontend's memory must be shared (memfd or hugepage files)";

    public override EthDevice Create(DeviceArguments args)
    {
        string path = args.GetRequiredString("iface", "PATH (a UNIX socket path such as /tmp/vhost0.sock)");
        UnixSocket.ValidatePath(args.DeviceName, "iface", path);
        return new VhostDevice(args.DeviceName, path, args.GetInt32("queues", 1, 1, 128), args.GetBool("client", false));
    }
}

internal sealed class VhostDevice : EthDevice
{
    private readonly VhostVring[] _vrings;
    private readonly int _queuePairs;
    private readonly VhostUserConnector _connector;
    private readonly ILogger _log;
    private readonly string _path;
    private MacAddress _mac;
    private volatile VhostBackendSession? _session;
    private long _connections;
    private long _refusals;

    public VhostDevice(string name, string path, int queuePairs, bool client) : base(name)
    {
        _path = path;
        _queuePairs = queuePairs;
        _log = Log.For("PacketPlane.Drivers.Vhost");
        _mac = new MacAddress(0x0200_0000_0000UL | ((ulong)(uint)name.GetHashCode(StringComparison.Ordinal) & 0xffff_ffffUL));
        _vrings = new VhostVring[2 * queuePairs];
        for (int i = 0; i < _vrings.Length; i++)
            _vrings[i] = new VhostVring(i);
        Info = new DevInfo
        {
            DriverName = "net_vhost",
            MaxRxQueues = queuePairs,
            MaxTxQueues = queuePairs,
            MaxRxPacketLength = 65535,
            MaxMtu = 65535 - 14,
            TxOffloadCapabilities = TxOffloads.MultiSegs,
            Mode = $"vhost-user backend on {path} ({(client ? "client" : "server")})",
        };
        _connector = new VhostUserConnector(name, path, server: !client, RunSession, _log);
        int first = -1;
        if (client)
        {
            first = _connector.ConnectNow();
            if (first < 0)
                _log.LogWarning("{Name}: no frontend listening on {Path} yet ({Error}); retrying every second", name, path, Interop.Libc.Describe(-first));
        }
        _connector.Start(first);
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    /// <summary>Up while a frontend is connected and queue pair 0 is started.</summary>
    public override LinkStatus Link => _session is { IsReady: true } ? new LinkStatus(true, 10_000) : new LinkStatus(false, 0);

    public override IEnumerable<XStat> XStats
    {
        get
        {
            ulong malformed = 0;
            foreach (VhostVring v in _vrings)
                malformed += v.MalformedChains;
            return
            [
                new XStat("vhost_connections", (ulong)Interlocked.Read(ref _connections)),
                new XStat("vhost_refused_messages", (ulong)Interlocked.Read(ref _refusals)),
                new XStat("vhost_malformed_chains", malformed),
            ];
        }
    }

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool) =>
        new VhostRxQueue(portId, queueId, _vrings[Virtio.Spec.VirtioNet.TxVring(queueId)], pool);

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf) =>
        new VhostTxQueue(portId, queueId, _vrings[Virtio.Spec.VirtioNet.RxVring(queueId)]);

    public override void Start()
    {
    }

    public override void Stop()
    {
    }

    public override void Close() => _connector.Dispose();

    private void RunSession(VhostUserChannel channel, int wakeFd)
    {
        Interlocked.Increment(ref _connections);
        var session = new VhostBackendSession(Name, _vrings, _queuePairs, _log);
        _session = session;
        Span<byte> payload = stackalloc byte[VhostUserPacketBuffer.Size];
        Span<int> fds = stackalloc int[VhostUserProtocol.MaxFds];
        try
        {
            while (!_connector.Stopping)
            {
                int ready = UnixSocket.WaitReadable(channel.Fd, wakeFd, 1000);
                if (_connector.Stopping)
                    break;
                if ((ready & 1) == 0)
                    continue;
                scoped VhostUserMessage msg = default;
                ReceiveStatus status = channel.Receive(ref msg, payload, fds, 1000);
                if (status != ReceiveStatus.Ok)
                {
                    VhostUserChannel.CloseAll(msg.Fds);
                    LogEnd(status, msg.Header);
                    break;
                }
                string? error = session.Handle(ref msg, channel);
                if (error is not null)
                {
                    Interlocked.Increment(ref _refusals);
                    _log.LogError("{Name}: {Error}; closing the connection", Name, error);
                    break;
                }
            }
        }
        finally
        {
            bool wasReady = session.IsReady;
            session.Teardown();
            _session = null;
            if (wasReady)
                _log.LogWarning("{Name}: frontend gone, link down", Name);
        }
    }

    private void LogEnd(ReceiveStatus status, VhostUserHeader header)
    {
        switch (status)
        {
            case ReceiveStatus.Closed:
                _log.LogInformation("{Name}: frontend closed the connection", Name);
                break;
            case ReceiveStatus.PayloadTooLarge:
                Interlocked.Increment(ref _refusals);
                _log.LogError("{Name}: {Request} announced a {Size}-byte payload; no request this backend handles carries more than {Max}; closing the connection",
                    Name, VhostUserProtocol.Name(header.Request), header.Size, VhostUserProtocol.MaxPayloadSize);
                break;
            case ReceiveStatus.TooManyFds:
                Interlocked.Increment(ref _refusals);
                _log.LogError("{Name}: a message came with more than {Max} file descriptors; closing the connection", Name, VhostUserProtocol.MaxFds);
                break;
            default:
                _log.LogWarning("{Name}: connection failed mid-message ({Status}); closing it", Name, status);
                break;
        }
    }
}

/// <summary>Size of the buffer one received message's payload is read into.</summary>
internal static class VhostUserPacketBuffer
{
    /// <summary>The largest payload accepted: a full memory table.</summary>
    public const int Size = VhostUserProtocol.MaxPayloadSize;
}
