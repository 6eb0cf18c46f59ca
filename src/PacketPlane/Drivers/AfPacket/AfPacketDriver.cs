using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.AfPacket;

/// <summary>
/// <c>net_af_packet</c>: a port on any Linux network interface through AF_PACKET sockets with PACKET_MMAP rings,
/// with DPDK's arguments (<c>iface</c>, <c>qpairs</c>, <c>blocksz</c>, <c>framesz</c>, <c>framecnt</c>,
/// <c>qdisc_bypass</c>) and defaults. <c>eth_af_packet</c> is accepted too, as in DPDK.
/// </summary>
internal sealed class AfPacketDriver : EthDriver
{
    public const string DriverName = "net_af_packet";

    public override string Name => DriverName;

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["iface"] = "kernel interface to attach to (required), e.g. iface=eth1",
        ["qpairs"] = "RX/TX queue pairs, one AF_PACKET socket each; RX spread by PACKET_FANOUT flow hash; default 1, at most 256",
        ["blocksz"] = "PACKET_MMAP block size in bytes, a multiple of the page size; default the page size (4096)",
        ["framesz"] = "PACKET_MMAP frame size in bytes, a multiple of 16, at most blocksz; default 2048 (frames up to 1982 bytes)",
        ["framecnt"] = "frames per ring (RX and TX each, per queue pair), a multiple of blocksz/framesz; default 512",
        ["qdisc_bypass"] = "1 to send with PACKET_QDISC_BYPASS (straight to the driver, unseen by tc and by other packet sockets), 0 to go through the qdisc; default 1 (as DPDK 22.11's code)",
    };

    public override string Requirements =>
        "CAP_NET_RAW (AF_PACKET sockets; promiscuous and all-multicast modes use packet memberships and need nothing more); " +
        "CAP_NET_ADMIN only to change the interface's MTU or MAC address. The interface must exist in the process's network namespace.";

    public override EthDevice Create(DeviceArguments args)
    {
        AfPacketOptions options = AfPacketOptions.Parse(args, Libc.getpagesize());
        return new AfPacketDevice(args.DeviceName, options);
    }
}

/// <summary>DPDK's alias for net_af_packet (RTE_PMD_REGISTER_ALIAS(net_af_packet, eth_af_packet)).</summary>
internal sealed class EthAfPacketAlias : EthDriver
{
    private readonly AfPacketDriver _driver = new();

    public override string Name => "eth_af_packet";

    public override IReadOnlyDictionary<string, string> Parameters => _driver.Parameters;

    public override string Requirements => _driver.Requirements;

    public override EthDevice Create(DeviceArguments args) => _driver.Create(args);
}
