namespace PacketPlane.Drivers.Virtio.Virtqueue;

/// <summary>
/// The driver (frontend) side of one virtqueue, split or packed. Implemented by structs so the queue classes,
/// generic over the ring type, are specialised by the JIT and every call below is direct and inlinable: the one
/// implementation every virtio driver (virtio-user, virtio-pci) shares.
/// </summary>
/// <remarks>
/// A buffer is one descriptor or a chain, carrying an opaque token (an mbuf pointer) that comes back when the
/// device has used it. Only the lcore polling the queue calls the datapath members; the control path calls the
/// others while the queue's <see cref="QuiesceGate"/> is closed.
/// </remarks>
internal unsafe interface IDriverRing
{
    /// <summary>Queue size (descriptors).</summary>
    int Size { get; }

    /// <summary>Descriptors free for new buffers.</summary>
    int FreeDescriptors { get; }

    /// <summary>Buffers made available and not yet used.</summary>
    int Outstanding { get; }

    /// <summary>The buffer id the next Add will use (split: head descriptor index; packed: buffer id).</summary>
    ushort NextBufferId { get; }

    /// <summary>Times the device returned something impossible (an id out of range or not outstanding).</summary>
    ulong DeviceErrors { get; }

    /// <summary>Takes the ring memory (already zeroed) and allocates the driver's private state.</summary>
    void Init(VringLayout layout, bool inOrder);

    /// <summary>Switches notification suppression to event indexes (EVENT_IDX) or flags, per connection.</summary>
    void SetEventIdx(bool eventIdx);

    /// <summary>Makes a one-descriptor buffer available (not yet published). Caller checked FreeDescriptors.</summary>
    ushort AddBuffer(ulong addr, uint len, ushort flags, nint token);

    /// <summary>Makes a chain of <paramref name="count"/> descriptors one buffer. Caller checked FreeDescriptors.</summary>
    ushort AddChain(ulong* addrs, uint* lens, int count, ushort flags, nint token);

    /// <summary>Publishes the buffers added since the last call to the device.</summary>
    void Publish();

    /// <summary>After <see cref="Publish"/>: whether the device asked to be notified (virtio 1.2 2.7.10 / 2.8.10).</summary>
    bool KickNeeded();

    /// <summary>Collects up to <paramref name="max"/> used buffers in completion order; frees their descriptors.</summary>
    int PollUsed(nint* tokens, uint* lens, int max);

    /// <summary>Asks the device not to send used-buffer notifications: the driver polls.</summary>
    void SuppressDeviceNotifications();

    /// <summary>
    /// Where a (re)started device should resume: split, the used index; packed, the next position the device writes,
    /// with its wrap counter in bit 15 (vhost-user SET_VRING_BASE).
    /// </summary>
    ushort ResumeIndex();

    /// <summary>Control path: returns the tokens of every outstanding buffer and forgets them (queue release).</summary>
    int DrainOutstanding(nint* tokens, int max);

    /// <summary>Frees the private state.</summary>
    void Dispose();
}
