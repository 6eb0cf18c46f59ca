using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace PacketPlane.Interop;

/// <summary>XDP state of an interface as rtnetlink reports it (the IFLA_XDP nest of RTM_NEWLINK).</summary>
/// <param name="Attached">XDP_ATTACHED_NONE/DRV/SKB/HW/MULTI.</param>
/// <param name="ProgramId">IFLA_XDP_PROG_ID: the program when exactly one is attached, else 0.</param>
/// <param name="DriverProgramId">IFLA_XDP_DRV_PROG_ID (native mode), 0 when none.</param>
/// <param name="GenericProgramId">IFLA_XDP_SKB_PROG_ID (generic mode), 0 when none.</param>
/// <param name="OffloadProgramId">IFLA_XDP_HW_PROG_ID (offloaded), 0 when none.</param>
internal readonly record struct XdpLinkState(byte Attached, uint ProgramId, uint DriverProgramId, uint GenericProgramId, uint OffloadProgramId)
{
    /// <summary>True when some XDP program is attached in any mode.</summary>
    public bool HasProgram => Attached != Netlink.XDP_ATTACHED_NONE;

    /// <summary>Every attached program id, whatever the mode.</summary>
    public uint[] ProgramIds
    {
        get
        {
            var ids = new System.Collections.Generic.List<uint>();
            foreach (uint id in new[] { ProgramId, DriverProgramId, GenericProgramId, OffloadProgramId })
            {
                if (id != 0 && !ids.Contains(id))
                    ids.Add(id);
            }
            return ids.ToArray();
        }
    }

    /// <summary>"native (driver)", "generic (skb)", "offloaded", "several modes" or "none".</summary>
    public string ModeName => Attached switch
    {
        Netlink.XDP_ATTACHED_DRV => "native (driver)",
        Netlink.XDP_ATTACHED_SKB => "generic (skb)",
        Netlink.XDP_ATTACHED_HW => "offloaded",
        Netlink.XDP_ATTACHED_MULTI => "several modes",
        _ => "none",
    };
}

/// <summary>
/// The little of rtnetlink (&lt;linux/netlink.h&gt;, &lt;linux/rtnetlink.h&gt;, &lt;linux/if_link.h&gt;) the AF_XDP
/// driver needs: read an interface's XDP state, and attach or detach an XDP program through IFLA_XDP on kernels
/// without bpf_link for XDP (before 5.9). Errors carry the kernel's extended-ack message when it gives one.
/// </summary>
internal static unsafe class Netlink
{
    // <linux/netlink.h>
    public const int NETLINK_ROUTE = 0;
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLMSG_ERROR = 0x2;
    public const ushort NLMSG_DONE = 0x3;
    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = unchecked((ushort)~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));
    public const int SOL_NETLINK = 270;
    public const int NETLINK_EXT_ACK = 11;
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;
    public const ushort NLMSGERR_ATTR_MSG = 1;

    // <linux/rtnetlink.h>
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_SETLINK = 19;

    // <linux/if_link.h>
    public const ushort IFLA_XDP = 43;
    public const ushort IFLA_XDP_FD = 1;
    public const ushort IFLA_XDP_ATTACHED = 2;
    public const ushort IFLA_XDP_FLAGS = 3;
    public const ushort IFLA_XDP_PROG_ID = 4;
    public const ushort IFLA_XDP_DRV_PROG_ID = 5;
    public const ushort IFLA_XDP_SKB_PROG_ID = 6;
    public const ushort IFLA_XDP_HW_PROG_ID = 7;
    public const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
    public const uint XDP_FLAGS_SKB_MODE = 1 << 1;
    public const uint XDP_FLAGS_DRV_MODE = 1 << 2;
    public const uint XDP_FLAGS_HW_MODE = 1 << 3;
    public const uint XDP_FLAGS_REPLACE = 1 << 4;
    public const byte XDP_ATTACHED_NONE = 0;
    public const byte XDP_ATTACHED_DRV = 1;
    public const byte XDP_ATTACHED_SKB = 2;
    public const byte XDP_ATTACHED_HW = 3;
    public const byte XDP_ATTACHED_MULTI = 4;

    private const int NlMsgHdrSize = 16;
    private const int IfInfoMsgSize = 16;
    private const int NlAttrSize = 4;

    /// <summary>struct sockaddr_nl, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct sockaddr_nl
    {
        public ushort nl_family;
        public ushort nl_pad;
        public uint nl_pid;
        public uint nl_groups;
    }

    /// <summary>The XDP state of interface <paramref name="ifindex"/> (RTM_GETLINK).</summary>
    /// <exception cref="PacketPlaneException">The kernel refused the request (interface gone).</exception>
    public static XdpLinkState QueryXdp(int ifindex)
    {
        Span<byte> request = stackalloc byte[NlMsgHdrSize + IfInfoMsgSize];
        request.Clear();
        int len = WriteHeader(request, RTM_GETLINK, NLM_F_REQUEST, ifindex);
        byte[] reply = Exchange(request[..len], "read the XDP state of interface " + ifindex);
        return ParseXdpState(reply);
    }

    /// <summary>
    /// Attaches <paramref name="programFd"/> to <paramref name="ifindex"/> with IFLA_XDP (or detaches with -1).
    /// With <see cref="XDP_FLAGS_UPDATE_IF_NOEXIST"/> an interface that already carries a program answers EBUSY.
    /// </summary>
    /// <returns>0, or the errno the kernel answered, with its extended-ack text in <paramref name="message"/>.</returns>
    public static int SetXdp(int ifindex, int programFd, uint flags, out string message)
    {
        Span<byte> request = stackalloc byte[NlMsgHdrSize + IfInfoMsgSize + 3 * NlAttrSize + 8];
        request.Clear();
        int len = WriteHeader(request, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
        int nest = len;
        len += NlAttrSize;
        len = WriteAttribute(request, len, IFLA_XDP_FD, (uint)programFd);
        len = WriteAttribute(request, len, IFLA_XDP_FLAGS, flags);
        BinaryPrimitives.WriteUInt16LittleEndian(request[nest..], (ushort)(len - nest));
        BinaryPrimitives.WriteUInt16LittleEndian(request[(nest + 2)..], (ushort)(IFLA_XDP | NLA_F_NESTED));
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)len);
        return TryExchangeAck(request[..len], out message);
    }

    private static int WriteHeader(Span<byte> buffer, ushort type, ushort flags, int ifindex)
    {
        // struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; } then struct ifinfomsg
        // { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }.
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, NlMsgHdrSize + IfInfoMsgSize);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[(NlMsgHdrSize + 4)..], ifindex);
        return NlMsgHdrSize + IfInfoMsgSize;
    }

    private static int WriteAttribute(Span<byte> buffer, int at, ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[at..], NlAttrSize + 4);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[(at + 2)..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[(at + 4)..], value);
        return at + NlAttrSize + 4;
    }

    /// <summary>Sends one request and returns the first reply message; throws on NLMSG_ERROR.</summary>
    private static byte[] Exchange(ReadOnlySpan<byte> request, string what)
    {
        int fd = Open();
        try
        {
            Send(fd, request, what);
            byte[] reply = Receive(fd, what);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(4));
            if (type == NLMSG_ERROR)
            {
                int errno = -BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(NlMsgHdrSize));
                throw new PacketPlaneException($"rtnetlink: could not {what}: {Libc.Describe(errno)}{Suffix(ExtAckMessage(reply))}");
            }
            return reply;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static int TryExchangeAck(ReadOnlySpan<byte> request, out string message)
    {
        int fd = Open();
        try
        {
            Send(fd, request, "set the XDP program");
            byte[] reply = Receive(fd, "set the XDP program");
            message = ExtAckMessage(reply);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(4));
            return type == NLMSG_ERROR ? -BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(NlMsgHdrSize)) : 0;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static int Open()
    {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
            throw new PacketPlaneException($"could not open an rtnetlink socket: {Libc.Describe(Libc.LastErrno)}");
        // Ask for the kernel's human-readable reason with errors (extended ack, Linux 4.12+); harmless if refused.
        int one = 1;
        Libc.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(int));
        return fd;
    }

    private static void Send(int fd, ReadOnlySpan<byte> request, string what)
    {
        sockaddr_nl kernel = default;
        kernel.nl_family = Libc.AF_NETLINK;
        fixed (byte* p = request)
        {
            if (Libc.sendto(fd, p, (nuint)request.Length, 0, &kernel, (uint)sizeof(sockaddr_nl)) < 0)
                throw new PacketPlaneException($"rtnetlink: could not {what}: sending failed: {Libc.Describe(Libc.LastErrno)}");
        }
    }

    private static byte[] Receive(int fd, string what)
    {
        var buffer = new byte[32768];
        fixed (byte* p = buffer)
        {
            nint n = Libc.recvfrom(fd, p, (nuint)buffer.Length, 0, null, null);
            if (n < NlMsgHdrSize)
                throw new PacketPlaneException($"rtnetlink: could not {what}: no reply ({Libc.Describe(Libc.LastErrno)})");
            uint msgLen = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            return buffer.AsSpan(0, (int)Math.Min(msgLen, (uint)n)).ToArray();
        }
    }

    /// <summary>Reads the IFLA_XDP nest out of an RTM_NEWLINK message.</summary>
    internal static XdpLinkState ParseXdpState(ReadOnlySpan<byte> message)
    {
        int at = NlMsgHdrSize + IfInfoMsgSize;
        int end = Math.Min(message.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(message));
        foreach ((ushort type, int start, int length) in Attributes(message, at, end))
        {
            if (type == IFLA_XDP)
                return ParseXdpNest(message.Slice(start, length));
        }
        return default;
    }

    private static XdpLinkState ParseXdpNest(ReadOnlySpan<byte> nest)
    {
        byte attached = 0;
        uint prog = 0, drv = 0, skb = 0, hw = 0;
        foreach ((ushort type, int start, int length) in Attributes(nest, 0, nest.Length))
        {
            ReadOnlySpan<byte> v = nest.Slice(start, length);
            switch (type)
            {
                case IFLA_XDP_ATTACHED when v.Length >= 1: attached = v[0]; break;
                case IFLA_XDP_PROG_ID when v.Length >= 4: prog = BinaryPrimitives.ReadUInt32LittleEndian(v); break;
                case IFLA_XDP_DRV_PROG_ID when v.Length >= 4: drv = BinaryPrimitives.ReadUInt32LittleEndian(v); break;
                case IFLA_XDP_SKB_PROG_ID when v.Length >= 4: skb = BinaryPrimitives.ReadUInt32LittleEndian(v); break;
                case IFLA_XDP_HW_PROG_ID when v.Length >= 4: hw = BinaryPrimitives.ReadUInt32LittleEndian(v); break;
            }
        }
        return new XdpLinkState(attached, prog, drv, skb, hw);
    }

    /// <summary>Walks netlink attributes (struct nlattr { u16 len; u16 type; } + payload, 4-byte aligned).</summary>
    private static System.Collections.Generic.List<(ushort Type, int Start, int Length)> Attributes(ReadOnlySpan<byte> buffer, int at, int end)
    {
        var list = new System.Collections.Generic.List<(ushort, int, int)>();
        while (at + NlAttrSize <= end)
        {
            ushort len = BinaryPrimitives.ReadUInt16LittleEndian(buffer[at..]);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(buffer[(at + 2)..]) & NLA_TYPE_MASK);
            if (len < NlAttrSize || at + len > end)
                break;
            list.Add((type, at + NlAttrSize, len - NlAttrSize));
            at += (len + 3) & ~3;
        }
        return list;
    }

    /// <summary>The NLMSGERR_ATTR_MSG text of an NLMSG_ERROR reply, or "".</summary>
    private static string ExtAckMessage(ReadOnlySpan<byte> reply)
    {
        if (reply.Length < NlMsgHdrSize + 4 + NlMsgHdrSize || BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]) != NLMSG_ERROR)
            return "";
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(reply[6..]);
        if ((flags & NLM_F_ACK_TLVS) == 0)
            return "";
        // struct nlmsgerr { int error; struct nlmsghdr msg; } then the request's payload unless NLM_F_CAPPED.
        int at = NlMsgHdrSize + 4;
        uint echoedLen = BinaryPrimitives.ReadUInt32LittleEndian(reply[at..]);
        at += (flags & NLM_F_CAPPED) != 0 ? NlMsgHdrSize : (int)((echoedLen + 3) & ~3u);
        foreach ((ushort type, int start, int length) in Attributes(reply, at, reply.Length))
        {
            if (type == NLMSGERR_ATTR_MSG)
                return Encoding.UTF8.GetString(reply.Slice(start, length)).TrimEnd('\0');
        }
        return "";
    }

    private static string Suffix(string message) => message.Length == 0 ? "" : $" (kernel: {message})";
}
