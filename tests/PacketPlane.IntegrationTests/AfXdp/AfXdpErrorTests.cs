using System;
using System.Diagnostics;
using System.IO;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;
using static PacketPlane.IntegrationTests.AfXdp.AfXdpTestSupport;

namespace PacketPlane.IntegrationTests.AfXdp;

/// <summary>Every control-path failure of net_af_xdp, produced for real, with the fix in its message.</summary>
[Collection(AfXdpCollection.Name)]
public class AfXdpErrorTests
{
    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Queues_beyond_the_interface_channels_are_refused_with_the_ethtool_fix()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create(queues: 2);
        string m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface},start_queue=1,queue_count=2")).Message;
        Assert.Contains("asks for queues 1..2", m);
        Assert.Contains("which has 2 RX channel(s) (queues 0..1", m);
        Assert.Contains($"ethtool -L {veth.HostInterface} combined 3", m);
        Assert.Contains("numrxqueues 3", m);
        m = Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface},start_queue=5")).Message;
        Assert.Contains("asks for queues 5..5", m);
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void An_interface_with_another_program_is_not_taken_over()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        (Process holder, _) = HostProcess.StartAndWaitReady("afxdp-port", $"net_af_xdp0,iface={veth.HostInterface}");
        using (holder)
        {
            uint id = XdpState(veth.HostInterface).ProgramId;
            string m = Assert.Throws<EthDevException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface}")).Message;
            Assert.Contains($"interface {veth.HostInterface} already has an XDP program attached (id {id} 'xsk_redirect', native (driver) mode)", m);
            Assert.Contains($"ip link set dev {veth.HostInterface} xdp off", m);
            Assert.Contains("stop that process", m);
            Assert.Equal(id, XdpState(veth.HostInterface).ProgramId); // untouched
            HostProcess.Kill9(holder);
        }
        AssertNoProgram(veth.HostInterface);
        using MbufPool pool = MbufPool.Create("xdp_taken", 4096, cacheSize: 0);
        Open($"iface={veth.HostInterface}", pool).Close();
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Missing_capabilities_are_named_with_the_setcap_and_container_fix()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        string dll = Path.Combine(AppContext.BaseDirectory, "PacketPlane.TestHost.dll");

        // setpriv (util-linux, always installed) drops capabilities from the bounding set before exec, so the child
        // runs as root without them. First all four:
        Shell.Result r = Shell.TryRun($"setpriv --bounding-set=-net_admin,-net_raw,-bpf,-sys_admin dotnet {dll} afxdp-port net_af_xdp0,iface={veth.HostInterface}");
        Assert.Equal(3, r.ExitCode);
        Assert.StartsWith("error PrivilegeException: ", r.Stdout);
        Assert.Contains("needs CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF", r.Stdout);
        Assert.Contains("setcap cap_net_admin,cap_net_raw,cap_bpf+ep", r.Stdout);
        Assert.Contains("--cap-add NET_ADMIN --cap-add NET_RAW --cap-add BPF", r.Stdout);

        // CAP_SYS_ADMIN stands in for CAP_BPF (kernels before 5.8 have no CAP_BPF): only BPF-less, it works.
        r = Shell.TryRun($"setpriv --bounding-set=-bpf dotnet {dll} afxdp-port net_af_xdp0,iface={veth.HostInterface} echo 0");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("ready ", r.Stdout);

        // Only CAP_NET_RAW missing: only it is named.
        r = Shell.TryRun($"setpriv --bounding-set=-net_raw dotnet {dll} afxdp-port net_af_xdp0,iface={veth.HostInterface}");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("needs CAP_NET_RAW.", r.Stdout);
        AssertNoProgram(veth.HostInterface);
    }

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void Configuration_errors_name_the_fix()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        using VethPair veth = VethPair.Create();
        using MbufPool pool = MbufPool.Create("xdp_conf", 4096, cacheSize: 0);
        using MbufPool tiny = MbufPool.Create("xdp_tiny", 512, cacheSize: 0);
        EthDev port = EthDev.Create($"{NextName()},iface={veth.HostInterface}");
        try
        {
            string m = Assert.Throws<EthDevException>(() => port.Configure(0, 1)).Message;
            Assert.Contains("configure at least as many RX queues as TX queues", m);
            port.Configure(1, 1);
            m = Assert.Throws<EthDevException>(() => port.SetupRxQueue(0, 1024, tiny)).Message;
            Assert.Contains("needs 1024 mbufs for its FILL ring but pool 'xdp_tiny' had only 512 free usable", m);
            Assert.Equal(0, tiny.InUse);
            port.SetupRxQueue(0, 1024, pool);
            port.SetupTxQueue(0, 1024);
            port.Start();
        }
        finally
        {
            port.Close();
        }
        Assert.Equal(0, pool.InUse);

        string missing = Path.Combine(Path.GetTempPath(), "no-such-prog.o");
        Assert.Contains("cannot read the file", Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface},xdp_prog={missing}")).Message);
        string notElf = Path.GetTempFileName();
        File.WriteAllText(notElf, "hello");
        try
        {
            Assert.Contains("not an ELF file. Build the program with: clang -O2 -target bpf -c",
                Assert.Throws<DeviceArgumentException>(() => EthDev.Create($"{NextName()},iface={veth.HostInterface},xdp_prog={notElf}")).Message);
        }
        finally
        {
            File.Delete(notElf);
        }
        AssertNoProgram(veth.HostInterface);
    }

    /// <summary>
    /// Runs a command with socket(AF_XDP, ...) answering EAFNOSUPPORT, exactly what a kernel without
    /// CONFIG_XDP_SOCKETS answers: a seccomp filter (classic BPF over struct seccomp_data, x86-64) installed by
    /// Python through prctl, then exec.
    /// </summary>
    private const string NoAfXdpLauncher = """
        import ctypes, os, struct, sys
        def insn(code, jt, jf, k): return struct.pack('=HBBI', code, jt, jf, k)
        LD_ABS, JEQ, RET = 0x20, 0x15, 0x06
        prog = b''.join([
            insn(LD_ABS, 0, 0, 4),              # arch
            insn(JEQ, 0, 5, 0xC000003E),        # AUDIT_ARCH_X86_64, else allow
            insn(LD_ABS, 0, 0, 0),              # syscall number
            insn(JEQ, 0, 3, 41),                # socket, else allow
            insn(LD_ABS, 0, 0, 16),             # args[0] (family)
            insn(JEQ, 0, 1, 44),                # AF_XDP, else allow
            insn(RET, 0, 0, 0x00050000 | 97),   # SECCOMP_RET_ERRNO | EAFNOSUPPORT
            insn(RET, 0, 0, 0x7FFF0000),        # SECCOMP_RET_ALLOW
        ])
        buf = ctypes.create_string_buffer(prog)
        fprog = struct.pack('=HxxxxxxQ', len(prog) // 8, ctypes.addressof(buf))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(22, 2, ctypes.c_char_p(fprog), 0, 0) != 0:   # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            sys.exit('prctl failed: %d' % ctypes.get_errno())
        os.execvp(sys.argv[1], sys.argv[1:])
        """;

    [SkippableFact]
    [Trait("Requires", "root")]
    [Trait("Requires", "netns")]
    public void A_kernel_without_AF_XDP_is_named_with_the_fix()
    {
        Prerequisites.Require(Requirement.Root, Requirement.NetworkNamespaces);
        Skip.IfNot(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "skipped: the seccomp filter that simulates a kernel without AF_XDP is written for x86-64");
        using VethPair veth = VethPair.Create();
        string launcher = Path.Combine(Path.GetTempPath(), $"no-af-xdp-{Environment.ProcessId}.py");
        File.WriteAllText(launcher, NoAfXdpLauncher);
        try
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "PacketPlane.TestHost.dll");
            Shell.Result r = Shell.TryRun($"/usr/bin/python3 {launcher} dotnet {dll} afxdp-port net_af_xdp0,iface={veth.HostInterface}");
            Assert.Equal(3, r.ExitCode);
            Assert.StartsWith("error EthDevException: ", r.Stdout);
            Assert.Contains("this kernel has no AF_XDP sockets (errno 97", r.Stdout);
            Assert.Contains("CONFIG_XDP_SOCKETS=y", r.Stdout);
            Assert.Contains("Use net_af_packet", r.Stdout);
        }
        finally
        {
            File.Delete(launcher);
        }
        AssertNoProgram(veth.HostInterface);
    }
}
