using System;
using PacketPlane.Drivers.Virtio.Spec;
using PacketPlane.Drivers.Virtio.VhostUser;
using PacketPlane.Drivers.Virtio.Virtqueue;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Virtio.Vhost;

/// <summary>
/// One vring as the vhost-user backend holds it: what the frontend configured (size, addresses, base, kick and
/// call descriptors, enable) and, once all of it is present, the translated device-side ring the datapath uses.
/// The control thread changes it only with <see cref="Gate"/> closed; the datapath uses it only inside the gate.
/// </summary>
internal sealed unsafe class VhostVring
{
    private const int NoFd = -1;

    public VhostVring(int index) => Index = index;

    /// <summary>Virtqueue index: 2N is queue pair N's receive queue (our TX), 2N+1 its transmit queue (our RX).</summary>
    public int Index { get; }

    /// <summary>Open while the ring is ready and the datapath may touch it.</summary>
    public QuiesceGate Gate { get; } = new();

    // ---- set by the control thread, read by the datapath inside the gate ----

    /// <summary>Device side of a split ring (valid when ready and not packed).</summary>
    public DeviceSplitRing Split;

    /// <summary>Device side of a packed ring (valid when ready and packed).</summary>
    public DevicePackedRing PackedRing;

    /// <summary>True when the negotiated features chose the packed layout.</summary>
    public bool IsPacked;

    /// <summary>virtio-net header bytes in front of every packet.</summary>
    public int HeaderSize = VirtioNet.HeaderSizeModern;

    /// <summary>MRG_RXBUF negotiated: a packet may fill several receive buffers.</summary>
    public bool MergeRxBuffers;

    /// <summary>The frontend's memory the ring and its buffers live in.</summary>
    public GuestMemory? Memory;

    /// <summary>eventfd to signal used buffers on, or -1.</summary>
    public int CallFd = NoFd;

    /// <summary>Descriptor chains that were malformed (bad address, loop, wrong direction) and were dropped.</summary>
    public ulong MalformedChains;

    // ---- control-path state ----

    public int Size;
    public ulong DescUserAddr, AvailUserAddr, UsedUserAddr;
    public bool AddressesSet;
    public ushort Base;
    public int KickFd = NoFd;
    public bool KickSet;
    public bool CallSet;
    public bool Enabled;

    /// <summary>True once translated and opened to the datapath.</summary>
    public bool Ready => Gate.IsOpen;

    /// <summary>Takes the ring away from the datapath (waits for a burst in flight).</summary>
    public void Quiesce()
    {
        if (!Gate.Close(TimeSpan.FromSeconds(5)))
            throw new PacketPlaneException($"vring {Index}: a burst did not leave the queue within 5 s; is the polling lcore stuck?");
    }

    /// <summary>
    /// Opens the ring to the datapath if everything is configured (the DPDK backend's rule: addresses, kick, call,
    /// enabled). Returns an error when the addresses do not translate; null otherwise.
    /// </summary>
    public string? TryStart(ulong features, bool protocolFeatures, Action<string> log)
    {
        bool enabled = Enabled || !protocolFeatures;   // without protocol features rings start enabled (vhost-user.rst)
        if (!AddressesSet || !KickSet || !CallSet || !enabled || Memory is null || Size == 0)
            return null;
        IsPacked = VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_F_RING_PACKED);
        bool eventIdx = VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_RING_F_EVENT_IDX);
        HeaderSize = VirtioNet.HeaderSize(features);
        MergeRxBuffers = VirtioFeatureBits.Has(features, VirtioFeatureBits.VIRTIO_NET_F_MRG_RXBUF);
        long descBytes = 16L * Size;
        long driverBytes = IsPacked ? 4 : 4 + 2L * Size + 2;
        long deviceBytes = IsPacked ? 4 : 4 + 8L * Size + 2;
        nint desc = Memory.UvaToHost(DescUserAddr, (ulong)descBytes);
        nint avail = Memory.UvaToHost(AvailUserAddr, (ulong)driverBytes);
        nint used = Memory.UvaToHost(UsedUserAddr, (ulong)deviceBytes);
        if (desc == 0 || avail == 0 || used == 0)
        {
            return $"vring {Index}: ring address outside every memory region (desc 0x{DescUserAddr:x}, " +
                $"{(IsPacked ? "driver event" : "avail")} 0x{AvailUserAddr:x}, {(IsPacked ? "device event" : "used")} 0x{UsedUserAddr:x})";
        }
        if (IsPacked)
        {
            PackedRing.Init(desc, avail, used, Size, eventIdx, Base);
            PackedRing.SuppressKicks();
        }
        else
        {
            if (!Split.Init(desc, avail, used, Size, eventIdx, Base))
                log($"vring {Index}: base {Base} differs from the used index {Split.LastAvail}; resuming at the used index");
            Split.SuppressKicks();
        }
        Gate.Open();
        return null;
    }

    /// <summary>The value GET_VRING_BASE answers, read with the gate closed.</summary>
    public ushort CurrentBase()
    {
        if (Memory is null || !AddressesSet || Size == 0)
            return Base;
        return IsPacked ? PackedRing.Base : Split.LastAvail;
    }

    /// <summary>Replaces the kick descriptor (closing the old one).</summary>
    public void SetKick(int fd)
    {
        CloseFd(ref KickFd);
        KickFd = fd;
        KickSet = true;
    }

    /// <summary>Replaces the call descriptor (closing the old one).</summary>
    public void SetCall(int fd)
    {
        CloseFd(ref CallFd);
        CallFd = fd;
        CallSet = true;
    }

    /// <summary>Forgets everything the frontend configured; the gate must already be closed.</summary>
    public void Reset()
    {
        CloseFd(ref KickFd);
        CloseFd(ref CallFd);
        KickSet = CallSet = AddressesSet = Enabled = false;
        Size = 0;
        Base = 0;
        Memory = null;
    }

    private static void CloseFd(ref int fd)
    {
        if (fd >= 0)
            Libc.close(fd);
        fd = NoFd;
    }
}
