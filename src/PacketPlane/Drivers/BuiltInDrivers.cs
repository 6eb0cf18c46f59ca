using System.Collections.Generic;
using PacketPlane.Ethdev.Driver;

namespace PacketPlane.Drivers;

/// <summary>The drivers shipped in the package, registered with <see cref="EthDriverRegistry"/> on first use.</summary>
internal static class BuiltInDrivers
{
    public static IEnumerable<EthDriver> Create() =>
    [
        new Null.NullDriver(),
        new AfPacket.AfPacketDriver(),
        new AfPacket.EthAfPacketAlias(),
        new Tap.TapDriver(),
        new Ring.RingDriver(),
        new Pcap.PcapDriver(),
        new AfXdp.AfXdpDriver(),
        new Intel.Common.PciPortDriver(),
        new Virtio.Vhost.VhostDriver(),
        new Virtio.VirtioUser.VirtioUserDriver(),
    ];
}
