using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PacketPlane.Ethdev;
using PacketPlane.Interop;
using PacketPlane.Memory;
using static PacketPlane.Interop.Libc;
using static PacketPlane.Interop.Xsk;

namespace PacketPlane.Drivers.AfXdp;

/// <summary>
/// One AF_XDP socket bound to one interface queue: its UMEM (the RX pool's memory, <see cref="UmemLayout"/>), its
/// four rings mapped at the kernel's offsets, and the record of which mbufs the kernel holds, so that closing
/// returns every one of them to its pool. Setup order (af_xdp.rst, and what libbpf's users do): socket, UMEM
/// registration, ring sizes, XDP_MMAP_OFFSETS, mmap, bind, then the FILL ring is filled (after bind because in
/// zero-copy mode some mbufs must be kept out of it, see <see cref="Unusable"/>).
/// </summary>
internal sealed unsafe class XskSocket : IDisposable
{
    // Sockets whose UMEM other sockets may share (shared_umem=1), by pool: any bound one lends its fd.
    private static readonly Dictionary<MbufPool, List<XskSocket>> s_shareable = new();
    private static readonly object s_shareLock = new();

    private readonly List<(nint Address, nuint Length)> _mappings = new();
    private readonly string _device;
    private readonly ILogger _log;
    private XskSocket? _shareWith;
    private xdp_statistics _baseline;
    private int _disposed;

    private XskSocket(string device, NetInterface iface, int queueId, UmemLayout layout, ILogger log)
    {
        _device = device;
        Interface = iface;
        QueueId = queueId;
        Layout = layout;
        _log = log;
        RxHeld = (byte*)NativeMemory.AllocZeroed((nuint)layout.Count);
        TxHeld = (ushort*)NativeMemory.AllocZeroed((nuint)layout.Count, sizeof(ushort));
    }

    /// <summary>The socket's file descriptor.</summary>
    public int Fd { get; private set; } = -1;

    /// <summary>The interface.</summary>
    public NetInterface Interface { get; }

    /// <summary>Interface queue the socket is bound to.</summary>
    public int QueueId { get; }

    /// <summary>The UMEM: the RX pool's memory.</summary>
    public UmemLayout Layout { get; }

    /// <summary>Rings as mapped, before any traffic; the queues copy them.</summary>
    public XskRing Fill, Completion, Rx, Tx;

    /// <summary>Per mbuf of the pool: 1 while it sits in the FILL ring, the kernel or the RX ring.</summary>
    public byte* RxHeld { get; }

    /// <summary>Per mbuf of the pool: how many TX descriptors for it the kernel has not completed yet.</summary>
    public ushort* TxHeld { get; }

    /// <summary>True once bound in zero-copy mode (XDP_OPTIONS_ZEROCOPY).</summary>
    public bool ZeroCopy { get; private set; }

    /// <summary>
    /// Why the socket is not in zero-copy mode: "refused by the driver: errno ..." or "not tried: ..."; null when
    /// zero-copy was obtained or copy mode was forced.
    /// </summary>
    public string? ZeroCopyRefusal { get; private set; }

    /// <summary>
    /// In zero-copy mode, per mbuf of the pool: 1 when its chunk straddles a page boundary, so it must never be
    /// given to the kernel (<see cref="UmemLayout.Straddles"/>); null when every chunk is usable.
    /// </summary>
    public byte* Unusable { get; private set; }

    /// <summary>Mbufs set aside because they are unusable: taken from the pool by RX refill, held until close.</summary>
    public Mbuf** RxQuarantine { get; private set; }

    /// <summary>Mbufs set aside by TX copies, held until close (TX may run on another lcore than RX).</summary>
    public Mbuf** TxQuarantine { get; private set; }

    /// <summary>Entries used in <see cref="RxQuarantine"/> (written by the RX queue only).</summary>
    public int RxQuarantined;

    /// <summary>Entries used in <see cref="TxQuarantine"/> (written by the TX queue only).</summary>
    public int TxQuarantined;

    /// <summary>Tests only: apply the zero-copy chunk rule in copy mode too, to exercise the quarantine.</summary>
    internal static bool ApplyZeroCopyChunkRuleInCopyMode { get; set; }

    /// <summary>True when this socket uses another socket's UMEM (XDP_SHARED_UMEM).</summary>
    public bool SharesUmem => _shareWith is not null;

    /// <summary>Busy-poll budget in effect (0 when off or refused).</summary>
    public int BusyBudget { get; private set; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _disposed != 0;

    /// <summary>
    /// Creates the socket and its rings (not bound yet: <see cref="Bind"/>, then fill the FILL ring).
    /// <paramref name="ringSize"/> sizes RX and TX; FILL and COMPLETION get twice as many entries.
    /// </summary>
    public static XskSocket Open(string device, NetInterface iface, int queueId, UmemLayout layout, uint ringSize,
        int busyBudget, bool shareUmem, ILogger log)
    {
        var s = new XskSocket(device, iface, queueId, layout, log);
        try
        {
            s.Fd = CreateSocket(device);
            s._shareWith = shareUmem ? FindShareable(layout.Pool) : null;
            if (s._shareWith is null)
                s.RegisterUmem();
            s.SetRingSizes(ringSize);
            s.MapRings(ringSize);
            if (busyBudget > 0)
                s.BusyBudget = s.EnableBusyPoll(busyBudget) ? busyBudget : 0;
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Opens and immediately closes an AF_XDP socket: fails with the fix when the kernel has no AF_XDP or we lack CAP_NET_RAW.</summary>
    public static void Probe(string device) => close(CreateSocket(device));

    private static int CreateSocket(string device)
    {
        int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd >= 0)
            return fd;
        throw SocketError(LastErrno, device);
    }

    /// <summary>The exception for a failed socket(AF_XDP): no AF_XDP in the kernel, no CAP_NET_RAW, or other.</summary>
    internal static PacketPlaneException SocketError(int errno, string device) => errno switch
    {
        EAFNOSUPPORT => new EthDevException(
            $"{device}: this kernel has no AF_XDP sockets ({Describe(errno)}). AF_XDP needs Linux 5.4 or later built with " +
            "CONFIG_XDP_SOCKETS=y (check: grep XDP_SOCKETS /boot/config-$(uname -r)); a seccomp profile can also forbid the socket " +
            "family (containers: allow AF_XDP). Use net_af_packet,iface=... instead"),
        EPERM or EACCES => new PrivilegeException(
            $"{device}: creating an AF_XDP socket needs CAP_NET_RAW ({Describe(errno)}). Run as root or grant it: " +
            "sudo setcap cap_net_raw,cap_net_admin,cap_bpf+ep $(readlink -f $(which dotnet)); in a container: --cap-add NET_RAW --cap-add NET_ADMIN --cap-add BPF"),
        _ => new EthDevException($"{device}: socket(AF_XDP) failed: {Describe(errno)}"),
    };

    private static XskSocket? FindShareable(MbufPool pool)
    {
        lock (s_shareLock)
        {
            if (!s_shareable.TryGetValue(pool, out List<XskSocket>? list))
                return null;
            list.RemoveAll(x => x.IsDisposed);
            return list.Count > 0 ? list[0] : null;
        }
    }

    private void RegisterUmem()
    {
        xdp_umem_reg reg = default;
        reg.addr = (ulong)Layout.Base;
        reg.len = Layout.Length;
        reg.chunk_size = Layout.ChunkSize;
        reg.headroom = Layout.Headroom;
        reg.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG;
        if (setsockopt(Fd, SOL_XDP, XDP_UMEM_REG, &reg, (uint)sizeof(xdp_umem_reg)) == 0)
            return;
        int errno = LastErrno;
        string pool = Layout.Pool.Name;
        throw new EthDevException(errno switch
        {
            ENOBUFS or ENOMEM => $"{_device}: registering pool '{pool}' ({Layout.Length >> 20} MiB) as UMEM failed: {Describe(errno)}. " +
                "The kernel pins UMEM pages against RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK: raise the limit " +
                "(ulimit -l unlimited; docker run --ulimit memlock=-1) or grant CAP_IPC_LOCK",
            EINVAL => $"{_device}: the kernel refused pool '{pool}' as UMEM ({Describe(errno)}): chunk {Layout.ChunkSize} bytes, headroom " +
                $"{Layout.Headroom}, unaligned chunks. Unaligned chunks need Linux 5.4+, and chunks above 4096 bytes (jumbo data rooms) Linux 6.6+",
            _ => $"{_device}: XDP_UMEM_REG of pool '{pool}' failed: {Describe(errno)}",
        });
    }

    private void SetRingSizes(uint ringSize)
    {
        SetOption(XDP_UMEM_FILL_RING, ringSize * 2, "FILL ring size");
        SetOption(XDP_UMEM_COMPLETION_RING, ringSize * 2, "COMPLETION ring size");
        SetOption(XDP_RX_RING, ringSize, "RX ring size");
        SetOption(XDP_TX_RING, ringSize, "TX ring size");
    }

    private void SetOption(int option, uint value, string what)
    {
        int v = (int)value;
        if (setsockopt(Fd, SOL_XDP, option, &v, sizeof(int)) != 0)
            throw new EthDevException($"{_device}: setting the AF_XDP {what} to {value} failed: {Describe(LastErrno)}");
    }

    private void MapRings(uint ringSize)
    {
        xdp_mmap_offsets off = default;
        uint len = (uint)sizeof(xdp_mmap_offsets);
        if (getsockopt(Fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) != 0)
            throw new EthDevException($"{_device}: getsockopt(XDP_MMAP_OFFSETS) failed: {Describe(LastErrno)}");
        if (len < sizeof(xdp_mmap_offsets))
            throw new EthDevException($"{_device}: the kernel's AF_XDP rings have no flags word (Linux before 5.4); the driver needs XDP_USE_NEED_WAKEUP. Upgrade to Linux 5.4+");
        Rx = Map(off.rx, XDP_PGOFF_RX_RING, ringSize, (uint)sizeof(xdp_desc), "RX");
        Tx = Map(off.tx, XDP_PGOFF_TX_RING, ringSize, (uint)sizeof(xdp_desc), "TX");
        Fill = Map(off.fr, XDP_UMEM_PGOFF_FILL_RING, ringSize * 2, sizeof(ulong), "FILL");
        Completion = Map(off.cr, XDP_UMEM_PGOFF_COMPLETION_RING, ringSize * 2, sizeof(ulong), "COMPLETION");
        // Producer rings start with every slot free: cached consumer = consumer + size (libbpf's convention).
        Fill.CachedConsumer = Fill.Size;
        Tx.CachedConsumer = Tx.Size;
    }

    private XskRing Map(xdp_ring_offset o, long pageOffset, uint entries, uint entrySize, string name)
    {
        nuint length = (nuint)(o.desc + (ulong)entries * entrySize);
        nint addr = mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, Fd, pageOffset);
        if (addr == MAP_FAILED)
            throw new EthDevException($"{_device}: mapping the AF_XDP {name} ring ({length} bytes) failed: {Describe(LastErrno)}");
        _mappings.Add((addr, length));
        byte* b = (byte*)addr;
        return new XskRing
        {
            Producer = (uint*)(b + o.producer),
            Consumer = (uint*)(b + o.consumer),
            Flags = (uint*)(b + o.flags),
            Descriptors = b + o.desc,
            Size = entries,
            Mask = entries - 1,
        };
    }

    private bool EnableBusyPoll(int budget)
    {
        // As DPDK's configure_preferred_busy_poll: prefer busy polling, 20 us per poll, <budget> packets per NAPI
        // poll (Linux 5.11+). A kernel that refuses keeps interrupt-driven NAPI; we log and carry on, as DPDK does.
        (int Option, int Value, string Name)[] options =
        [
            (SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL"),
            (SO_BUSY_POLL, 20, "SO_BUSY_POLL"),
            (SO_BUSY_POLL_BUDGET, budget, "SO_BUSY_POLL_BUDGET"),
        ];
        foreach ((int option, int value, string name) in options)
        {
            int v = value;
            if (setsockopt(Fd, SOL_SOCKET, option, &v, sizeof(int)) != 0)
            {
                _log.LogWarning("{Device}: queue {Queue}: busy polling not enabled: setsockopt({Option}={Value}) failed: {Error} " +
                    "(needs Linux 5.11+; SO_BUSY_POLL_BUDGET above net.core budget needs CAP_NET_ADMIN)", _device, QueueId, name, value, Describe(LastErrno));
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Binds to the interface queue. Zero-copy is asked for first and copy mode used when the driver refuses it
    /// (or right away with <paramref name="forceCopy"/>); a socket sharing another's UMEM inherits that UMEM's mode.
    /// </summary>
    public void Bind(bool forceCopy)
    {
        if (_shareWith is not null)
        {
            ThrowOnBindError(TryBind(XDP_SHARED_UMEM, (uint)_shareWith.Fd), "with a shared UMEM");
        }
        else if (forceCopy)
        {
            ThrowOnBindError(TryBind(XDP_COPY | XDP_USE_NEED_WAKEUP, 0), "in copy mode");
        }
        else if (ZeroCopyObstacle() is string obstacle)
        {
            ZeroCopyRefusal = obstacle;
            ThrowOnBindError(TryBind(XDP_COPY | XDP_USE_NEED_WAKEUP, 0), "in copy mode");
        }
        else
        {
            int zc = TryBind(XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP, 0);
            if (zc != 0)
            {
                ZeroCopyRefusal = "refused by the driver: " + Describe(zc);
                ThrowOnBindError(TryBind(XDP_COPY | XDP_USE_NEED_WAKEUP, 0), "in copy mode");
            }
        }
        xdp_options opts = default;
        uint len = (uint)sizeof(xdp_options);
        if (getsockopt(Fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0)
            ZeroCopy = (opts.flags & XDP_OPTIONS_ZEROCOPY) != 0;
        if (ZeroCopy || ApplyZeroCopyChunkRuleInCopyMode)
            MarkUnusableChunks();
        lock (s_shareLock)
        {
            if (!s_shareable.TryGetValue(Layout.Pool, out List<XskSocket>? list))
                s_shareable[Layout.Pool] = list = new List<XskSocket>();
            list.Add(this);
        }
        _baseline = ReadStatisticsRaw();
    }

    /// <summary>
    /// bind(), retried for a while on EBUSY: the kernel releases a closed socket's hold on its queue from a work
    /// item after close() returns (xp_release_deferred), so re-binding a queue right after closing it can find it
    /// still taken. A queue held by a live socket stays EBUSY and the error names that case.
    /// </summary>
    private int TryBind(ushort flags, uint sharedFd)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int errno;
        while ((errno = TryBindOnce(flags, sharedFd)) == EBUSY && clock.ElapsedMilliseconds < BindBusyRetryMs)
            System.Threading.Thread.Sleep(10);
        return errno;
    }

    private const int BindBusyRetryMs = 2000;

    /// <summary>
    /// Why zero-copy would not work with this pool, or null. When more than 1 in 16 chunks straddle a page boundary
    /// (a pool on 4 KiB pages whose mbufs are not page-sized) setting them aside would starve the pool, so zero-copy
    /// is not tried; a few straddlers (one per hugepage boundary) are set aside instead (<see cref="Unusable"/>).
    /// </summary>
    private string? ZeroCopyObstacle()
    {
        int straddling = Layout.CountStraddling();
        if (straddling <= Layout.Count / 16)
            return null;
        return $"not tried: {straddling} of the {Layout.Count} mbufs of pool '{Layout.Pool.Name}' cross a {Layout.PageSize}-byte page boundary, " +
            "which zero-copy drivers refuse; put the pool on hugepages, or give it page-sized objects (MbufPoolOptions { ObjectAlignment = 4096 })";
    }

    private void MarkUnusableChunks()
    {
        int straddling = Layout.CountStraddling();
        if (straddling == 0)
            return;
        Unusable = (byte*)NativeMemory.AllocZeroed((nuint)Layout.Count);
        for (uint i = 0; i < (uint)Layout.Count; i++)
            Unusable[i] = Layout.Straddles(i) ? (byte)1 : (byte)0;
        // Each unusable mbuf is set aside at most once by each side, never freed until close: these bound the lists.
        RxQuarantine = (Mbuf**)NativeMemory.Alloc((nuint)straddling, (nuint)sizeof(Mbuf*));
        TxQuarantine = (Mbuf**)NativeMemory.Alloc((nuint)straddling, (nuint)sizeof(Mbuf*));
        _log.LogInformation("{Device}: queue {Queue}: {Count} mbufs of pool '{Pool}' cross a page boundary; they are set aside when drawn, never given to the kernel",
            _device, QueueId, straddling, Layout.Pool.Name);
    }

    private int TryBindOnce(ushort flags, uint sharedFd)
    {
        sockaddr_xdp addr = default;
        addr.sxdp_family = AF_XDP;
        addr.sxdp_flags = flags;
        addr.sxdp_ifindex = (uint)Interface.Index;
        addr.sxdp_queue_id = (uint)QueueId;
        addr.sxdp_shared_umem_fd = sharedFd;
        return bind(Fd, &addr, (uint)sizeof(sockaddr_xdp)) == 0 ? 0 : LastErrno;
    }

    private void ThrowOnBindError(int errno, string how)
    {
        if (errno == 0)
            return;
        string where = $"{Interface.Name} queue {QueueId}";
        throw new EthDevException(errno switch
        {
            EBUSY => $"{_device}: binding an AF_XDP socket to {where} {how} failed: {Describe(errno)} for {BindBusyRetryMs / 1000} s. Another AF_XDP " +
                "socket (another port, or another process such as a DPDK app) is bound to that queue: stop it, or use another queue (start_queue=)",
            ENODEV => $"{_device}: interface {Interface.Name} disappeared before the socket could be bound ({Describe(errno)})",
            EINVAL when _shareWith is not null => $"{_device}: binding {where} to a shared UMEM failed ({Describe(errno)}). Sharing a UMEM " +
                "across queues or interfaces needs Linux 5.10+; drop shared_umem=1",
            EINVAL => $"{_device}: binding to {where} {how} failed ({Describe(errno)}): the queue does not exist on the interface " +
                $"({Interface.RxChannels.Current} RX channel(s)) or the kernel lacks XDP_USE_NEED_WAKEUP (Linux 5.4+)",
            _ => $"{_device}: binding an AF_XDP socket to {where} {how} failed: {Describe(errno)}",
        });
    }

    /// <summary>The kernel's counters for this socket since bind (or the last <see cref="ResetStatistics"/>).</summary>
    public xdp_statistics ReadStatistics()
    {
        xdp_statistics now = ReadStatisticsRaw();
        return new xdp_statistics
        {
            rx_dropped = now.rx_dropped - _baseline.rx_dropped,
            rx_invalid_descs = now.rx_invalid_descs - _baseline.rx_invalid_descs,
            tx_invalid_descs = now.tx_invalid_descs - _baseline.tx_invalid_descs,
            rx_ring_full = now.rx_ring_full - _baseline.rx_ring_full,
            rx_fill_ring_empty_descs = now.rx_fill_ring_empty_descs - _baseline.rx_fill_ring_empty_descs,
            tx_ring_empty_descs = now.tx_ring_empty_descs - _baseline.tx_ring_empty_descs,
        };
    }

    /// <summary>Makes the kernel's counters read as zero from now on (they cannot be reset in the kernel).</summary>
    public void ResetStatistics() => _baseline = ReadStatisticsRaw();

    private xdp_statistics ReadStatisticsRaw()
    {
        xdp_statistics stats = default;
        uint len = (uint)sizeof(xdp_statistics);
        if (IsDisposed || getsockopt(Fd, SOL_XDP, XDP_STATISTICS, &stats, &len) != 0)
            return default;
        return stats;
    }

    /// <summary>
    /// Unmaps the rings and closes the socket (the ring mappings hold a reference to the socket file, so they go
    /// first), then returns to the pool every mbuf the kernel still held: those in FILL, RX and TX/COMPLETION, and
    /// those the kernel kept internally. Idempotent.
    /// </summary>
    public void Dispose()
    {
        // Once only: the RX queue's release and the device's close both dispose; the exchange makes the second a no-op
        // (pairs with the plain read in IsDisposed, which the TX queue and the statistics check).
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        foreach ((nint addr, nuint len) in _mappings)
            munmap(addr, len);
        _mappings.Clear();
        if (Fd >= 0)
            close(Fd);
        Fd = -1;
        lock (s_shareLock)
        {
            if (s_shareable.TryGetValue(Layout.Pool, out List<XskSocket>? list))
            {
                list.Remove(this);
                if (list.Count == 0)
                    s_shareable.Remove(Layout.Pool);
            }
        }
        ReturnHeldFrames();
        NativeMemory.Free(RxHeld);
        NativeMemory.Free(TxHeld);
        NativeMemory.Free(Unusable);
        NativeMemory.Free(RxQuarantine);
        NativeMemory.Free(TxQuarantine);
        Unusable = null;
    }

    private void ReturnHeldFrames()
    {
        MbufPool pool = Layout.Pool;
        if (pool.Region.IsDisposed)
        {
            _log.LogWarning("{Device}: pool '{Pool}' was disposed before the port was closed; its mbufs held by the AF_XDP socket are gone with it", _device, pool.Name);
            return;
        }
        const int Batch = 64;
        Mbuf** batch = stackalloc Mbuf*[Batch];
        uint n = 0;
        for (uint i = 0; i < (uint)Layout.Count; i++)
        {
            if (RxHeld[i] != 0)
            {
                batch[n++] = Layout.MbufAt(i);
                if (n == Batch)
                {
                    pool.PutBulkRaw(batch, n, pool.CacheFor(Lcore.CurrentId));
                    n = 0;
                }
            }
            for (int c = 0; c < TxHeld[i]; c++)
            {
                Mbuf* m = Layout.MbufAt(i);
                MbufPool.FreeBulkRaw(&m, 1);
            }
        }
        if (n > 0)
            pool.PutBulkRaw(batch, n, pool.CacheFor(Lcore.CurrentId));
        if (RxQuarantined > 0)
            pool.PutBulkRaw(RxQuarantine, (uint)RxQuarantined, pool.CacheFor(Lcore.CurrentId));
        if (TxQuarantined > 0)
            pool.PutBulkRaw(TxQuarantine, (uint)TxQuarantined, pool.CacheFor(Lcore.CurrentId));
    }
}
