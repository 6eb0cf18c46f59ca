using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Tests.Drivers.Virtio.Pci;

/// <summary>
/// A modern virtio-net PCI function modelled from the virtio 1.2 specification (4.1 "Virtio Over PCI Bus", 5.1
/// "Network Device", 2.7/2.8 rings), implementing <see cref="IPciFunction"/> over memory it watches. The driver
/// programs it exactly as it would a real device; the model records every rule the driver breaks in
/// <see cref="Violations"/> (the tests assert none), and moves frames through the rings it was given.
/// </summary>
/// <remarks>
/// Plain memory cannot trap an access, so the model looks at its BAR whenever the driver reads configuration space
/// (the driver does so after every register write another access depends on) and whenever the test calls it. Each
/// look compares the common configuration with what the model saw last and applies the differences as writes.
/// Layout, like QEMU's: BAR 4, common config at 0x0, ISR at 0x1000, device config at 0x2000, notifications at
/// 0x3000 with notify_off_multiplier 4 and queue_notify_off = queue index.
/// </remarks>
internal sealed class VirtioNetPciModel : IPciFunction
{
    public const int Bar = 4;
    public const int BarSize = 0x4000;
    public const int CommonOffset = 0x0, IsrOffset = 0x1000, DeviceOffset = 0x2000, NotifyOffset = 0x3000;
    public const uint NotifyMultiplier = 4;

    // Feature bits and status bits, restated from the specification for the model (independent of the driver's).
    public const int F_MAC = 5, F_MRG_RXBUF = 15, F_STATUS = 16, F_CTRL_VQ = 17, F_MQ = 22, F_ANY_LAYOUT = 27,
        F_EVENT_IDX = 29, F_VERSION_1 = 32, F_RING_PACKED = 34, F_IN_ORDER = 35;
    public const byte S_ACKNOWLEDGE = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_FAILED = 0x80;

    private const uint Poison = 0xDEAD_BEEF;   // stored driver features until the driver writes its own
    private readonly byte[] _config = new byte[256];
    private readonly nint _bar;
    private readonly byte[] _shadow = new byte[56];
    private readonly Queue[] _queues;
    private readonly List<(nint Base, long Length)> _dma = new();
    private uint _driverFeatureLo = Poison, _driverFeatureHi = Poison;
    private byte _status;
    private int _selected;
    private bool _disposed;

    private sealed class Queue
    {
        public ushort Size;
        public ulong Desc, Driver, Device;
        public bool Enabled;
        public int Notifications;
        // device-side ring state
        public ushort LastAvail, LastUsed;
        public bool AvailWrap = true, UsedWrap = true;
    }

    public VirtioNetPciModel(ulong features, ushort queueMax = 256, int numQueues = 3)
    {
        DeviceFeatures = features;
        QueueMax = queueMax;
        _queues = new Queue[numQueues];
        for (int i = 0; i < numQueues; i++)
            _queues[i] = new Queue();
        _bar = Marshal.AllocHGlobal(BarSize);
        for (int i = 0; i < BarSize; i += 8)
            Marshal.WriteInt64(_bar, i, 0);
        BuildConfigSpace();
        Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        WriteDeviceConfig();
        ResetDevice();
    }

    public ulong DeviceFeatures { get; }
    public ushort QueueMax { get; }
    public byte[] Mac { get; }
    public bool LinkUp { get; private set; } = true;

    /// <summary>Changes the link bit of the device configuration's status field.</summary>
    public void SetLink(bool up)
    {
        LinkUp = up;
        WriteDeviceConfig();
    }

    /// <summary>When set, the device clears FEATURES_OK whatever the driver accepted (4.1.4.3.2: a device may refuse).</summary>
    public bool RefuseFeatures { get; set; }

    /// <summary>Rules of the specification the driver broke, in order.</summary>
    public List<string> Violations { get; } = new();

    public bool BusMaster { get; private set; }
    public byte Status => _status;
    public ulong AcceptedFeatures => _driverFeatureLo | ((ulong)_driverFeatureHi << 32);
    public int Notifications(int queue) => _queues[queue].Notifications;
    public bool Packed => (AcceptedFeatures & (1UL << F_RING_PACKED)) != 0;
    public bool Merged => (AcceptedFeatures & (1UL << F_MRG_RXBUF)) != 0;

    // ---- IPciFunction ----

    public PciAddress Address { get; } = new(0, 0x42, 0, 0);
    public ushort VendorId => 0x1af4;
    public ushort DeviceId => 0x1041;
    public int NumaNode => -1;

    public int ReadConfig(int offset, Span<byte> buffer)
    {
        Observe();
        int n = Math.Min(buffer.Length, _config.Length - offset);
        _config.AsSpan(offset, n).CopyTo(buffer);
        return n;
    }

    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        Observe();
        data.CopyTo(_config.AsSpan(offset));
    }

    public (nint Address, long Length) MapBar(int bar)
    {
        if (bar != Bar)
            throw new InvalidOperationException($"the model has no BAR {bar}; its structures are in BAR {Bar}");
        return (_bar, BarSize);
    }

    public void EnableBusMaster() => BusMaster = true;

    public void MapDma(MemoryRegion region) => _dma.Add((region.BaseAddress, region.Length));

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Marshal.FreeHGlobal(_bar);
    }

    // ---- configuration space: header and the four vendor capabilities (4.1.4) ----

    private void BuildConfigSpace()
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(0), 0x1af4);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(2), 0x1041);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(6), 0x10);   // status: capability list
        _config[0x34] = 0x40;
        Capability(0x40, 0x54, 1, CommonOffset, 0x38, 16);
        Capability(0x54, 0x64, 3, IsrOffset, 4, 16);
        Capability(0x64, 0x74, 4, DeviceOffset, 0x20, 16);
        Capability(0x74, 0x00, 2, NotifyOffset, 0x1000, 20);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(0x74 + 16), NotifyMultiplier);
    }

    private void Capability(int at, int next, byte type, int offset, int length, byte len)
    {
        _config[at] = 0x09;        // PCI_CAP_ID_VNDR
        _config[at + 1] = (byte)next;
        _config[at + 2] = len;
        _config[at + 3] = type;
        _config[at + 4] = Bar;
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(at + 8), (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(at + 12), (uint)length);
    }

    private void WriteDeviceConfig()
    {
        for (int i = 0; i < 6; i++)
            Marshal.WriteByte(_bar, DeviceOffset + i, Mac[i]);
        Marshal.WriteInt16(_bar, DeviceOffset + 6, (short)(LinkUp ? 1 : 0));   // VIRTIO_NET_S_LINK_UP
        Marshal.WriteInt16(_bar, DeviceOffset + 8, 1);                         // max_virtqueue_pairs
    }

    // ---- the common configuration, observed ----

    private byte ReadB(int off) => Marshal.ReadByte(_bar, CommonOffset + off);
    private ushort Read16(int off) => (ushort)Marshal.ReadInt16(_bar, CommonOffset + off);
    private uint Read32(int off) => (uint)Marshal.ReadInt32(_bar, CommonOffset + off);
    private void WriteB(int off, byte v) { Marshal.WriteByte(_bar, CommonOffset + off, v); _shadow[off] = v; }
    private void Write16(int off, ushort v) { Marshal.WriteInt16(_bar, CommonOffset + off, (short)v); BinaryPrimitives.WriteUInt16LittleEndian(_shadow.AsSpan(off), v); }
    private void Write32(int off, uint v) { Marshal.WriteInt32(_bar, CommonOffset + off, (int)v); BinaryPrimitives.WriteUInt32LittleEndian(_shadow.AsSpan(off), v); }

    private bool Changed(int off, int size, out uint value)
    {
        value = size switch { 1 => ReadB(off), 2 => Read16(off), _ => Read32(off) };
        uint old = size switch
        {
            1 => _shadow[off],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(_shadow.AsSpan(off)),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(_shadow.AsSpan(off)),
        };
        return value != old;
    }

    /// <summary>Applies whatever the driver wrote since the last look.</summary>
    public void Observe()
    {
        if (_disposed)
            return;
        ObserveNotifications();
        bool selectChanged = Changed(22, 2, out _) || Changed(0, 4, out _) || Changed(8, 4, out _);
        bool windowChanged = false;
        for (int off = 24; off < 56; off += 2)
            windowChanged |= Changed(off, 2, out _);
        windowChanged |= Changed(4, 4, out _) || Changed(12, 4, out _);
        if (selectChanged && windowChanged)
            Violations.Add("a select register and the register window it selects changed without a configuration read between them; the writes cannot be ordered");
        ObserveReadOnly();
        ObserveFeatureWindows();
        ObserveQueueWindow();
        ObserveStatus();
    }

    private void ObserveReadOnly()
    {
        if (Changed(18, 2, out _))
            Violations.Add("the driver wrote num_queues, which is read-only");
        if (Changed(21, 1, out _))
            Violations.Add("the driver wrote config_generation, which is read-only");
        if (Changed(30, 2, out _))
            Violations.Add("the driver wrote queue_notify_off, which is read-only");
        if (Changed(4, 4, out _))
            Violations.Add("the driver wrote device_feature, which is read-only");
        Write16(18, (ushort)_queues.Length);
        WriteB(21, 0);
    }

    private void ObserveFeatureWindows()
    {
        if (Changed(0, 4, out uint dsel))
            Write32(0, dsel);
        Write32(4, dsel switch { 0 => (uint)DeviceFeatures, 1 => (uint)(DeviceFeatures >> 32), _ => 0 });
        if (Changed(8, 4, out uint gsel))
        {
            Write32(8, gsel);
            Write32(12, gsel == 0 ? _driverFeatureLo : gsel == 1 ? _driverFeatureHi : 0);
        }
        if (Changed(12, 4, out uint gf))
        {
            if ((_status & S_FEATURES_OK) != 0)
                Violations.Add("the driver changed driver_feature after FEATURES_OK");
            if (Read32(8) == 0)
                _driverFeatureLo = gf;
            else if (Read32(8) == 1)
                _driverFeatureHi = gf;
            Write32(12, gf);
        }
    }

    private void ObserveQueueWindow()
    {
        if (Changed(22, 2, out uint sel))
        {
            Write16(22, (ushort)sel);
            _selected = (int)sel;
            LoadWindow();
            return;
        }
        if (_selected >= _queues.Length)
        {
            for (int off = 24; off < 56; off += 2)
            {
                if (Changed(off, 2, out _))
                    Violations.Add($"the driver wrote queue registers of queue {_selected}, which does not exist");
            }
            LoadWindow();
            return;
        }
        Queue q = _queues[_selected];
        if (Changed(24, 2, out uint size))
        {
            if (q.Enabled)
                Violations.Add($"queue {_selected}: queue_size written after the queue was enabled");
            if (size == 0 || size > QueueMax || (!Packed && (size & (size - 1)) != 0))
                Violations.Add($"queue {_selected}: queue_size {size} is not a valid size (power of two up to {QueueMax})");
            q.Size = (ushort)size;
            Write16(24, (ushort)size);
        }
        if (Changed(26, 2, out uint msix))
            Write16(26, (ushort)msix);
        q.Desc = Address64(q.Desc, 32, "queue_desc", q);
        q.Driver = Address64(q.Driver, 40, "queue_driver", q);
        q.Device = Address64(q.Device, 48, "queue_device", q);
        if (Changed(28, 2, out uint enable))
        {
            if (enable != 1)
                Violations.Add($"queue {_selected}: the driver wrote {enable} to queue_enable; only 1 may be written");
            else
                EnableQueue(q);
            Write16(28, (ushort)enable);
        }
    }

    private ulong Address64(ulong current, int offLo, string name, Queue q)
    {
        bool lo = Changed(offLo, 4, out uint vlo), hi = Changed(offLo + 4, 4, out uint vhi);
        if (!lo && !hi)
            return current;
        if (q.Enabled)
            Violations.Add($"queue {_selected}: {name} written after the queue was enabled");
        Write32(offLo, vlo);
        Write32(offLo + 4, vhi);
        return vlo | ((ulong)vhi << 32);
    }

    private void EnableQueue(Queue q)
    {
        if ((_status & S_FEATURES_OK) == 0)
            Violations.Add($"queue {_selected} enabled before FEATURES_OK (3.1.1: queues are set up after feature negotiation)");
        if ((_status & S_DRIVER_OK) != 0)
            Violations.Add($"queue {_selected} enabled after DRIVER_OK");
        if (q.Desc == 0 || q.Driver == 0 || q.Device == 0)
            Violations.Add($"queue {_selected} enabled before its addresses were written (desc 0x{q.Desc:x}, driver 0x{q.Driver:x}, device 0x{q.Device:x})");
        if (q.Size == 0)
            q.Size = QueueMax;
        long ringBytes = 16L * q.Size;
        if (!InDma(q.Desc, ringBytes) || !InDma(q.Driver, 4) || !InDma(q.Device, 4))
            Violations.Add($"queue {_selected}: ring memory is not mapped for DMA (MapDma was not called for its region)");
        q.Enabled = true;
        q.LastAvail = q.LastUsed = 0;
        q.AvailWrap = q.UsedWrap = true;
    }

    private void LoadWindow()
    {
        if (_selected >= _queues.Length)
        {
            for (int off = 24; off < 56; off += 2)
                Write16(off, 0);     // queue_size 0: not available
            return;
        }
        Queue q = _queues[_selected];
        Write16(24, q.Size != 0 ? q.Size : QueueMax);
        Write16(26, 0xffff);
        Write16(28, (ushort)(q.Enabled ? 1 : 0));
        Write16(30, (ushort)_selected);    // queue_notify_off
        Write32(32, (uint)q.Desc);
        Write32(36, (uint)(q.Desc >> 32));
        Write32(40, (uint)q.Driver);
        Write32(44, (uint)(q.Driver >> 32));
        Write32(48, (uint)q.Device);
        Write32(52, (uint)(q.Device >> 32));
    }

    private void ObserveStatus()
    {
        if (!Changed(20, 1, out uint v))
            return;
        byte s = (byte)v;
        if (s == 0)
        {
            ResetDevice();
            return;
        }
        if ((s & _status) != _status && (s & S_FAILED) == 0)
            Violations.Add($"device_status went from 0x{_status:x} to 0x{s:x}: the driver cleared bits without a reset");
        byte added = (byte)(s & ~_status);
        if ((added & S_DRIVER) != 0 && (s & S_ACKNOWLEDGE) == 0)
            Violations.Add("DRIVER set before ACKNOWLEDGE");
        if ((added & S_FEATURES_OK) != 0)
        {
            if ((s & S_DRIVER) == 0)
                Violations.Add("FEATURES_OK set before DRIVER");
            if (!FeaturesAcceptable())
                s = (byte)(s & ~S_FEATURES_OK);          // the device refuses: FEATURES_OK does not stick
        }
        if ((added & S_DRIVER_OK) != 0)
        {
            if ((s & S_FEATURES_OK) == 0)
                Violations.Add("DRIVER_OK set before FEATURES_OK");
            if (!BusMaster)
                Violations.Add("DRIVER_OK set without bus mastering enabled: the device could not reach the rings");
        }
        _status = s;
        WriteB(20, s);
    }

    private bool FeaturesAcceptable()
    {
        if (RefuseFeatures)
            return false;
        ulong accepted = AcceptedFeatures;
        if ((accepted & ~DeviceFeatures) != 0)
        {
            Violations.Add($"FEATURES_OK with features the device did not offer (0x{accepted & ~DeviceFeatures:x}), or driver_feature never written");
            return false;
        }
        if ((accepted & (1UL << F_VERSION_1)) == 0)
        {
            Violations.Add("a modern device requires VERSION_1 to be accepted");
            return false;
        }
        return true;
    }

    private void ResetDevice()
    {
        _status = 0;
        _driverFeatureLo = _driverFeatureHi = Poison;
        foreach (Queue q in _queues)
        {
            q.Size = 0;
            q.Desc = q.Driver = q.Device = 0;
            q.Enabled = false;
        }
        for (int i = 0; i < 56; i++)
            WriteB(i, 0);
        for (int q = 0; q < _queues.Length; q++)
            Marshal.WriteInt16(_bar, NotifyOffset + q * (int)NotifyMultiplier, unchecked((short)0xffff));
        _selected = 0;
        LoadWindow();
        Write32(4, (uint)DeviceFeatures);
        Write16(18, (ushort)_queues.Length);
    }

    private void ObserveNotifications()
    {
        for (int q = 0; q < _queues.Length; q++)
        {
            int at = NotifyOffset + q * (int)NotifyMultiplier;
            ushort v = (ushort)Marshal.ReadInt16(_bar, at);
            if (v == 0xffff)
                continue;
            if (v != q)
                Violations.Add($"queue {q}'s notify address was written with {v}; it must carry the queue index");
            if ((_status & S_DRIVER_OK) == 0)
                Violations.Add($"queue {q} notified before DRIVER_OK (3.1.1)");
            _queues[q].Notifications++;
            Marshal.WriteInt16(_bar, at, unchecked((short)0xffff));
        }
    }

    private bool InDma(ulong address, long length)
    {
        foreach ((nint b, long len) in _dma)
        {
            if (address >= (ulong)b && address + (ulong)length <= (ulong)b + (ulong)len)
                return true;
        }
        return false;
    }

    // ---- the data path: the device's side of the rings (2.7 split, 2.8 packed) ----

    private const ushort DescNext = 1, DescWrite = 2;
    private const ushort PackedAvail = 1 << 7, PackedUsed = 1 << 15;

    /// <summary>Takes every frame the driver queued on transmit queue 1, strips the 12-byte header, marks the buffers used.</summary>
    public List<byte[]> CollectTransmitted()
    {
        Observe();
        var frames = new List<byte[]>();
        Queue q = _queues[1];
        if (!q.Enabled || (_status & S_DRIVER_OK) == 0)
            return frames;
        while (NextAvailable(q, out ushort id, out List<(ulong Addr, uint Len, ushort Flags)> chain))
        {
            var bytes = new List<byte>();
            foreach ((ulong addr, uint len, ushort flags) in chain)
            {
                if ((flags & DescWrite) != 0)
                    Violations.Add("transmit descriptor marked device-writable");
                bytes.AddRange(ReadGuest(addr, len));
            }
            if (bytes.Count < 12)
                Violations.Add($"transmit buffer of {bytes.Count} bytes cannot hold the 12-byte virtio-net header");
            else
            {
                if (bytes.GetRange(0, 10).Exists(b => b != 0))
                    Violations.Add("transmit header requests offloads that were not negotiated");
                frames.Add(bytes.GetRange(12, bytes.Count - 12).ToArray());
            }
            MarkUsed(q, id, 0, chain.Count);
        }
        return frames;
    }

    /// <summary>Writes <paramref name="frame"/> into the driver's next receive buffer(s) on queue 0; false when none is posted.</summary>
    public bool Deliver(ReadOnlySpan<byte> frame)
    {
        Observe();
        Queue q = _queues[0];
        if (!q.Enabled || (_status & S_DRIVER_OK) == 0)
            return false;
        if (!NextAvailable(q, out ushort id, out List<(ulong Addr, uint Len, ushort Flags)> chain))
            return false;
        var data = new byte[12 + frame.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(10), 1);   // num_buffers
        frame.CopyTo(data.AsSpan(12));
        int written = 0;
        foreach ((ulong addr, uint len, ushort flags) in chain)
        {
            if ((flags & DescWrite) == 0)
                Violations.Add("receive descriptor not marked device-writable");
            int n = Math.Min((int)len, data.Length - written);
            WriteGuest(addr, data.AsSpan(written, n));
            written += n;
        }
        if (written < data.Length)
        {
            Violations.Add($"receive buffer of {written} bytes too small for a {frame.Length}-byte frame without MRG_RXBUF");
            return false;
        }
        MarkUsed(q, id, (uint)written, chain.Count);
        return true;
    }

    private bool NextAvailable(Queue q, out ushort id, out List<(ulong Addr, uint Len, ushort Flags)> chain)
    {
        chain = new();
        id = 0;
        return Packed ? NextPacked(q, ref id, chain) : NextSplit(q, ref id, chain);
    }

    private bool NextSplit(Queue q, ref ushort id, List<(ulong, uint, ushort)> chain)
    {
        ushort availIdx = ReadGuest16(q.Driver + 2);
        if (availIdx == q.LastAvail)
            return false;
        id = ReadGuest16(q.Driver + 4 + 2UL * (ulong)(q.LastAvail % q.Size));
        q.LastAvail++;
        ushort i = id;
        for (int hops = 0; hops < q.Size; hops++)
        {
            ulong d = q.Desc + 16UL * i;
            ushort flags = ReadGuest16(d + 12);
            chain.Add((ReadGuest64(d), ReadGuest32(d + 8), flags));
            if ((flags & DescNext) == 0)
                return true;
            i = ReadGuest16(d + 14);
        }
        Violations.Add("descriptor chain loops");
        return true;
    }

    private bool NextPacked(Queue q, ref ushort id, List<(ulong, uint, ushort)> chain)
    {
        ushort pos = q.LastAvail;
        bool wrap = q.AvailWrap;
        ushort flags0 = ReadGuest16(q.Desc + 16UL * pos + 14);
        bool avail = (flags0 & PackedAvail) != 0, used = (flags0 & PackedUsed) != 0;
        if (avail == used || avail != wrap)
            return false;
        while (true)
        {
            ulong d = q.Desc + 16UL * pos;
            ushort flags = ReadGuest16(d + 14);
            chain.Add((ReadGuest64(d), ReadGuest32(d + 8), flags));
            id = ReadGuest16(d + 12);
            if (++pos == q.Size)
            {
                pos = 0;
                wrap = !wrap;
            }
            if ((flags & DescNext) == 0 || chain.Count >= q.Size)
                break;
        }
        q.LastAvail = pos;
        q.AvailWrap = wrap;
        return true;
    }

    private void MarkUsed(Queue q, ushort id, uint len, int descriptors)
    {
        if (Packed)
        {
            ulong d = q.Desc + 16UL * q.LastUsed;
            WriteGuest32(d + 8, len);
            WriteGuest16(d + 12, id);
            ushort flags = (ushort)((q.UsedWrap ? PackedAvail | PackedUsed : 0) | (len > 0 ? DescWrite : 0));
            int next = q.LastUsed + descriptors;
            if (next >= q.Size)
            {
                next -= q.Size;
                q.UsedWrap = !q.UsedWrap;
            }
            q.LastUsed = (ushort)next;
            WriteGuest16(d + 14, flags);
            return;
        }
        ulong elem = q.Device + 4 + 8UL * (ulong)(q.LastUsed % q.Size);
        WriteGuest32(elem, id);
        WriteGuest32(elem + 4, len);
        q.LastUsed++;
        WriteGuest16(q.Device + 2, q.LastUsed);
    }

    private byte[] ReadGuest(ulong addr, uint len)
    {
        CheckDma(addr, len);
        var b = new byte[len];
        Marshal.Copy((nint)addr, b, 0, (int)len);
        return b;
    }

    private void WriteGuest(ulong addr, ReadOnlySpan<byte> data)
    {
        CheckDma(addr, data.Length);
        Marshal.Copy(data.ToArray(), 0, (nint)addr, data.Length);
    }

    private void CheckDma(ulong addr, long len)
    {
        if (!InDma(addr, len))
            Violations.Add($"a descriptor points at 0x{addr:x} (+{len}), outside every region mapped for DMA");
    }

    private ushort ReadGuest16(ulong a) => (ushort)Marshal.ReadInt16((nint)a);
    private uint ReadGuest32(ulong a) => (uint)Marshal.ReadInt32((nint)a);
    private ulong ReadGuest64(ulong a) => (ulong)Marshal.ReadInt64((nint)a);
    private void WriteGuest16(ulong a, ushort v) => Marshal.WriteInt16((nint)a, (short)v);
    private void WriteGuest32(ulong a, uint v) => Marshal.WriteInt32((nint)a, (int)v);
}
