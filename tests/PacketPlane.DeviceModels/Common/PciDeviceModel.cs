using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using PacketPlane.Bus.Pci;

namespace PacketPlane.DeviceModels.Common;

/// <summary>How a modelled register behaves when the driver writes or reads it.</summary>
public enum RegisterKind
{
    /// <summary>Read/write: reads return what was last written (bits in the read-only mask keep the device's value).</summary>
    ReadWrite,

    /// <summary>Read-only: a write is a datasheet violation.</summary>
    ReadOnly,

    /// <summary>A statistics counter that clears when read; writing it is a violation.</summary>
    ReadClear,
}

/// <summary>One register of a model: its offset, datasheet name, behaviour and current device value.</summary>
public sealed class ModelRegister
{
    internal ModelRegister(int offset, string name, uint reset, RegisterKind kind, uint readOnlyBits)
    {
        Offset = offset;
        Name = name;
        Reset = reset;
        Kind = kind;
        ReadOnlyBits = readOnlyBits;
        Value = reset;
        Seen = reset;
    }

    /// <summary>Byte offset in BAR0.</summary>
    public int Offset { get; }

    /// <summary>The datasheet's name, e.g. RXDCTL[3].</summary>
    public string Name { get; }

    /// <summary>Value after reset.</summary>
    public uint Reset { get; }

    /// <summary>Behaviour.</summary>
    public RegisterKind Kind { get; }

    /// <summary>Bits of a read/write register that software cannot change (they keep the device's value).</summary>
    public uint ReadOnlyBits { get; }

    /// <summary>What a read returns (unless <see cref="OnRead"/> computes it).</summary>
    public uint Value { get; set; }

    /// <summary>The last value the model saw in the BAR word (the driver's last posted write).</summary>
    internal uint Seen { get; set; }

    /// <summary>Called with the written value after <see cref="Value"/> was updated.</summary>
    public Action<uint>? OnWrite { get; set; }

    /// <summary>Computes the value of a read (side effects allowed: latching, clearing).</summary>
    public Func<uint>? OnRead { get; set; }
}

/// <summary>
/// The machinery every PCI device model shares. The model owns BAR0 as plain native memory and hands it to the
/// driver through <see cref="Function"/> (an <see cref="IEmulatedPciFunction"/>):
/// <list type="bullet">
/// <item>Writes are posted (PCIe): the driver stores into the BAR memory and the model notices the change. There is
/// no trap on plain memory, so a model thread polls the BAR words of the registers it implements (doorbells
/// included), and every register read first takes in all pending writes (a PCIe read cannot pass earlier writes).
/// Each register's word is compared with the value last seen; a device reset rewrites the words with their reset
/// values so the next write is seen even if it repeats an earlier one. Two writes to the same register between two
/// looks collapse into the last one, so a command register (an HMC segment write, a pre-queue-disable) is consumed and
/// its word cleared, and drivers read a register after such a write (a posting flush, as Intel's drivers do).</item>
/// <item>Reads are non-posted: they come to <see cref="ReadRegister"/>, so clear-on-read counters, self-clearing bits
/// and enable bits that latch behave as specified.</item>
/// <item>DMA goes straight to guest memory (IOVA = VA), checked against the regions the driver DMA-mapped (as an
/// IOMMU would) and against the bus-master bit.</item>
/// </list>
/// Anything the datasheet forbids that the model can see is recorded as a violation; tests fail on any
/// (<see cref="ThrowIfViolated"/>). A periodic scan of the whole BAR also catches writes to registers the model does
/// not implement (typos in a driver's offsets).
/// </summary>
public abstract class PciDeviceModel : IDisposable
{
    private readonly Dictionary<int, ModelRegister> _registers = new();
    private ModelRegister[] _registerList = [];
    private readonly List<string> _violations = new();
    private readonly List<(ulong Start, ulong End, string Name)> _dma = new();
    private readonly byte[] _config = new byte[256];
    private readonly byte[] _barSnapshot;
    private readonly byte[] _barScan;
    private readonly Thread _thread;
    private readonly ModelPciFunction _function;
    private volatile bool _stopping;
    private long _lastScan;

    /// <summary>Creates the model with a zeroed BAR0 of <paramref name="barSize"/> bytes.</summary>
    protected PciDeviceModel(string deviceName, PciAddress address, ushort vendor, ushort device, uint classCode, int barSize)
    {
        DeviceName = deviceName;
        Address = address;
        BarSize = barSize;
        Bar = Marshal.AllocHGlobal(barSize);
        Marshal.Copy(new byte[barSize], 0, Bar, barSize);
        _barSnapshot = new byte[barSize];
        _barScan = new byte[barSize];
        _config[0] = (byte)vendor;
        _config[1] = (byte)(vendor >> 8);
        _config[2] = (byte)device;
        _config[3] = (byte)(device >> 8);
        _config[9] = (byte)classCode;
        _config[10] = (byte)(classCode >> 8);
        _config[11] = (byte)(classCode >> 16);
        VendorId = vendor;
        DeviceId = device;
        _function = new ModelPciFunction(this);
        _thread = new Thread(PollLoop) { IsBackground = true, Name = $"{deviceName} model" };
    }

    /// <summary>"82599" or "X710", used in violation messages.</summary>
    public string DeviceName { get; }

    /// <summary>The modelled function's address.</summary>
    public PciAddress Address { get; }

    /// <summary>Vendor id.</summary>
    public ushort VendorId { get; }

    /// <summary>Device id.</summary>
    public ushort DeviceId { get; }

    /// <summary>What the driver gets: attach it with PciFunctions.Attach.</summary>
    public IEmulatedPciFunction Function => _function;

    /// <summary>BAR0: native memory the driver maps and writes.</summary>
    protected nint Bar { get; }

    /// <summary>BAR0 size.</summary>
    protected int BarSize { get; }

    /// <summary>Serialises the poll thread and register reads: model state is touched only under it.</summary>
    protected object Gate { get; } = new();

    /// <summary>True while the driver holds the function (between the first BAR mapping and its dispose).</summary>
    public bool DriverAttached { get; private set; }

    /// <summary>True once the driver disposed the function (the port closed).</summary>
    public bool DriverReleased { get; private set; }

    /// <summary>Bus-master enable (PCI command register bit 2): the device may DMA only while it is set.</summary>
    public bool BusMaster => (_config[4] & 0x4) != 0;

    /// <summary>Every violation seen so far, each naming the datasheet section.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_violations)
                return _violations.ToArray();
        }
    }

    /// <summary>Throws when any violation was recorded, listing them.</summary>
    public void ThrowIfViolated()
    {
        IReadOnlyList<string> v = Violations;
        if (v.Count > 0)
            throw new DatasheetViolationException(DeviceName, v);
    }

    /// <summary>Records a violation (the test fails on it).</summary>
    protected void Violation(string section, string message)
    {
        string text = $"[{DeviceName} datasheet {section}] {message}";
        lock (_violations)
        {
            if (_violations.Count < 100 && !_violations.Contains(text))
                _violations.Add(text);
        }
    }

    /// <summary>Starts the polling thread; call at the end of the derived constructor.</summary>
    protected void StartPolling() => _thread.Start();

    // ---- registers ----

    /// <summary>Declares a register.</summary>
    protected ModelRegister Define(int offset, string name, uint reset, RegisterKind kind = RegisterKind.ReadWrite, uint readOnlyBits = 0)
    {
        if ((offset & 3) != 0 || offset < 0 || offset + 4 > BarSize)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{name} at 0x{offset:x} is not a 32-bit register inside the BAR");
        var reg = new ModelRegister(offset, name, reset, kind, readOnlyBits);
        _registers.Add(offset, reg);
        _registerList = _registers.Values.OrderBy(r => r.Offset).ToArray();
        BarWrite(offset, reset);
        SnapshotWord(offset);
        return reg;
    }

    /// <summary>The register at <paramref name="offset"/>.</summary>
    protected ModelRegister Reg(int offset) => _registers[offset];

    /// <summary>Puts every register back to its reset value, in the model and in the BAR words.</summary>
    protected void ResetRegisters()
    {
        foreach (ModelRegister r in _registerList)
        {
            r.Value = r.Reset;
            r.Seen = r.Reset;
            BarWrite(r.Offset, r.Reset);
            SnapshotWord(r.Offset);
        }
    }

    /// <summary>
    /// The device itself updates a register whose BAR word the driver writes only while the device leaves it alone
    /// (a queue head, which software may set only while the queue is disabled). Keeping the word equal to the
    /// device's value means the driver's next write is seen even when it writes a value it wrote before.
    /// </summary>
    protected void DeviceUpdate(ModelRegister r, uint value)
    {
        r.Value = value;
        r.Seen = value;
        BarWrite(r.Offset, value);
        SnapshotWord(r.Offset);
    }

    /// <summary>Reads a BAR word as the driver left it.</summary>
    protected uint BarRead(int offset) => (uint)Marshal.ReadInt32(Bar, offset);

    private void BarWrite(int offset, uint value) => Marshal.WriteInt32(Bar, offset, (int)value);

    private void SnapshotWord(int offset)
    {
        uint v = BarRead(offset);
        _barSnapshot[offset] = (byte)v;
        _barSnapshot[offset + 1] = (byte)(v >> 8);
        _barSnapshot[offset + 2] = (byte)(v >> 16);
        _barSnapshot[offset + 3] = (byte)(v >> 24);
    }

    /// <summary>Takes in every write the driver posted since the last look. Call under <see cref="Gate"/>.</summary>
    protected void SyncWrites()
    {
        foreach (ModelRegister r in _registerList)
            SyncRegister(r);
    }

    /// <summary>
    /// Takes in a pending write of one register. A sync pass visits registers in address order, not in the order the
    /// driver wrote them; a handler whose register depends on others (a command taking its operands from data
    /// registers, an enable validating the ring registers) syncs those first, since the driver wrote them earlier.
    /// </summary>
    protected void SyncRegister(ModelRegister r)
    {
        {
            uint mem = BarRead(r.Offset);
            if (mem == r.Seen)
                return;
            r.Seen = mem;
            switch (r.Kind)
            {
                case RegisterKind.ReadOnly:
                case RegisterKind.ReadClear:
                    Violation(RegisterChapter, $"write of 0x{mem:x8} to read-only register {r.Name} (0x{r.Offset:x5})");
                    break;
                default:
                    r.Value = (mem & ~r.ReadOnlyBits) | (r.Value & r.ReadOnlyBits);
                    r.OnWrite?.Invoke(mem);
                    break;
            }
        }
    }

    /// <summary>Answers a register read (PCIe non-posted): earlier writes first, then the register's value.</summary>
    internal uint ReadRegister(int bar, long offset)
    {
        lock (Gate)
        {
            DriverAttached = true;
            if (bar != 0 || (offset & 3) != 0 || !_registers.TryGetValue((int)offset, out ModelRegister? r))
            {
                SyncWrites();
                Violation(RegisterChapter, $"read of BAR{bar} offset 0x{offset:x5}, a register the model does not implement (a wrong offset in the driver?)");
                return 0xFFFFFFFF;
            }
            SyncWrites();
            if (r.Kind == RegisterKind.ReadClear)
            {
                uint v = r.OnRead?.Invoke() ?? r.Value;
                r.Value = 0;
                return v;
            }
            return r.OnRead?.Invoke() ?? r.Value;
        }
    }

    /// <summary>Adds <paramref name="amount"/> to a clear-on-read counter, saturating as the hardware's do.</summary>
    protected static void Count(ModelRegister counter, ulong amount = 1)
    {
        ulong v = counter.Value + amount;
        counter.Value = v > uint.MaxValue ? uint.MaxValue : (uint)v;
    }

    // ---- the polling thread ----

    /// <summary>One round of device work (process doorbells, move frames). Called under <see cref="Gate"/>. Returns work done.</summary>
    protected abstract int Poll();

    private void PollLoop()
    {
        int idle = 0;
        while (!_stopping)
        {
            int work;
            lock (Gate)
            {
                SyncWrites();
                work = Poll();
                ScanForStrayWrites();
            }
            if (work > 0)
            {
                idle = 0;
                continue;
            }
            // Nothing to do: back off from spinning to yielding to sleeping, so an idle model costs nothing.
            idle++;
            if (idle < 50)
                Thread.SpinWait(20);
            else if (idle < 2000)
                Thread.Yield();
            else
                Thread.Sleep(1);
        }
    }

    private void ScanForStrayWrites()
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastScan, now).TotalMilliseconds < ScanIntervalMs)
            return;
        _lastScan = now;
        Marshal.Copy(Bar, _barScan, 0, BarSize);
        if (_barScan.AsSpan().SequenceEqual(_barSnapshot))
            return;
        for (int off = 0; off < BarSize; off += 4)
        {
            if (_barScan.AsSpan(off, 4).SequenceEqual(_barSnapshot.AsSpan(off, 4)))
                continue;
            if (!_registers.ContainsKey(off))
                Violation(RegisterChapter, $"write of 0x{BitConverter.ToUInt32(_barScan, off):x8} to BAR0 offset 0x{off:x5}, a register the model does not implement (a wrong offset in the driver?)");
        }
        _barScan.CopyTo(_barSnapshot, 0);
    }

    /// <summary>The datasheet chapter describing the registers, for violation messages.</summary>
    protected abstract string RegisterChapter { get; }

    /// <summary>How often the whole BAR is compared for writes to unimplemented offsets.</summary>
    protected virtual double ScanIntervalMs => 5;

    // ---- DMA (IOVA = VA) ----

    internal void MapDma(MemoryRegion region)
    {
        if (region.IovaMode != IovaMode.VirtualAddress)
            throw new NotSupportedException($"the {DeviceName} model does DMA at IOVA = VA; run the EAL with --iova-mode va");
        lock (Gate)
        {
            ulong start = region.Iova(region.BaseAddress);
            _dma.RemoveAll(d => d.Start == start);
            _dma.Add((start, start + (ulong)region.Length, region.Name));
        }
    }

    /// <summary>
    /// True when the device may touch [address, address + length): bus mastering on and the range inside memory
    /// the driver DMA-mapped (otherwise the IOMMU would fault). A violation is recorded when not.
    /// </summary>
    protected bool CheckDma(ulong address, int length, string what)
    {
        if (!BusMaster)
        {
            Violation("PCI 6.2.2", $"{what}: DMA to 0x{address:x} while bus mastering is disabled (EnableBusMaster was not called, or the device was released)");
            return false;
        }
        foreach ((ulong start, ulong end, string _) in _dma)
        {
            if (address >= start && address + (ulong)length <= end)
                return true;
        }
        Violation("IOMMU", $"{what}: DMA to 0x{address:x}+{length} outside every region the driver DMA-mapped (an IOMMU fault on real hardware)");
        return false;
    }

    /// <summary>Reads guest memory.</summary>
    protected static ulong Read64(ulong address) => (ulong)Marshal.ReadInt64((nint)address);

    /// <summary>Reads guest memory.</summary>
    protected static uint Read32(ulong address) => (uint)Marshal.ReadInt32((nint)address);

    /// <summary>Reads guest memory.</summary>
    protected static ushort Read16(ulong address) => (ushort)Marshal.ReadInt16((nint)address);

    /// <summary>Writes guest memory.</summary>
    protected static void Write64(ulong address, ulong value) => Marshal.WriteInt64((nint)address, (long)value);

    /// <summary>Writes guest memory.</summary>
    protected static void Write32(ulong address, uint value) => Marshal.WriteInt32((nint)address, (int)value);

    /// <summary>Copies guest memory into <paramref name="destination"/>.</summary>
    protected static void ReadBytes(ulong address, byte[] destination, int offset, int length) =>
        Marshal.Copy((nint)address, destination, offset, length);

    /// <summary>Copies <paramref name="source"/> into guest memory.</summary>
    protected static void WriteBytes(ulong address, byte[] source, int offset, int length) =>
        Marshal.Copy(source, offset, (nint)address, length);

    /// <summary>
    /// Orders the device's own memory writes: data and lower descriptor words become visible before the word that
    /// carries DD (the order the driver relies on when it reads DD first).
    /// </summary>
    protected static void WriteFence() => Interlocked.MemoryBarrier();

    // ---- the PCI function seen by the driver ----

    internal int ReadConfig(int offset, Span<byte> buffer)
    {
        int n = Math.Max(0, Math.Min(buffer.Length, _config.Length - offset));
        lock (Gate)
            _config.AsSpan(offset, n).CopyTo(buffer);
        return n;
    }

    internal void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        lock (Gate)
        {
            // Only the command register (0x04-0x05) is writable in the model.
            for (int i = 0; i < data.Length; i++)
            {
                int at = offset + i;
                if (at is 4 or 5)
                    _config[at] = data[i];
                else
                    Violation("PCI 6.2", $"write to configuration space offset 0x{at:x2}, which the model does not implement");
            }
        }
    }

    internal (nint, long) MapBar(int bar)
    {
        if (bar != 0)
            throw new PciException($"the {DeviceName} model implements BAR0 only; BAR{bar} was asked for");
        lock (Gate)
            DriverAttached = true;
        return (Bar, BarSize);
    }

    internal void EnableBusMaster()
    {
        lock (Gate)
            _config[4] |= 0x4;
    }

    internal void Released()
    {
        lock (Gate)
        {
            DriverReleased = true;
            OnReleased();
        }
    }

    /// <summary>The driver disposed the function: a device still moving data now is a driver bug (it must stop queues first).</summary>
    protected virtual void OnReleased()
    {
    }

    /// <summary>Stops the polling thread and frees the BAR.</summary>
    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join();
        Marshal.FreeHGlobal(Bar);
        GC.SuppressFinalize(this);
    }
}

/// <summary>A model saw the driver do something its datasheet forbids.</summary>
public sealed class DatasheetViolationException(string device, IReadOnlyList<string> violations)
    : Exception($"the {device} model saw {violations.Count} datasheet violation(s):\n  " + string.Join("\n  ", violations))
{
    /// <summary>The violations.</summary>
    public IReadOnlyList<string> Violations { get; } = violations;
}

/// <summary>The model's PCI function as the driver sees it.</summary>
internal sealed class ModelPciFunction(PciDeviceModel model) : IEmulatedPciFunction
{
    public PciAddress Address => model.Address;

    public ushort VendorId => model.VendorId;

    public ushort DeviceId => model.DeviceId;

    public int NumaNode => -1;

    public int ReadConfig(int offset, Span<byte> buffer) => model.ReadConfig(offset, buffer);

    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => model.WriteConfig(offset, data);

    public (nint Address, long Length) MapBar(int bar) => model.MapBar(bar);

    public void EnableBusMaster() => model.EnableBusMaster();

    public void MapDma(MemoryRegion region) => model.MapDma(region);

    public uint ReadBar32(int bar, long offset) => model.ReadRegister(bar, offset);

    public void Dispose() => model.Released();
}
