using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Drivers.Virtio.Net;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Internal;
using PacketPlane.Interop;
using PacketPlane.Memory;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Virtio.VirtioUser;

/// <summary>
/// <c>net_virtio_user</c>: a virtio-net frontend whose device is a vhost-user backend on a UNIX socket (DPDK's
/// net_vhost, our net_vhost, OVS-DPDK...). Our rings and mbuf pools are shared with the backend, and descriptors
/// point straight at mbuf data: nothing is copied on this side.
/// </summary>
internal sealed class VirtioUserDriver : EthDriver
{
    public override string Name => "net_virtio_user";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["path"] = "path of the vhost-user UNIX socket (required)",
        ["queues"] = "queue pairs, 1 to 128, default 1 (more than 1 needs the backend's MQ)",
        ["queue_size"] = "descriptors per ring, a power of two from 16 to 32768, default 256",
        ["server"] = "1 to listen on path and (re)accept a backend, 0 (default) to connect to a listening backend",
        ["mac"] = "MAC address, default a random locally administered one",
        ["mrg_rxbuf"] = "1 (default) to let a received packet span several buffers (MRG_RXBUF)",
        ["in_order"] = "1 (default) to use descriptors in order (IN_ORDER; the backend must offer it)",
        ["packed_vq"] = "1 for packed rings (RING_PACKED; the backend must offer it), default 0: split rings",
    };

    public override string Requirements =>
        "nothing beyond access to the socket path; memory is shared through memfds, so hugepages are optional";

    public override EthDevice Create(DeviceArguments args)
    {
        string path = args.GetRequiredString("path", "PATH (the vhost-user socket, e.g. /tmp/vhost0.sock)");
        UnixSocket.ValidatePath(args.DeviceName, "path", path);
        int queueSize = args.GetInt32("queue_size", 256, 16, VringFlags.MaxQueueSize);
        if (!VringLayout.IsValidSize(queueSize))
            throw new DeviceArgumentException($"device '{args.DeviceName}': queue_size={queueSize} is not a power of two; use 256, 512, 1024...");
        var request = new VirtioNetRequest(
            args.GetInt32("queues", 1, 1, 128),
            args.GetBool("mrg_rxbuf", true),
            args.GetBool("in_order", true),
            args.GetBool("packed_vq", false));
        return new VirtioUserDevice(args.DeviceName, path, args.GetBool("server", false), request, queueSize, args.GetMac("mac"));
    }
}

internal sealed class VirtioUserDevice : EthDevice
{
    private enum CommandKind { Start, Stop }

    private sealed class Command(CommandKind kind)
    {
        public CommandKind Kind { get; } = kind;
        public ManualResetEventSlim Done { get; } = new();
        public string? Error { get; set; }
    }

    private readonly string _path;
    private readonly bool _server;
    private readonly VirtioNetRequest _request;
    private readonly int _queueSize;
    private readonly ILogger _log;
    private readonly VhostUserConnector _connector;
    private readonly int[] _kickFds;
    private readonly int[] _callFds;
    private readonly IVirtioNetQueue?[] _rx;
    private readonly IVirtioNetQueue?[] _tx;
    private readonly DmaPoolTable _reachable = new();
    private readonly ConcurrentQueue<Command> _commands = new();
    private VirtioRingArea? _rings;
    private MacAddress _mac;
    private volatile bool _started;
    private volatile bool _linkUp;
    private long _connections;
    private long _sessionFailures;

    public VirtioUserDevice(string name, string path, bool server, VirtioNetRequest request, int queueSize, MacAddress? mac) : base(name)
    {
        _path = path;
        _server = server;
        _request = request;
        _queueSize = queueSize;
        _log = Log.For("PacketPlane.Drivers.VirtioUser");
        _mac = mac ?? RandomMac();
        _rx = new IVirtioNetQueue?[request.QueuePairs];
        _tx = new IVirtioNetQueue?[request.QueuePairs];
        _kickFds = new int[2 * request.QueuePairs];
        _callFds = new int[2 * request.QueuePairs];
        for (int i = 0; i < _kickFds.Length; i++)
        {
            _kickFds[i] = EventFd.Create();
            _callFds[i] = EventFd.Create();
        }
        Info = new DevInfo
        {
            DriverName = "net_virtio_user",
            MaxRxQueues = request.QueuePairs,
            MaxTxQueues = request.QueuePairs,
            MaxRxPacketLength = 65535,
            MaxMtu = 65535 - 14,
            TxOffloadCapabilities = TxOffloads.MultiSegs,
            RxOffloadCapabilities = request.MergeRxBuffers ? RxOffloads.Scatter : RxOffloads.None,
            RxDescriptorLimits = new DescriptorLimits(1, VringFlags.MaxQueueSize, 1),
            TxDescriptorLimits = new DescriptorLimits(1, VringFlags.MaxQueueSize, 1),
            Mode = $"virtio-user {(request.Packed ? "packed" : "split")} rings of {queueSize}, {(server ? "server" : "client")} on {path}",
        };
        try
        {
            _connector = new VhostUserConnector(name, path, server, RunSession, _log, ProcessCommandsIdle);
            int first = -1;
            if (!server)
            {
                first = _connector.ConnectNow();
                if (first < 0)
                {
                    _connector.Dispose();
                    throw new EthDevException($"{name}: no vhost-user backend is listening on {path} ({Libc.Describe(-first)}). " +
                        $"Start the backend first (e.g. dpdk-testpmd --vdev 'net_vhost0,iface={path}'), or use server=1 so this port listens and the backend connects (net_vhost ...,client=1)");
                }
            }
            _connector.Start(first);
        }
        catch
        {
            CloseEventFds();
            throw;
        }
    }

    public override DevInfo Info { get; }

    public override MacAddress MacAddress => _mac;

    public override void SetMacAddress(MacAddress mac) => _mac = mac;

    /// <summary>Up while a backend is connected and our rings are running on it.</summary>
    public override LinkStatus Link => _linkUp ? new LinkStatus(true, 10_000) : new LinkStatus(false, 0);

    public override IEnumerable<XStat> XStats =>
    [
        new XStat("vhost_user_connections", (ulong)Interlocked.Read(ref _connections)),
        new XStat("vhost_user_session_failures", (ulong)Interlocked.Read(ref _sessionFailures)),
    ];

    public override void Configure(EthConf conf, int rxQueues, int txQueues)
    {
        _rings ??= new VirtioRingArea(Name, 2 * _request.QueuePairs, _queueSize, _request.Packed);
    }

    public override RxQueue SetupRxQueue(ushort portId, int queueId, int descriptors, int numaNode, RxQueueConf conf, MbufPool pool)
    {
        LogRingSize(descriptors);
        int vring = VirtioNet.RxVring(queueId);
        VringLayout layout = _rings!.Fresh(vring);
        VirtioNotifier kick = VirtioNotifier.EventFd(_kickFds[vring]);
        RxQueue q = _request.Packed
            ? new VirtioNetRxQueue<PackedDriverRing>(portId, queueId, layout, _request.InOrder, pool, kick, useVirtualAddresses: true)
            : new VirtioNetRxQueue<SplitDriverRing>(portId, queueId, layout, _request.InOrder, pool, kick, useVirtualAddresses: true);
        _rx[queueId] = (IVirtioNetQueue)q;
        return q;
    }

    public override TxQueue SetupTxQueue(ushort portId, int queueId, int descriptors, int numaNode, TxQueueConf conf)
    {
        LogRingSize(descriptors);
        int vring = VirtioNet.TxVring(queueId);
        VringLayout layout = _rings!.Fresh(vring);
        nint headers = _rings.HeaderSlots(vring);
        VirtioNotifier kick = VirtioNotifier.EventFd(_kickFds[vring]);
        TxQueue q = _request.Packed
            ? new VirtioNetTxQueue<PackedDriverRing>(portId, queueId, layout, _request.InOrder, headers, (ulong)headers, kick, _reachable, useVirtualAddresses: true)
            : new VirtioNetTxQueue<SplitDriverRing>(portId, queueId, layout, _request.InOrder, headers, (ulong)headers, kick, _reachable, useVirtualAddresses: true);
        _tx[queueId] = (IVirtioNetQueue)q;
        return q;
    }

    private void LogRingSize(int descriptors)
    {
        if (descriptors != _queueSize)
            _log.LogDebug("{Name}: {Descriptors} descriptors requested; virtio-user rings have queue_size={Size}", Name, descriptors, _queueSize);
    }

    public override void Start()
    {
        // Refuse a memory table that can never be sent before anything else happens (the error explains the limit).
        SharedMemoryTable.Build(Name, _rings!.Region).Dispose();
        _started = true;
        string? error = Run(CommandKind.Start);
        if (error is not null)
            _log.LogError("{Name}: starting the rings on the backend failed: {Error}; the link stays down until a backend accepts them", Name, error);
    }

    public override void Stop()
    {
        _started = false;
        string? error = Run(CommandKind.Stop);
        if (error is not null)
            _log.LogWarning("{Name}: stopping the rings on the backend failed: {Error}", Name, error);
    }

    public override void Close()
    {
        _connector.Dispose();
        CloseEventFds();
        _rings?.Dispose();
        _rings = null;
    }

    private void CloseEventFds()
    {
        foreach (int fd in _kickFds)
            Libc.close(fd);
        foreach (int fd in _callFds)
            Libc.close(fd);
    }

    /// <summary>Hands a command to the connection thread and waits for it (the socket is only ever used there).</summary>
    private string? Run(CommandKind kind)
    {
        var cmd = new Command(kind);
        _commands.Enqueue(cmd);
        _connector.Wake();
        if (!cmd.Done.Wait(TimeSpan.FromSeconds(30)))
            return "the vhost-user connection thread did not answer within 30 s";
        return cmd.Error;
    }

    // No backend connected: commands only change what will happen at the next connection.
    private void ProcessCommandsIdle()
    {
        while (_commands.TryDequeue(out Command? cmd))
            cmd.Done.Set();
    }

    private void RunSession(VhostUserChannel channel, int wakeFd)
    {
        Interlocked.Increment(ref _connections);
        var frontend = new VhostUserFrontend(channel);
        bool running = false;
        string? error = frontend.Negotiate(_request, arg => $"{Name},...,{arg}");
        try
        {
            if (error is null && _started)
                error = StartRings(frontend, ref running);
            while (error is null && !_connector.Stopping)
            {
                error = ProcessCommands(frontend, ref running);
                if (error is not null)
                    break;
                int ready = UnixSocket.WaitReadable(channel.Fd, wakeFd, 1000);
                if ((ready & 2) != 0)
                    EventFd.Drain(wakeFd);
                if ((ready & 1) != 0)
                    error = PeerActivity(channel);
            }
        }
        finally
        {
            if (_linkUp)
                _log.LogWarning("{Name}: backend gone, link down", Name);
            _linkUp = false;
            if (error is not null && error.Length > 0)
            {
                Interlocked.Increment(ref _sessionFailures);
                _log.LogError("{Name}: vhost-user session failed: {Error}; closing the connection", Name, error);
            }
            ProcessCommandsIdle();
        }
    }

    private string? ProcessCommands(VhostUserFrontend frontend, ref bool running)
    {
        while (_commands.TryDequeue(out Command? cmd))
        {
            string? error = null;
            if (cmd.Kind == CommandKind.Start && !running)
                error = StartRings(frontend, ref running);
            else if (cmd.Kind == CommandKind.Stop && running)
                error = StopRings(frontend, ref running);
            cmd.Error = error;
            cmd.Done.Set();
            if (error is not null)
                return error;
        }
        return null;
    }

    // The backend never sends unsolicited messages on this channel (we offer it no back channel): readable means
    // it closed the connection, or misbehaves.
    private static string? PeerActivity(VhostUserChannel channel)
    {
        Span<byte> peek = stackalloc byte[1];
        int n = Peek(channel.Fd, peek);
        if (n == 0)
            return "";                     // orderly close: not a failure worth an error line
        return n < 0 ? "" : "the backend sent an unsolicited message";
    }

    private static unsafe int Peek(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint r = Libc.recvfrom(fd, p, (nuint)buffer.Length, Libc.MSG_PEEK | Libc.MSG_DONTWAIT, null, null);
            return (int)r;
        }
    }

    private string? StartRings(VhostUserFrontend frontend, ref bool running)
    {
        List<IVirtioNetQueue> queues = ActiveQueues(out int pairs);
        foreach (IVirtioNetQueue q in queues)
            q.Gate.Close(TimeSpan.FromSeconds(5));
        using SharedMemoryTable table = SharedMemoryTable.Build(Name, _rings!.Region);
        var plans = new List<VringPlan>();
        for (int vring = 0; vring < 2 * pairs; vring++)
            plans.Add(Plan(vring, QueueFor(vring)));
        string? error = frontend.Start(plans, table.Regions, table.Fds);
        if (error is not null)
            return error;
        running = true;
        _reachable.Set(table.Pools);
        var features = VirtioQueueFeatures.From(frontend.Negotiated);
        foreach (IVirtioNetQueue q in queues)
        {
            q.Apply(features);
            q.Gate.Open();
            q.Kick();                      // buffers posted before the backend was there
        }
        _linkUp = true;
        _log.LogInformation("{Name}: rings running on {Path}: {Pairs} queue pair(s), features {Features}", Name, _path, pairs,
            VirtioFeatureBits.Describe(frontend.Negotiated.Features));
        return null;
    }

    private string? StopRings(VhostUserFrontend frontend, ref bool running)
    {
        List<IVirtioNetQueue> queues = ActiveQueues(out int pairs);
        var indexes = new List<int>();
        for (int vring = 0; vring < 2 * pairs; vring++)
            indexes.Add(vring);
        string? error = frontend.Stop(indexes);
        foreach (IVirtioNetQueue q in queues)
            q.Gate.Close(TimeSpan.FromSeconds(5));
        running = false;
        _linkUp = false;
        return error;
    }

    private VringPlan Plan(int vring, IVirtioNetQueue? q)
    {
        // A vring no queue uses (RX configured without TX, say) still gets an empty ring: backends want whole pairs.
        VringLayout layout = q?.Layout ?? _rings!.Layout(vring);
        ushort resume = q?.ResumeIndex() ?? IdleResumeIndex(layout);
        return new VringPlan(vring, layout.Size, (ulong)layout.Desc, (ulong)layout.Driver, (ulong)layout.Device, resume,
            _kickFds[vring], _callFds[vring]);
    }

    private static unsafe ushort IdleResumeIndex(VringLayout layout) =>
        layout.Packed ? (ushort)(1 << 15) : Volatile.Read(ref ((VringUsedHeader*)layout.Device)->Idx);

    private IVirtioNetQueue? QueueFor(int vring) => (vring & 1) == 0 ? _rx[vring / 2] : _tx[vring / 2];

    private List<IVirtioNetQueue> ActiveQueues(out int pairs)
    {
        pairs = 1;
        var list = new List<IVirtioNetQueue>();
        for (int p = 0; p < _request.QueuePairs; p++)
        {
            if (_rx[p] is { } rx)
                list.Add(rx);
            if (_tx[p] is { } tx)
                list.Add(tx);
            if (_rx[p] is not null || _tx[p] is not null)
                pairs = p + 1;
        }
        return list;
    }

    private static MacAddress RandomMac()
    {
        Span<byte> b = stackalloc byte[6];
        Random.Shared.NextBytes(b);
        b[0] = (byte)((b[0] & 0xfe) | 0x02);   // unicast, locally administered
        return new MacAddress(b);
    }
}
