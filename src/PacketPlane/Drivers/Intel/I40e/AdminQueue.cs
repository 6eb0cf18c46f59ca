using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Bus.Pci;
using PacketPlane.Drivers.Intel.Common;
using PacketPlane.Ethdev;
using PacketPlane.Internal;

namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// An admin queue descriptor (32 bytes): flags, opcode, data length, return value, two cookie words, and 16 bytes
/// of command parameters whose last 8 hold the buffer address for indirect commands (i40e_adminq_cmd.h).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct AqDescriptor
{
    [FieldOffset(0)] public ushort Flags;
    [FieldOffset(2)] public ushort Opcode;
    [FieldOffset(4)] public ushort DataLen;
    [FieldOffset(6)] public ushort RetVal;
    [FieldOffset(8)] public uint CookieHigh;
    [FieldOffset(12)] public uint CookieLow;
    [FieldOffset(16)] public ulong Params0; // parameter bytes 0-7
    [FieldOffset(24)] public uint AddrHigh; // parameter bytes 8-11 (or param2 of direct commands)
    [FieldOffset(28)] public uint AddrLow;  // parameter bytes 12-15

    public const ushort FLAG_DD = 0x0001;
    public const ushort FLAG_CMP = 0x0002;
    public const ushort FLAG_ERR = 0x0004;
    public const ushort FLAG_LB = 0x0200;   // buffer larger than 512 bytes
    public const ushort FLAG_RD = 0x0400;   // the buffer carries data to the firmware
    public const ushort FLAG_BUF = 0x1000;  // an indirect command: a buffer is attached
    public const ushort FLAG_SI = 0x2000;   // do not interrupt on completion
}

/// <summary>
/// The X710's admin queue: a send ring (ATQ) of commands the firmware completes in place and a receive ring (ARQ)
/// of events the firmware posts (link changes). Every configuration step after the PF reset goes through it.
/// Commands run one at a time, synchronously: the tail is bumped and the head polled until it catches up
/// (DPDK i40e_asq_send_command).
/// </summary>
internal sealed unsafe class AdminQueue : IDisposable
{
    public const int Entries = 32;         // I40E_AQ_LEN in DPDK
    public const int BufferSize = 4096;    // I40E_AQ_BUF_SZ
    private const int LargeBuffer = 512;   // I40E_AQ_LARGE_BUF: bigger buffers need the LB flag
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Mmio _regs;
    private readonly ILogger _log;
    private readonly string _device;
    private readonly DmaMemory _atq;
    private readonly DmaMemory _arq;
    private readonly DmaMemory _sendBuffer;
    private readonly DmaMemory _receiveBuffers;
    private int _atqNext;
    private int _arqNext;
    private bool _enabled;

    public AdminQueue(IPciFunction pci, Mmio regs, ILogger log, int numaNode)
    {
        _regs = regs;
        _log = log;
        _device = pci.Address.ToString();
        _atq = DmaMemory.Allocate(pci, $"{_device}_atq", Entries * 32, numaNode, 0);
        _arq = DmaMemory.Allocate(pci, $"{_device}_arq", Entries * 32, numaNode, 0);
        _sendBuffer = DmaMemory.Allocate(pci, $"{_device}_atq_buf", BufferSize, numaNode, 0);
        _receiveBuffers = DmaMemory.Allocate(pci, $"{_device}_arq_buf", Entries * BufferSize, numaNode, 0);
    }

    private AqDescriptor* Atq => (AqDescriptor*)_atq.Pointer;

    private AqDescriptor* Arq => (AqDescriptor*)_arq.Pointer;

    /// <summary>Programs both rings and enables them; the receive ring starts with every buffer posted.</summary>
    public void Enable()
    {
        // Send queue: empty (head = tail = 0), then base, then length with the enable bit.
        _regs.Write32(I40eRegs.PF_ATQH, 0);
        _regs.Write32(I40eRegs.PF_ATQT, 0);
        _regs.Write32(I40eRegs.PF_ATQBAL, (uint)_atq.Iova);
        _regs.Write32(I40eRegs.PF_ATQBAH, (uint)(_atq.Iova >> 32));
        _regs.Write32(I40eRegs.PF_ATQLEN, Entries | I40eRegs.PF_AQLEN_ENABLE);
        // Read back the base: a queue that did not take its registers would swallow every command (DPDK checks the same).
        uint bal = _regs.Read32(I40eRegs.PF_ATQBAL);
        if (bal != (uint)_atq.Iova)
            throw new EthDevException($"{_device}: the admin send queue did not take its base address (PF_ATQBAL reads 0x{bal:x8}, wrote 0x{(uint)_atq.Iova:x8})");
        // Receive queue: every descriptor owns a buffer; the tail hands all but one to the firmware.
        for (int i = 0; i < Entries; i++)
            PostReceiveBuffer(i);
        _regs.Write32(I40eRegs.PF_ARQH, 0);
        _regs.Write32(I40eRegs.PF_ARQT, 0);
        _regs.Write32(I40eRegs.PF_ARQBAL, (uint)_arq.Iova);
        _regs.Write32(I40eRegs.PF_ARQBAH, (uint)(_arq.Iova >> 32));
        _regs.Write32(I40eRegs.PF_ARQLEN, Entries | I40eRegs.PF_AQLEN_ENABLE);
        _regs.Write32(I40eRegs.PF_ARQT, Entries - 1);
        _atqNext = 0;
        _arqNext = 0;
        _enabled = true;
    }

    private void PostReceiveBuffer(int i)
    {
        AqDescriptor* d = Arq + i;
        *d = default;
        d->Flags = AqDescriptor.FLAG_BUF | AqDescriptor.FLAG_LB;
        d->DataLen = BufferSize;
        ulong iova = _receiveBuffers.Iova + (ulong)(i * BufferSize);
        d->AddrHigh = (uint)(iova >> 32);
        d->AddrLow = (uint)iova;
    }

    /// <summary>
    /// Runs one command. <paramref name="buffer"/> (indirect commands) is copied to the firmware when
    /// <paramref name="toFirmware"/>, and the firmware's response is copied back into it. Returns the completed
    /// descriptor; throws for a timeout or an error return unless the return code is in <paramref name="accepted"/>.
    /// </summary>
    public AqDescriptor Send(AqDescriptor command, Span<byte> buffer, bool toFirmware, string what, params AqError[] accepted)
    {
        if (!_enabled)
            throw new EthDevException($"{_device}: admin queue used while disabled ({what})");
        AqDescriptor* d = Atq + _atqNext;
        command.Flags |= AqDescriptor.FLAG_SI;
        command.RetVal = 0;
        if (buffer.Length > 0)
        {
            if (buffer.Length > BufferSize)
                throw new ArgumentOutOfRangeException(nameof(buffer), $"admin queue buffers are at most {BufferSize} bytes");
            command.Flags |= AqDescriptor.FLAG_BUF;
            if (buffer.Length > LargeBuffer)
                command.Flags |= AqDescriptor.FLAG_LB;
            if (toFirmware)
            {
                command.Flags |= AqDescriptor.FLAG_RD;
                buffer.CopyTo(new Span<byte>(_sendBuffer.Pointer, buffer.Length));
            }
            command.DataLen = (ushort)buffer.Length;
            command.AddrHigh = (uint)(_sendBuffer.Iova >> 32);
            command.AddrLow = (uint)_sendBuffer.Iova;
        }
        *d = command;
        _atqNext = (_atqNext + 1) % Entries;
        // Release store in Write32: the descriptor and buffer are visible to the firmware before the tail moves.
        _regs.Write32(I40eRegs.PF_ATQT, (uint)_atqNext);
        WaitForHead(what);
        AqDescriptor done = *d;
        if ((done.Flags & AqDescriptor.FLAG_DD) == 0)
            throw new EthDevException($"{_device}: admin command {what} (0x{command.Opcode:x4}): the firmware moved the head without setting DD");
        var error = (AqError)done.RetVal;
        bool failed = (done.Flags & AqDescriptor.FLAG_ERR) != 0 || done.RetVal != 0;
        if (failed && Array.IndexOf(accepted, error) < 0)
            throw new EthDevException($"{_device}: the firmware refused admin command {what} (opcode 0x{command.Opcode:x4}) with {error} ({(int)error})");
        if (buffer.Length > 0 && !toFirmware)
            new Span<byte>(_sendBuffer.Pointer, Math.Min(buffer.Length, Math.Max((int)done.DataLen, 0))).CopyTo(buffer);
        return done;
    }

    private void WaitForHead(string what)
    {
        long start = Stopwatch.GetTimestamp();
        int spins = 0;
        while ((_regs.Read32(I40eRegs.PF_ATQH) & I40eRegs.PF_AQ_HEAD_MASK) != (uint)_atqNext)
        {
            if (Stopwatch.GetElapsedTime(start) > CommandTimeout)
            {
                uint len = _regs.Read32(I40eRegs.PF_ATQLEN);
                throw new EthDevException($"{_device}: admin command {what} timed out after {CommandTimeout.TotalMilliseconds} ms " +
                    $"(PF_ATQH did not reach {_atqNext}; PF_ATQLEN 0x{len:x8}{((len & I40eRegs.PF_AQLEN_ERROR_MASK) != 0 ? ", error bits set" : "")}). " +
                    "The firmware is not answering: check dmesg, and that the NVM/firmware is current (nvmupdate64e)");
            }
            if (++spins < 64)
                Thread.SpinWait(50);
            else
                Thread.Sleep(1);
        }
    }

    /// <summary>Takes every event the firmware posted on the receive queue and gives the buffers back.</summary>
    public void DrainEvents(Action<AqDescriptor, ReadOnlySpan<byte>> onEvent)
    {
        if (!_enabled)
            return;
        uint head = _regs.Read32(I40eRegs.PF_ARQH) & I40eRegs.PF_AQ_HEAD_MASK;
        while (_arqNext != head)
        {
            AqDescriptor e = Arq[_arqNext];
            var data = new ReadOnlySpan<byte>(_receiveBuffers.Pointer + _arqNext * BufferSize, Math.Min((int)e.DataLen, BufferSize));
            onEvent(e, data);
            PostReceiveBuffer(_arqNext);
            _regs.Write32(I40eRegs.PF_ARQT, (uint)_arqNext);
            _arqNext = (_arqNext + 1) % Entries;
        }
    }

    /// <summary>Disables both rings (length 0) so the firmware stops using their memory.</summary>
    public void Disable()
    {
        if (!_enabled)
            return;
        _enabled = false;
        _regs.Write32(I40eRegs.PF_ATQLEN, 0);
        _regs.Write32(I40eRegs.PF_ARQLEN, 0);
        _regs.Flush(I40eRegs.GLGEN_STAT);
    }

    public void Dispose()
    {
        Disable();
        _atq.Dispose();
        _arq.Dispose();
        _sendBuffer.Dispose();
        _receiveBuffers.Dispose();
    }
}

/// <summary>Admin queue return codes (enum i40e_admin_queue_err).</summary>
internal enum AqError : ushort
{
    OK = 0, EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EAGAIN = 8, ENOMEM = 9,
    EACCES = 10, EFAULT = 11, EBUSY = 12, EEXIST = 13, EINVAL = 14, ENOTTY = 15, ENOSPC = 16, ENOSYS = 17,
    ERANGE = 18, EFLUSHED = 19, BAD_ADDR = 20, EMODE = 21, EFBIG = 22,
}
