using System.Collections.Generic;
using System.Threading;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;
using PacketPlane.Interop;
using PacketPlane.Net;

namespace PacketPlane.Drivers.Tap;

/// <summary>What a net_tap device string asks for.</summary>
/// <param name="Interface">Interface name; a %d is replaced by the kernel with the first free number.</param>
/// <param name="Mac">MAC to give the interface, or null to keep the one the kernel chose (random, locally administered).</param>
/// <param name="Persist">Keep the interface after the port closes (TUNSETPERSIST).</param>
internal sealed record TapOptions(string Interface, MacAddress? Mac, bool Persist)
{
    /// <summary>DPDK's DEFAULT_TAP_NAME; the kernel numbers it (dtap0, dtap1, ...).</summary>
    public const string DefaultInterface = "dtap%d";

    /// <summary>DPDK's fixed MAC: 02:'d':'t':'a':'p':NN, the last byte counting up per mac=fixed device.</summary>
    public const ulong FixedMacBase = 0x02_64_74_61_70_00UL;

    private static int s_fixedMacIndex = -1;

    /// <summary>Reads the arguments of a net_tap device string.</summary>
    public static TapOptions Parse(DeviceArguments args)
    {
        string iface = args.GetString("iface") ?? DefaultInterface;
        if (iface.Length == 0 || iface.Length >= NetInterface.IFNAMSIZ || iface.Contains('/', System.StringComparison.Ordinal) || iface.Contains(' ', System.StringComparison.Ordinal))
            throw new DeviceArgumentException($"device '{args.DeviceName}': iface={iface} is not a valid interface name (1 to {NetInterface.IFNAMSIZ - 1} characters, no '/' or spaces)");
        MacAddress? mac = null;
        string? macText = args.GetString("mac");
        if (macText is not null)
        {
            if (macText.Equals("fixed", System.StringComparison.OrdinalIgnoreCase))
                mac = new MacAddress(FixedMacBase | (uint)(Interlocked.Increment(ref s_fixedMacIndex) & 0xff));
            else
            {
                MacAddress given = args.GetMac("mac")!.Value;
                mac = given;
                if (given.IsMulticast)
                    throw new DeviceArgumentException($"device '{args.DeviceName}': mac={macText} is a multicast address; an interface needs a unicast one (first byte even), e.g. 02:00:00:00:00:01");
            }
        }
        return new TapOptions(iface, mac, args.GetBool("persist", false));
    }
}

/// <summary>
/// <c>net_tap</c>: a TAP interface through /dev/net/tun, with DPDK's <c>iface</c> and <c>mac</c> arguments
/// (and <c>persist</c>); the kernel sees the port's frames on the interface and the port receives what the
/// kernel sends out of it.
/// </summary>
internal sealed class TapDriver : EthDriver
{
    public const string DriverName = "net_tap";

    public override string Name => DriverName;

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["iface"] = "interface name; default dtap%d (the kernel picks dtap0, dtap1, ...); an existing multi-queue TAP of that name is attached to",
        ["mac"] = "MAC address of the interface, e.g. mac=02:00:00:00:00:01, or mac=fixed for 02:64:74:61:70:NN (NN counting up per device); default random (the kernel's)",
        ["persist"] = "1 to keep the interface after the port closes; default 0",
    };

    public override string Requirements =>
        $"{Libc.TunDevicePath} (in a container: --device {Libc.TunDevicePath}) and CAP_NET_ADMIN to create the interface and set its state, MTU, MAC and flags. " +
        "Without CAP_NET_ADMIN: create a multi-queue TAP for the user beforehand (ip tuntap add dev NAME mode tap multi_queue user USER; ip link set NAME up) and give iface=NAME.";

    public override EthDevice Create(DeviceArguments args) => new TapDevice(args.DeviceName, TapOptions.Parse(args));
}
