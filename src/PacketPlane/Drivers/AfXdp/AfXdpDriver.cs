using System.Collections.Generic;
using PacketPlane.Ethdev;
using PacketPlane.Ethdev.Driver;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>Parsed <c>net_af_xdp</c> arguments (DPDK's names and meanings; busy polling is off unless asked for).</summary>
internal sealed record AfXdpOptions(string Interface, int StartQueue, int QueueCount, int BusyBudget, bool ForceCopy, string? XdpProgram, bool SharedUmem)
{
    public static AfXdpOptions Parse(DeviceArguments args) => new(
        args.GetRequiredString("iface", "IFNAME (a kernel network interface, e.g. iface=eth1)"),
        args.GetInt32("start_queue", 0, 0, 4095),
        args.GetInt32("queue_count", 1, 1, 4096),
        args.GetInt32("busy_budget", 0, 0, 4096),
        args.GetBool("force_copy", false),
        args.GetString("xdp_prog") is { Length: > 0 } prog ? prog : null,
        args.GetBool("shared_umem", false));
}

/// <summary>
/// <c>net_af_xdp</c>: high-speed I/O on any Linux netdev through AF_XDP sockets, without unbinding it from the
/// kernel. Device string as DPDK's: <c>net_af_xdp0,iface=IFNAME,start_queue=N,queue_count=M</c> plus
/// <c>busy_budget</c>, <c>force_copy</c>, <c>xdp_prog</c>, <c>shared_umem</c>.
/// </summary>
internal sealed class AfXdpDriver : EthDriver
{
    public override string Name => "net_af_xdp";

    public override IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["iface"] = "kernel interface to use, required",
        ["start_queue"] = "first interface queue (channel) used, default 0",
        ["queue_count"] = "number of interface queues used, one AF_XDP socket each, default 1",
        ["busy_budget"] = "busy-polling budget per NAPI poll (SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET; Linux 5.11+), default 0 = off",
        ["force_copy"] = "1 to use copy mode without trying zero-copy, default 0",
        ["xdp_prog"] = "ELF object with the XDP program to load instead of the built-in redirect program; it must use a map named xsks_map",
        ["shared_umem"] = "1 to share one UMEM between the sockets whose RX queues use the same mbuf pool (Linux 5.10+), default 0",
    };

    public override string Requirements =>
        "Linux 5.4+ with AF_XDP (bpf_link attach: 5.9+), CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF (or CAP_SYS_ADMIN before 5.8); " +
        "locked memory for the UMEM (CAP_IPC_LOCK or ulimit -l)";

    public override EthDevice Create(DeviceArguments args) => new AfXdpDevice(args.DeviceName, AfXdpOptions.Parse(args));
}
