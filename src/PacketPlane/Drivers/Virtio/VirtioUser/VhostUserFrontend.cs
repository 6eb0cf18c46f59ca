using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Interop;
using static PacketPlane.Drivers.Virtio.VhostUser.VhostUserProtocol;

namespace PacketPlane.Drivers.Virtio.VirtioUser;

/// <summary>One vring as the frontend announces it to the backend.</summary>
internal readonly record struct VringPlan(int Index, int Size, ulong Desc, ulong Driver, ulong Device, ushort Base, int KickFd, int CallFd);

/// <summary>
/// The frontend's half of one vhost-user connection: negotiates features and protocol features, then starts
/// and stops vrings, in the order DPDK's virtio-user uses (vhost-user.rst; DPDK 22.11 virtio_user_dev.c): calls
/// first, features, status, memory table, then per ring size, base, addresses and kick last, then enable.
/// Every reply is checked (request, flags, size); anything unexpected ends the connection.
/// </summary>
internal sealed class VhostUserFrontend
{
    private const int ReplyTimeoutMs = 5000;
    private const ulong WantedProtocolFeatures =
        (1UL << VHOST_USER_PROTOCOL_F_MQ) | (1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1UL << VHOST_USER_PROTOCOL_F_STATUS);

    private readonly VhostUserChannel _channel;
    private readonly byte[] _replyPayload = new byte[MaxPayloadSize];
    private readonly int[] _replyFds = new int[MaxFds];

    public VhostUserFrontend(VhostUserChannel channel) => _channel = channel;

    /// <summary>The backend's feature offer.</summary>
    public ulong BackendFeatures { get; private set; }

    /// <summary>Protocol features both sides agreed on.</summary>
    public ulong ProtocolFeatures { get; private set; }

    /// <summary>The features in use on this connection.</summary>
    public NegotiatedFeatures Negotiated { get; private set; }

    /// <summary>Queue pairs the backend supports (GET_QUEUE_NUM), or 1 without MQ.</summary>
    public int BackendQueuePairs { get; private set; } = 1;

    private bool HasProtocolFeatures => VirtioFeatureBits.Has(BackendFeatures, VirtioFeatureBits.VHOST_USER_F_PROTOCOL_FEATURES);

    private bool ReplyAck => (ProtocolFeatures & (1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK)) != 0;

    private bool StatusProtocol => (ProtocolFeatures & (1UL << VHOST_USER_PROTOCOL_F_STATUS)) != 0;

    /// <summary>SET_OWNER, features, protocol features, queue count. Returns null or the reason it failed.</summary>
    public string? Negotiate(VirtioNetRequest request, Func<string, string> hint)
    {
        string? e = Send(VHOST_USER_SET_OWNER, ReadOnlySpan<byte>.Empty);
        if (e is not null)
            return e;
        if (Query(VHOST_USER_GET_FEATURES, out ulong features) is string e1)
            return e1;
        BackendFeatures = features;
        if (HasProtocolFeatures)
        {
            if (Query(VHOST_USER_GET_PROTOCOL_FEATURES, out ulong offered) is string e2)
                return e2;
            ProtocolFeatures = offered & WantedProtocolFeatures;
            if (SendU64(VHOST_USER_SET_PROTOCOL_FEATURES, ProtocolFeatures, needReply: false) is string e3)
                return e3;
        }
        Negotiated = FeatureNegotiation.Negotiate(features, request, requireVersion1: false, hint);
        if (!Negotiated.Ok)
            return Negotiated.Error;
        if (request.QueuePairs > 1)
        {
            if ((ProtocolFeatures & (1UL << VHOST_USER_PROTOCOL_F_MQ)) == 0)
                return $"{request.QueuePairs} queue pairs need the MQ protocol feature, which the backend does not offer; use {hint("queues=1")}";
            if (Query(VHOST_USER_GET_QUEUE_NUM, out ulong pairs) is string e4)
                return e4;
            BackendQueuePairs = (int)Math.Min(pairs, int.MaxValue);
            if (pairs < (ulong)request.QueuePairs)
                return $"the backend supports {pairs} queue pair(s), {request.QueuePairs} were requested; use {hint($"queues={pairs}")}";
        }
        return null;
    }

    /// <summary>Sends everything that starts <paramref name="vrings"/> over shared <paramref name="regions"/>.</summary>
    public string? Start(IReadOnlyList<VringPlan> vrings, ReadOnlySpan<VhostUserMemoryRegion> regions, ReadOnlySpan<int> regionFds)
    {
        foreach (VringPlan v in vrings)
        {
            if (SendFile(VHOST_USER_SET_VRING_CALL, v.Index, v.CallFd) is string e)
                return e;
        }
        // MAC, STATUS and the control queue are ours to emulate (their config lives on this side); the backend gets
        // the ring and header features, with bit 30 echoed when it offered protocol features.
        ulong toBackend = Negotiated.Features & ~(VirtioFeatureBits.Bit(VirtioFeatureBits.VIRTIO_NET_F_MAC)
            | VirtioFeatureBits.Bit(VirtioFeatureBits.VIRTIO_NET_F_STATUS) | VirtioFeatureBits.Bit(VirtioFeatureBits.VIRTIO_NET_F_CTRL_VQ));
        toBackend |= BackendFeatures & VirtioFeatureBits.Bit(VirtioFeatureBits.VHOST_USER_F_PROTOCOL_FEATURES);
        if (SendU64(VHOST_USER_SET_FEATURES, toBackend, needReply: true) is string e1)
            return e1;
        const byte featuresOk = VirtioStatus.VIRTIO_CONFIG_S_ACKNOWLEDGE | VirtioStatus.VIRTIO_CONFIG_S_DRIVER | VirtioStatus.VIRTIO_CONFIG_S_FEATURES_OK;
        if (StatusProtocol && SendU64(VHOST_USER_SET_STATUS, featuresOk, needReply: true) is string e2)
            return e2;
        if (SetMemTable(regions, regionFds) is string e3)
            return e3;
        foreach (VringPlan v in vrings)
        {
            if (SetVring(v) is string e4)
                return e4;
        }
        if (HasProtocolFeatures)
        {
            // With protocol features rings start disabled (vhost-user.rst "Ring states").
            foreach (VringPlan v in vrings)
            {
                if (SendState(VHOST_USER_SET_VRING_ENABLE, (uint)v.Index, 1) is string e5)
                    return e5;
            }
        }
        if (StatusProtocol && SendU64(VHOST_USER_SET_STATUS, featuresOk | VirtioStatus.VIRTIO_CONFIG_S_DRIVER_OK, needReply: true) is string e6)
            return e6;
        return null;
    }

    /// <summary>Disables and stops <paramref name="vrings"/>: the backend stops touching them once GET_VRING_BASE answers.</summary>
    public string? Stop(IReadOnlyList<int> vrings)
    {
        if (HasProtocolFeatures)
        {
            foreach (int v in vrings)
            {
                if (SendState(VHOST_USER_SET_VRING_ENABLE, (uint)v, 0) is string e)
                    return e;
            }
        }
        foreach (int v in vrings)
        {
            var state = new VhostVringState { Index = (uint)v };
            int errno = _channel.Send(VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, state);
            if (errno != 0)
                return $"sending GET_VRING_BASE failed: {Libc.Describe(errno)}";
            if (ReadReply(VHOST_USER_GET_VRING_BASE, 8, out ReadOnlySpan<byte> reply) is string e)
                return e;
            if (MemoryMarshal.Read<VhostVringState>(reply).Index != (uint)v)
                return $"GET_VRING_BASE for vring {v} was answered for vring {MemoryMarshal.Read<VhostVringState>(reply).Index}";
        }
        return null;
    }

    private string? SetVring(VringPlan v)
    {
        if (SendState(VHOST_USER_SET_VRING_NUM, (uint)v.Index, (uint)v.Size) is string e1)
            return e1;
        if (SendState(VHOST_USER_SET_VRING_BASE, (uint)v.Index, v.Base) is string e2)
            return e2;
        var addr = new VhostVringAddr
        {
            Index = (uint)v.Index,
            DescUserAddr = v.Desc,
            AvailUserAddr = v.Driver,   // split: available ring; packed: driver event suppression
            UsedUserAddr = v.Device,    // split: used ring; packed: device event suppression
        };
        if (SendStruct(VHOST_USER_SET_VRING_ADDR, addr, needReply: true) is string e3)
            return e3;
        // Kick last: the backend takes it as the sign the ring is complete.
        return SendFile(VHOST_USER_SET_VRING_KICK, v.Index, v.KickFd);
    }

    private string? SetMemTable(ReadOnlySpan<VhostUserMemoryRegion> regions, ReadOnlySpan<int> fds)
    {
        Span<byte> payload = stackalloc byte[8 + regions.Length * 32];
        payload.Clear();
        MemoryMarshal.Write(payload, (uint)regions.Length);
        MemoryMarshal.AsBytes(regions).CopyTo(payload[8..]);
        uint flags = VHOST_USER_VERSION | (ReplyAck ? VHOST_USER_NEED_REPLY_MASK : 0);
        int errno = _channel.Send(VHOST_USER_SET_MEM_TABLE, flags, payload, fds);
        if (errno != 0)
            return $"sending SET_MEM_TABLE failed: {Libc.Describe(errno)}";
        return ReplyAck ? ReadAck(VHOST_USER_SET_MEM_TABLE) : null;
    }

    private string? Send(uint request, ReadOnlySpan<byte> payload)
    {
        int errno = _channel.Send(request, VHOST_USER_VERSION, payload);
        return errno == 0 ? null : $"sending {Name(request)} failed: {Libc.Describe(errno)}";
    }

    private string? SendU64(uint request, ulong value, bool needReply) => SendStruct(request, value, needReply);

    private string? SendState(uint request, uint index, uint num) =>
        SendStruct(request, new VhostVringState { Index = index, Num = num }, needReply: false);

    private string? SendStruct<T>(uint request, in T payload, bool needReply) where T : unmanaged
    {
        bool ack = needReply && ReplyAck;
        int errno = _channel.Send(request, VHOST_USER_VERSION | (ack ? VHOST_USER_NEED_REPLY_MASK : 0), payload);
        if (errno != 0)
            return $"sending {Name(request)} failed: {Libc.Describe(errno)}";
        return ack ? ReadAck(request) : null;
    }

    private string? SendFile(uint request, int index, int fd)
    {
        ulong value = (ulong)index & VHOST_USER_VRING_IDX_MASK;
        if (fd < 0)
            value |= VHOST_USER_VRING_NOFD_MASK;
        int errno = fd < 0
            ? _channel.Send(request, VHOST_USER_VERSION, value)
            : _channel.Send(request, VHOST_USER_VERSION, value, [fd]);
        return errno == 0 ? null : $"sending {Name(request)} failed: {Libc.Describe(errno)}";
    }

    private string? Query(uint request, out ulong value)
    {
        value = 0;
        if (Send(request, ReadOnlySpan<byte>.Empty) is string e)
            return e;
        if (ReadReply(request, 8, out ReadOnlySpan<byte> reply) is string e2)
            return e2;
        value = MemoryMarshal.Read<ulong>(reply);
        return null;
    }

    private string? ReadAck(uint request)
    {
        if (ReadReply(request, 8, out ReadOnlySpan<byte> reply) is string e)
            return e;
        ulong result = MemoryMarshal.Read<ulong>(reply);
        return result == 0 ? null : $"the backend refused {Name(request)} (REPLY_ACK {result})";
    }

    private string? ReadReply(uint request, int size, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        var msg = new VhostUserMessage();
        ReceiveStatus status = _channel.Receive(ref msg, _replyPayload, _replyFds, ReplyTimeoutMs);
        VhostUserChannel.CloseAll(msg.Fds);     // replies carry no descriptors; never keep stray ones
        if (status != ReceiveStatus.Ok)
            return $"no reply to {Name(request)}: {status}";
        if (msg.Header.Flags != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK))
            return $"the reply to {Name(request)} has flags 0x{msg.Header.Flags:x}; expected 0x{VHOST_USER_VERSION | VHOST_USER_REPLY_MASK:x}";
        if (msg.Request != request)
            return $"expected the reply to {Name(request)}, got {Name(msg.Request)}";
        if (msg.Payload.Length != size)
            return $"the reply to {Name(request)} has {msg.Payload.Length} payload bytes; expected {size}";
        payload = msg.Payload;
        return null;
    }
}
