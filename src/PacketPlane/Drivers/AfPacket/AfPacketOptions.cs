using System;
using PacketPlane.Ethdev;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// The arguments of a net_af_packet device string, checked against the PACKET_MMAP rules
/// (Documentation/networking/packet_mmap.rst, "How to use mmap() to improve transmission process"; the
/// checks in net/packet/af_packet.c packet_set_ring) so that a bad geometry fails with the rule it breaks
/// and the value that would work, before the kernel answers a bare EINVAL.
/// </summary>
internal sealed record AfPacketOptions
{
    /// <summary>DPDK's DFLT_FRAME_SIZE.</summary>
    public const int DefaultFrameSize = 2048;

    /// <summary>DPDK's DFLT_FRAME_COUNT.</summary>
    public const int DefaultFrameCount = 512;

    /// <summary>Smallest frame we accept: below this not even a minimum Ethernet frame fits after the header.</summary>
    public const int MinFrameSize = 128;

    /// <summary>
    /// Where the kernel puts an Ethernet frame in a V2 RX frame (tpacket_rcv): the network header goes at
    /// TPACKET_ALIGN(TPACKET2_HDRLEN + 16) = 80, so the 14-byte MAC header starts at 66.
    /// </summary>
    public static readonly int RxMacOffset = Libc.TPACKET_ALIGN(Libc.TPACKET2_HDRLEN + 16) - 14;

    /// <summary>Where a V2 TX frame's data starts (tpacket_snd without PACKET_TX_HAS_OFF): after the 32-byte header.</summary>
    public static readonly int TxDataOffset = Libc.TPACKET2_HDRLEN - 20;

    /// <summary>Kernel interface to attach to.</summary>
    public required string Interface { get; init; }

    /// <summary>Queue pairs (one AF_PACKET socket each).</summary>
    public int QueuePairs { get; init; } = 1;

    /// <summary>PACKET_MMAP block size.</summary>
    public int BlockSize { get; init; }

    /// <summary>PACKET_MMAP frame size.</summary>
    public int FrameSize { get; init; } = DefaultFrameSize;

    /// <summary>Frames per ring (per direction, per queue pair).</summary>
    public int FrameCount { get; init; } = DefaultFrameCount;

    /// <summary>PACKET_QDISC_BYPASS on the sockets.</summary>
    public bool QdiscBypass { get; init; } = true;

    /// <summary>Frames that fit in one block.</summary>
    public int FramesPerBlock => BlockSize / FrameSize;

    /// <summary>Blocks per ring.</summary>
    public int BlockCount => FrameCount / FramesPerBlock;

    /// <summary>Bytes of one ring (RX or TX).</summary>
    public long RingBytes => (long)BlockSize * BlockCount;

    /// <summary>Largest frame (Ethernet header included) an RX ring frame holds without truncation.</summary>
    public int MaxRxFrameLength => FrameSize - RxMacOffset;

    /// <summary>Largest frame a TX ring frame holds.</summary>
    public int MaxTxFrameLength => FrameSize - TxDataOffset;

    /// <summary>Largest MTU whose frames still fit the RX ring frames whole.</summary>
    public int MaxMtu => MaxRxFrameLength - 14;

    /// <summary>The ring request for PACKET_RX_RING / PACKET_TX_RING.</summary>
    public Libc.tpacket_req Request => new()
    {
        tp_block_size = (uint)BlockSize,
        tp_block_nr = (uint)BlockCount,
        tp_frame_size = (uint)FrameSize,
        tp_frame_nr = (uint)FrameCount,
    };

    /// <summary>Reads and checks the arguments of <paramref name="args"/>.</summary>
    /// <exception cref="DeviceArgumentException">A missing iface or a value that breaks a ring rule; the message names the fix.</exception>
    public static AfPacketOptions Parse(DeviceArguments args, int pageSize)
    {
        string device = args.DeviceName;
        string iface = args.GetRequiredString("iface", "<interface name>, e.g. iface=eth1 (list them with: ip link show)");
        if (iface.Length >= NetInterface.IFNAMSIZ)
            throw new DeviceArgumentException($"device '{device}': iface={iface} is {iface.Length} characters; Linux interface names have at most {NetInterface.IFNAMSIZ - 1}");
        int qpairs = args.GetInt32("qpairs", 1, 1, int.MaxValue);
        if (qpairs > Libc.PACKET_FANOUT_DEF_MAX)
            throw new DeviceArgumentException($"device '{device}': qpairs={qpairs} is more than the {Libc.PACKET_FANOUT_DEF_MAX} sockets a PACKET_FANOUT group takes; " +
                $"use qpairs=1..{Libc.PACKET_FANOUT_DEF_MAX} (one per polling lcore is what helps: this machine has {Environment.ProcessorCount} CPUs)");
        var options = new AfPacketOptions
        {
            Interface = iface,
            QueuePairs = qpairs,
            BlockSize = args.GetInt32("blocksz", pageSize, 1, int.MaxValue),
            FrameSize = args.GetInt32("framesz", DefaultFrameSize, 1, int.MaxValue),
            FrameCount = args.GetInt32("framecnt", DefaultFrameCount, 1, int.MaxValue),
            QdiscBypass = args.GetBool("qdisc_bypass", true),
        };
        options.Validate(device, pageSize);
        return options;
    }

    /// <summary>Checks the ring rules; throws with the rule and a value that satisfies it.</summary>
    public void Validate(string device, int pageSize)
    {
        if (BlockSize % pageSize != 0)
            throw new DeviceArgumentException($"device '{device}': blocksz={BlockSize} is not a multiple of the page size ({pageSize}); PACKET_MMAP blocks are whole pages. " +
                $"Use blocksz={RoundUp(BlockSize, pageSize)}");
        if (FrameSize % Libc.TPACKET_ALIGNMENT != 0)
            throw new DeviceArgumentException($"device '{device}': framesz={FrameSize} is not a multiple of TPACKET_ALIGNMENT ({Libc.TPACKET_ALIGNMENT}). " +
                $"Use framesz={RoundUp(FrameSize, Libc.TPACKET_ALIGNMENT)}");
        if (FrameSize < MinFrameSize)
            throw new DeviceArgumentException($"device '{device}': framesz={FrameSize} is too small: a ring frame spends {RxMacOffset} bytes on its header, " +
                $"so it must be at least {MinFrameSize} to hold a minimum Ethernet frame. Use framesz={DefaultFrameSize} (frames up to {DefaultFrameSize - RxMacOffset} bytes)");
        if (FrameSize > BlockSize)
            throw new DeviceArgumentException($"device '{device}': framesz={FrameSize} is larger than blocksz={BlockSize}; a frame cannot span blocks. " +
                $"Use blocksz={RoundUp(FrameSize, pageSize)} or a smaller framesz");
        if (FrameCount % FramesPerBlock != 0)
            throw new DeviceArgumentException($"device '{device}': framecnt={FrameCount} is not a multiple of the {FramesPerBlock} frames that fit in one block " +
                $"(blocksz={BlockSize} / framesz={FrameSize}); the kernel needs whole blocks. Use framecnt={RoundUp(FrameCount, FramesPerBlock)}");
        if (RingBytes > uint.MaxValue)
            throw new DeviceArgumentException($"device '{device}': a ring of framecnt={FrameCount} x blocksz/framesz is {RingBytes >> 20} MiB, more than the 4 GiB the kernel maps; lower framecnt");
    }

    private static int RoundUp(int value, int multiple) => (int)Math.Min(int.MaxValue, ((long)value + multiple - 1) / multiple * multiple);
}
