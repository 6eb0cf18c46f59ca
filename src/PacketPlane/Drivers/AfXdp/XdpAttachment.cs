using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using static PacketPlane.Interop.Libc;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// The XDP program on one interface: its XSKMAP, the loaded program and its attachment. Attached with a bpf_link
/// (BPF_LINK_CREATE, Linux 5.9+), so the kernel detaches it by itself when the process dies and the link's last
/// descriptor closes; on older kernels through rtnetlink IFLA_XDP, which outlives the process (logged). Ports of
/// this process on the same interface (different queues) share one attachment; an interface that already carries
/// any other program is refused, never taken over.
/// </summary>
internal sealed class XdpAttachment
{
    private static readonly Dictionary<int, XdpAttachment> s_byInterface = new();
    private static readonly object s_lock = new();

    private readonly List<BpfMap> _maps;
    private int _users;

    private XdpAttachment(NetInterface iface, string? programFile, BpfMap xskMap, List<BpfMap> maps, int programFd)
    {
        Interface = iface;
        ProgramFile = programFile;
        XskMap = xskMap;
        _maps = maps;
        ProgramFd = programFd;
    }

    public NetInterface Interface { get; }
    public string? ProgramFile { get; }
    public BpfMap XskMap { get; }
    public int ProgramFd { get; private set; }
    public int LinkFd { get; private set; } = -1;
    public bool ViaNetlink { get; private set; }
    public uint ProgramId { get; private set; }

    /// <summary>
    /// Tests only: behave as on Linux before 5.9, where BPF_LINK_CREATE answers EINVAL for XDP, so the rtnetlink
    /// attach path can be exercised on a newer kernel.
    /// </summary>
    internal static bool SimulateKernelWithoutXdpLink { get; set; }

    /// <summary>"native (driver)" or "generic (skb)": where the kernel runs the program.</summary>
    public string XdpMode { get; private set; } = "";

    /// <summary>
    /// Throws when <paramref name="iface"/> carries an XDP program that is not one this process attached (control
    /// path check at port creation, so the error comes before any socket is made).
    /// </summary>
    public static void RequireNoForeignProgram(NetInterface iface, string device)
    {
        lock (s_lock)
        {
            XdpLinkState state = Netlink.QueryXdp(iface.Index);
            if (!state.HasProgram)
                return;
            if (s_byInterface.TryGetValue(iface.Index, out XdpAttachment? ours) && state.ProgramIds.All(id => id == ours.ProgramId))
                return;
            throw AlreadyAttached(iface, state, device);
        }
    }

    /// <summary>
    /// The attachment for <paramref name="iface"/>: the existing one of this process, or a new program loaded and
    /// attached (the embedded redirect program, or <paramref name="program"/> from xdp_prog).
    /// </summary>
    public static XdpAttachment Acquire(NetInterface iface, string? programFile, BpfElfObject? program, int mapEntries, string device, ILogger log)
    {
        lock (s_lock)
        {
            if (s_byInterface.TryGetValue(iface.Index, out XdpAttachment? existing))
            {
                if (existing.ProgramFile != programFile)
                    throw new EthDevException($"{device}: interface {iface.Name} already runs {Describe(existing.ProgramFile)} for another port of this process; " +
                        $"ports on one interface share its XDP program, so give them the same xdp_prog (or none)");
                if (existing.XskMap.MaxEntries < mapEntries)
                    throw new EthDevException($"{device}: the XSKMAP on {iface.Name} has {existing.XskMap.MaxEntries} entries, queue {mapEntries - 1} does not fit");
                existing._users++;
                return existing;
            }
            XdpLinkState before = Netlink.QueryXdp(iface.Index);
            if (before.HasProgram)
                throw AlreadyAttached(iface, before, device);
            XdpAttachment a = Load(iface, programFile, program, mapEntries, device);
            try
            {
                a.Attach(device, log);
            }
            catch
            {
                a.CloseDescriptors();
                throw;
            }
            a._users = 1;
            s_byInterface[iface.Index] = a;
            log.LogInformation("{Device}: XDP program {Program} (id {Id}) attached to {Iface} in {Mode} mode through {How}",
                device, Describe(programFile), a.ProgramId, iface.Name, a.XdpMode, a.ViaNetlink ? "rtnetlink (stays after a crash)" : "bpf_link");
            return a;
        }
    }

    private static string Describe(string? programFile) => programFile is null ? XskRedirectProgram.Name : $"xdp_prog={programFile}";

    private static XdpAttachment Load(NetInterface iface, string? programFile, BpfElfObject? program, int mapEntries, string device)
    {
        BpfMap xskMap = BpfMap.Create(XskRedirectProgram.MapName, BPF_MAP_TYPE_XSKMAP, sizeof(uint), sizeof(uint), (uint)mapEntries);
        var maps = new List<BpfMap> { xskMap };
        try
        {
            bpf_insn[] insns;
            string license, name;
            if (program is null)
            {
                insns = XskRedirectProgram.Build(xskMap.Fd);
                license = XskRedirectProgram.License;
                name = XskRedirectProgram.Name;
            }
            else
            {
                var fds = new Dictionary<string, int>();
                foreach (BpfMapReference m in program.Maps)
                {
                    if (fds.ContainsKey(m.Symbol))
                        continue;
                    if (m.IsXskMap)
                    {
                        fds[m.Symbol] = xskMap.Fd;
                        continue;
                    }
                    var d = m.Definition;
                    BpfMap map = BpfMap.Create(m.Symbol, d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags);
                    maps.Add(map);
                    fds[m.Symbol] = map.Fd;
                }
                insns = program.Patched(fds);
                license = program.License;
                name = System.IO.Path.GetFileNameWithoutExtension(programFile!);
            }
            int fd;
            try
            {
                fd = Bpf.LoadXdpProgram(insns, license, name);
            }
            catch (PacketPlaneException e)
            {
                throw new EthDevException($"{device}: {e.Message}");
            }
            return new XdpAttachment(iface, programFile, xskMap, maps, fd);
        }
        catch
        {
            foreach (BpfMap m in maps)
                m.Dispose();
            throw;
        }
    }

    private void Attach(string device, ILogger log)
    {
        int fd = SimulateKernelWithoutXdpLink ? -EINVAL : Bpf.LinkCreateXdp(ProgramFd, Interface.Index);
        if (fd >= 0)
        {
            LinkFd = fd;
        }
        else
        {
            int errno = -fd;
            if (errno != EINVAL)
                throw AttachFailed(errno, "bpf(BPF_LINK_CREATE)", "", device);
            // Linux before 5.9 has no bpf_link for XDP (EINVAL): attach through rtnetlink, refusing to replace.
            int err = Netlink.SetXdp(Interface.Index, ProgramFd, Netlink.XDP_FLAGS_UPDATE_IF_NOEXIST, out string why);
            if (err != 0)
                throw AttachFailed(err, "rtnetlink IFLA_XDP", why, device);
            ViaNetlink = true;
            log.LogWarning("{Device}: this kernel has no bpf_link for XDP (Linux < 5.9); the program was attached through rtnetlink and stays " +
                "on {Iface} if the process dies without closing the port. Remove it then with: ip link set dev {Iface} xdp off", device, Interface.Name, Interface.Name);
        }
        XdpLinkState state = Netlink.QueryXdp(Interface.Index);
        ProgramId = state.ProgramId != 0 ? state.ProgramId : state.ProgramIds.FirstOrDefault();
        XdpMode = state.ModeName;
    }

    private EthDevException AttachFailed(int errno, string how, string kernelMessage, string device)
    {
        if (errno is EBUSY or EEXIST)
            return AlreadyAttached(Interface, Netlink.QueryXdp(Interface.Index), device);
        string hint = errno switch
        {
            EPERM => ". Attaching XDP needs CAP_NET_ADMIN (and CAP_BPF)",
            ENOSPC => ". veth refuses XDP when it has fewer RX queues than its peer has TX queues: create both ends with the same numrxqueues/numtxqueues",
            ERANGE => $". The MTU of {Interface.Name} (or of its veth peer) is too large for XDP: lower it (ip link set dev {Interface.Name} mtu 1500)",
            EOPNOTSUPP => ". The driver does not support XDP in this mode",
            _ => "",
        };
        string kernel = kernelMessage.Length > 0 ? $" (kernel: {kernelMessage})" : "";
        return new EthDevException($"{device}: attaching the XDP program to {Interface.Name} with {how} failed: {Libc.Describe(errno)}{kernel}{hint}. " +
            $"For the driver's own explanation, attach the same program with iproute2: clang -O2 -g -target bpf -c native/xsk_redirect.c -o /tmp/xsk.o && " +
            $"ip link set dev {Interface.Name} xdp obj /tmp/xsk.o sec xdp (then: ip link set dev {Interface.Name} xdp off)");
    }

    // <asm-generic/errno-base.h>
    private const int ERANGE = 34;

    private static EthDevException AlreadyAttached(NetInterface iface, XdpLinkState state, string device)
    {
        string programs = string.Join(", ", state.ProgramIds.Select(id => Bpf.ProgramName(id) is string n && n.Length > 0 ? $"id {id} '{n}'" : $"id {id}"));
        string off = state.Attached switch
        {
            Netlink.XDP_ATTACHED_SKB => "xdpgeneric off",
            Netlink.XDP_ATTACHED_HW => "xdpoffload off",
            Netlink.XDP_ATTACHED_MULTI => "xdp off; ip link set dev " + iface.Name + " xdpgeneric off",
            _ => "xdp off",
        };
        return new EthDevException(
            $"{device}: interface {iface.Name} already has an XDP program attached ({programs}, {state.ModeName} mode). PacketPlane does not " +
            $"take over another program. If it is left over, remove it with: ip link set dev {iface.Name} {off} " +
            "(if it belongs to a running process that attached it through a bpf_link, e.g. another DPDK or PacketPlane app, stop that process instead)");
    }

    /// <summary>Directs the XDP program's frames from interface queue <paramref name="queue"/> to socket <paramref name="xskFd"/>.</summary>
    public void SetSocket(int queue, int xskFd, string device)
    {
        int err = XskMap.Update((uint)queue, (uint)xskFd);
        if (err != 0)
            throw new EthDevException($"{device}: inserting the socket of queue {queue} into the XSKMAP failed: {Bpf.Explain(err)}");
    }

    /// <summary>Stops redirecting queue <paramref name="queue"/> (its frames go to the kernel stack again).</summary>
    public void RemoveSocket(int queue) => XskMap.Delete((uint)queue);

    /// <summary>Drops one user; the last detaches the program and frees the maps.</summary>
    public void Release(ILogger log)
    {
        lock (s_lock)
        {
            if (--_users > 0)
                return;
            s_byInterface.Remove(Interface.Index);
            if (ViaNetlink)
            {
                int err = Netlink.SetXdp(Interface.Index, -1, 0, out string why);
                if (err != 0 && Interface.IsPresent)
                    log.LogWarning("detaching XDP from {Iface} failed: {Error} {Why}; remove it with: ip link set dev {Iface} xdp off", Interface.Name, Libc.Describe(err), why, Interface.Name);
            }
            CloseDescriptors();
        }
    }

    private void CloseDescriptors()
    {
        // Closing the last link descriptor detaches the program (bpf_link semantics); then the program and maps go.
        if (LinkFd >= 0)
            close(LinkFd);
        LinkFd = -1;
        if (ProgramFd >= 0)
            close(ProgramFd);
        ProgramFd = -1;
        foreach (BpfMap m in _maps)
            m.Dispose();
    }
}
