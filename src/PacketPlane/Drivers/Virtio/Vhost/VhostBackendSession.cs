using System;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using static PacketPlane.Drivers.Virtio.VhostUser.VhostUserProtocol;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// One frontend connection to the vhost-user backend: answers its requests (vhost-user.rst "Front-end message
/// types") and configures the vrings. Every request is checked for its payload size, its file descriptor count
/// and its ring index before anything is touched; a request that fails any check ends the session (after a NACK
/// when REPLY_ACK asked for one), and the datapath never sees a half-configured ring.
/// </summary>
internal sealed class VhostBackendSession
{
    /// <summary>Features the backend offers: virtio-net without offloads, both ring layouts, merged buffers, MQ.</summary>
    public const ulong OfferedFeatures =
        (1UL << VirtioFeatureBits.VIRTIO_F_VERSION_1) | (1UL << VirtioFeatureBits.VIRTIO_NET_F_MRG_RXBUF)
        | (1UL << VirtioFeatureBits.VIRTIO_RING_F_EVENT_IDX) | (1UL << VirtioFeatureBits.VIRTIO_F_IN_ORDER)
        | (1UL << VirtioFeatureBits.VIRTIO_F_RING_PACKED) | (1UL << VirtioFeatureBits.VIRTIO_NET_F_MQ)
        | (1UL << VirtioFeatureBits.VIRTIO_NET_F_CTRL_VQ) | (1UL << VirtioFeatureBits.VIRTIO_F_ANY_LAYOUT)
        | (1UL << VirtioFeatureBits.VHOST_USER_F_PROTOCOL_FEATURES);

    /// <summary>Protocol features offered: MQ, REPLY_ACK, STATUS.</summary>
    public const ulong OfferedProtocolFeatures =
        (1UL << VHOST_USER_PROTOCOL_F_MQ) | (1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1UL << VHOST_USER_PROTOCOL_F_STATUS);

    private readonly VhostVring[] _vrings;
    private readonly int _queuePairs;
    private readonly ILogger _log;
    private readonly string _name;
    private ulong _features;
    private ulong _protocolFeatures;
    private byte _status;
    private GuestMemory? _memory;

    public VhostBackendSession(string name, VhostVring[] vrings, int queuePairs, ILogger log)
    {
        _name = name;
        _vrings = vrings;
        _queuePairs = queuePairs;
        _log = log;
    }

    /// <summary>Features the frontend accepted (SET_FEATURES).</summary>
    public ulong Features => _features;

    /// <summary>True when queue pair 0 can move packets (both its vrings are started), as DPDK's virtio_is_ready.</summary>
    public bool IsReady
    {
        get
        {
            if (!_vrings[0].Ready || !_vrings[1].Ready)
                return false;
            bool statusNegotiated = (_protocolFeatures & (1UL << VHOST_USER_PROTOCOL_F_STATUS)) != 0;
            return !statusNegotiated || (_status & VirtioStatus.VIRTIO_CONFIG_S_DRIVER_OK) != 0;
        }
    }

    private bool ProtocolFeaturesAcked => VirtioFeatureBits.Has(_features, VirtioFeatureBits.VHOST_USER_F_PROTOCOL_FEATURES);

    private bool ReplyAck => (_protocolFeatures & (1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK)) != 0;

    /// <summary>
    /// Handles one request and sends its reply. Returns null, or why the session must end (the caller logs it and
    /// closes the connection). File descriptors of the message are used or closed here.
    /// </summary>
    public string? Handle(ref VhostUserMessage msg, VhostUserChannel channel)
    {
        uint request = msg.Request;
        if ((msg.Header.Flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
            return Refuse(ref msg, channel, $"{Name(request)} has protocol version {msg.Header.Flags & VHOST_USER_VERSION_MASK}; only version 1 exists");
        string? error;
        bool replied = false;
        try
        {
            error = Dispatch(ref msg, channel, ref replied);
        }
        catch (PacketPlaneException e)
        {
            error = e.Message;
        }
        if (error is not null)
            return Refuse(ref msg, channel, error);
        if ((msg.Header.Flags & VHOST_USER_NEED_REPLY_MASK) != 0 && ReplyAck && !replied)
            SendU64(channel, request, 0);
        return null;
    }

    private string? Refuse(ref VhostUserMessage msg, VhostUserChannel channel, string error)
    {
        VhostUserChannel.CloseAll(msg.Fds);
        msg.Fds = default;
        if ((msg.Header.Flags & VHOST_USER_NEED_REPLY_MASK) != 0 && ReplyAck)
            SendU64(channel, msg.Request, 1);   // REPLY_ACK: non-zero payload is a NACK
        return $"{Name(msg.Request)} refused: {error}";
    }

    private string? Dispatch(ref VhostUserMessage msg, VhostUserChannel channel, ref bool replied)
    {
        uint request = msg.Request;
        int fdsExpected = request switch
        {
            VHOST_USER_SET_MEM_TABLE => -1,                         // one per region, checked below
            VHOST_USER_SET_VRING_KICK or VHOST_USER_SET_VRING_CALL or VHOST_USER_SET_VRING_ERR => -1,
            _ => 0,
        };
        if (fdsExpected == 0 && msg.Fds.Length != 0)
            return $"came with {msg.Fds.Length} file descriptor(s); it carries none";
        switch (request)
        {
            case VHOST_USER_GET_FEATURES:
                replied = true;
                return ExpectSize(msg, 0) ?? SendU64(channel, request, OfferedFeatures);
            case VHOST_USER_SET_FEATURES:
                return ExpectSize(msg, 8) ?? SetFeatures(msg.Read<ulong>());
            case VHOST_USER_SET_OWNER:
                return ExpectSize(msg, 0);
            case VHOST_USER_RESET_OWNER:
                // Deprecated; vhost-user.rst recommends treating it as "disable all rings".
                foreach (VhostVring v in _vrings)
                {
                    v.Quiesce();
                    v.Enabled = false;
                }
                return ExpectSize(msg, 0);
            case VHOST_USER_GET_PROTOCOL_FEATURES:
                replied = true;
                return ExpectSize(msg, 0) ?? SendU64(channel, request, OfferedProtocolFeatures);
            case VHOST_USER_SET_PROTOCOL_FEATURES:
                return ExpectSize(msg, 8) ?? SetProtocolFeatures(msg.Read<ulong>());
            case VHOST_USER_GET_QUEUE_NUM:
                replied = true;
                return ExpectSize(msg, 0) ?? SendU64(channel, request, (ulong)_queuePairs);
            case VHOST_USER_SET_MEM_TABLE:
                return SetMemTable(ref msg);
            case VHOST_USER_SET_VRING_NUM:
                return ExpectSize(msg, 8) ?? SetVringNum(msg.Read<VhostVringState>());
            case VHOST_USER_SET_VRING_ADDR:
                return ExpectSize(msg, 40) ?? SetVringAddr(msg.Read<VhostVringAddr>());
            case VHOST_USER_SET_VRING_BASE:
                return ExpectSize(msg, 8) ?? SetVringBase(msg.Read<VhostVringState>());
            case VHOST_USER_GET_VRING_BASE:
                replied = true;
                return ExpectSize(msg, 8) ?? GetVringBase(msg.Read<VhostVringState>(), channel);
            case VHOST_USER_SET_VRING_KICK:
            case VHOST_USER_SET_VRING_CALL:
            case VHOST_USER_SET_VRING_ERR:
                return SetVringFile(ref msg);
            case VHOST_USER_SET_VRING_ENABLE:
                return ExpectSize(msg, 8) ?? SetVringEnable(msg.Read<VhostVringState>());
            case VHOST_USER_SEND_RARP:
                return ExpectSize(msg, 8);          // migration announce: nothing to do without a guest to move
            case VHOST_USER_SET_STATUS:
                return ExpectSize(msg, 8) ?? SetStatus(msg.Read<ulong>());
            case VHOST_USER_GET_STATUS:
                replied = true;
                return ExpectSize(msg, 0) ?? SendU64(channel, request, _status);
            default:
                return "unknown or unsupported request (this backend does not offer the feature that introduces it)";
        }
    }

    private static string? ExpectSize(in VhostUserMessage msg, int size) =>
        msg.Payload.Length == size ? null : $"payload is {msg.Payload.Length} bytes; it must be {size}";

    private static string? SendU64(VhostUserChannel channel, uint request, ulong value)
    {
        int errno = channel.Send(request, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, value);
        return errno == 0 ? null : $"sending the reply failed: {Interop.Libc.Describe(errno)}";
    }

    private string? SetFeatures(ulong features)
    {
        ulong unknown = features & ~OfferedFeatures;
        if (unknown != 0)
            return $"the frontend accepted features that were not offered: {VirtioFeatureBits.Describe(unknown)}";
        bool packed = VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_F_RING_PACKED);
        if (packed && !VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_F_VERSION_1))
            return "RING_PACKED needs VERSION_1";
        QuiesceAll();
        _features = features;
        _log.LogInformation("{Name}: frontend accepted features {Features}", _name, VirtioFeatureBits.Describe(features));
        return RestartAll();
    }

    private string? SetProtocolFeatures(ulong features)
    {
        ulong unknown = features & ~OfferedProtocolFeatures;
        if (unknown != 0)
            return $"protocol features 0x{unknown:x} were not offered (offered 0x{OfferedProtocolFeatures:x})";
        _protocolFeatures = features;
        return null;
    }

    private string? SetMemTable(ref VhostUserMessage msg)
    {
        if (msg.Payload.Length < 8)
            return $"payload is {msg.Payload.Length} bytes; a memory table needs at least 8";
        uint regions = msg.Read<uint>();
        if (regions == 0 || regions > VHOST_MEMORY_MAX_NREGIONS)
            return $"{regions} memory regions; vhost-user carries 1 to {VHOST_MEMORY_MAX_NREGIONS} (VHOST_MEMORY_MAX_NREGIONS)";
        int expected = 8 + (int)regions * Marshal.SizeOf<VhostUserMemoryRegion>();
        if (msg.Payload.Length != expected)
            return $"payload is {msg.Payload.Length} bytes; {regions} region(s) take {expected}";
        if (msg.Fds.Length != (int)regions)
            return $"{regions} region(s) need {regions} file descriptor(s); {msg.Fds.Length} came with the message";
        ReadOnlySpan<VhostUserMemoryRegion> table = MemoryMarshal.Cast<byte, VhostUserMemoryRegion>(msg.Payload[8..]);
        int[] fds = msg.Fds.ToArray();
        msg.Fds = default;                       // GuestMemory.Map owns them now
        GuestMemory? memory = GuestMemory.Map(table, fds, out string? error);
        if (memory is null)
            return error;
        QuiesceAll();
        GuestMemory? old = _memory;
        _memory = memory;
        foreach (VhostVring v in _vrings)
            v.Memory = memory;
        old?.Dispose();                          // no burst can be inside: every gate is closed
        _log.LogInformation("{Name}: mapped {Count} memory region(s), {Bytes} bytes", _name, memory.Count, memory.TotalBytes);
        return RestartAll();
    }

    private string? Vring(uint index, out VhostVring vring)
    {
        vring = null!;
        if (index >= (uint)_vrings.Length)
            return $"vring index {index} does not exist; this backend has {_vrings.Length} vrings ({_queuePairs} queue pair(s), queues=N raises it)";
        vring = _vrings[index];
        return null;
    }

    private string? SetVringNum(VhostVringState s)
    {
        if (Vring(s.Index, out VhostVring v) is string e)
            return e;
        bool packed = VirtioFeatureBits.Has(_features, VirtioFeatureBits.VIRTIO_F_RING_PACKED);
        if (s.Num == 0 || s.Num > VringFlags.MaxQueueSize || (!packed && (s.Num & (s.Num - 1)) != 0))
            return $"vring {s.Index}: size {s.Num} is not valid (1..32768{(packed ? "" : ", a power of two for split rings")})";
        v.Quiesce();
        v.Size = (int)s.Num;
        return Restart(v);
    }

    private string? SetVringAddr(VhostVringAddr a)
    {
        if (Vring(a.Index, out VhostVring v) is string e)
            return e;
        v.Quiesce();
        v.DescUserAddr = a.DescUserAddr;
        v.AvailUserAddr = a.AvailUserAddr;
        v.UsedUserAddr = a.UsedUserAddr;
        v.AddressesSet = true;
        if (_memory is not null && v.Size > 0)
        {
            // Check now rather than when the ring starts, so the error names the message that caused it.
            if (_memory.UvaToHost(a.DescUserAddr, 16UL * (ulong)v.Size) == 0
                || _memory.UvaToHost(a.AvailUserAddr, 4) == 0 || _memory.UvaToHost(a.UsedUserAddr, 4) == 0)
                return $"vring {a.Index}: ring address outside every memory region (desc 0x{a.DescUserAddr:x}, avail 0x{a.AvailUserAddr:x}, used 0x{a.UsedUserAddr:x})";
        }
        return Restart(v);
    }

    private string? SetVringBase(VhostVringState s)
    {
        if (Vring(s.Index, out VhostVring v) is string e)
            return e;
        if (s.Num > 0xffff)
            return $"vring {s.Index}: base {s.Num} does not fit 16 bits";
        v.Quiesce();
        v.Base = (ushort)s.Num;
        return Restart(v);
    }

    private string? GetVringBase(VhostVringState s, VhostUserChannel channel)
    {
        if (Vring(s.Index, out VhostVring v) is string e)
            return e;
        v.Quiesce();
        // vhost-user.rst "Ring states": GET_VRING_BASE stops the ring until the next SET_VRING_KICK.
        ushort b = v.CurrentBase();
        v.Base = b;
        v.KickSet = false;
        var reply = new VhostVringState { Index = s.Index, Num = b };
        int errno = channel.Send(VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, reply);
        return errno == 0 ? null : $"sending the reply failed: {Interop.Libc.Describe(errno)}";
    }

    private string? SetVringFile(ref VhostUserMessage msg)
    {
        if (ExpectSize(msg, 8) is string size)
            return size;
        ulong value = msg.Read<ulong>();
        bool noFd = (value & VHOST_USER_VRING_NOFD_MASK) != 0;
        int expectedFds = noFd ? 0 : 1;
        if (msg.Fds.Length != expectedFds)
            return $"expects {expectedFds} file descriptor(s) (the no-fd bit is {(noFd ? "set" : "clear")}); {msg.Fds.Length} came";
        if (Vring((uint)(value & VHOST_USER_VRING_IDX_MASK), out VhostVring v) is string e)
            return e;
        int fd = noFd ? -1 : msg.Fds[0];
        msg.Fds = default;
        if (msg.Request == VHOST_USER_SET_VRING_ERR)
        {
            if (fd >= 0)
                Interop.Libc.close(fd);              // errors are never signalled by this backend
            return null;
        }
        v.Quiesce();
        if (msg.Request == VHOST_USER_SET_VRING_KICK)
            v.SetKick(fd);
        else
            v.SetCall(fd);
        return Restart(v);
    }

    private string? SetVringEnable(VhostVringState s)
    {
        if (Vring(s.Index, out VhostVring v) is string e)
            return e;
        v.Quiesce();
        v.Enabled = s.Num != 0;
        return Restart(v);
    }

    private string? SetStatus(ulong status)
    {
        if (status > 0xff)
            return $"status 0x{status:x} does not fit the 8-bit device status";
        _status = (byte)status;
        return null;
    }

    private string? Restart(VhostVring v) =>
        v.TryStart(_features, ProtocolFeaturesAcked, m => _log.LogWarning("{Name}: {Message}", _name, m));

    private string? RestartAll()
    {
        foreach (VhostVring v in _vrings)
        {
            if (Restart(v) is string e)
                return e;
        }
        return null;
    }

    private void QuiesceAll()
    {
        foreach (VhostVring v in _vrings)
            v.Quiesce();
    }

    /// <summary>Ends the session: takes every ring from the datapath, then releases mappings and descriptors.</summary>
    public void Teardown()
    {
        QuiesceAll();
        foreach (VhostVring v in _vrings)
            v.Reset();
        _memory?.Dispose();
        _memory = null;
        _features = 0;
        _protocolFeatures = 0;
        _status = 0;
    }
}
