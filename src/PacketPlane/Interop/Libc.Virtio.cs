using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// What the vhost-user code needs beyond the shared socket calls: unlinking socket paths, duplicating the
/// memfds it shares, and sizing the files a peer shares with it (fstat).
/// </summary>
internal static unsafe partial class Libc
{
    // <fcntl.h>
    public const int F_DUPFD_CLOEXEC = 1030;

    // <sys/socket.h>
    public const int SHUT_RDWR = 2;
    public const int MSG_PEEK = 0x2;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_WAITALL = 0x100;

    // <errno.h>
    public const int EPIPE = 32;
    public const int ECONNREFUSED = 111;
    public const int ECONNRESET = 104;
    public const int EADDRINUSE = 98;

    /// <summary>
    /// The leading fields of struct stat that x86-64 and arm64 lay out alike: st_size at byte 48 and st_blksize at
    /// byte 56 (read as 32 bits, which both ABIs hold there). 144 bytes covers either ABI's full struct.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 144)]
    public struct stat_prefix
    {
        [FieldOffset(48)] public long st_size;
        [FieldOffset(56)] public int st_blksize;
    }

    [LibraryImport(LibName, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlink(string path);

    [LibraryImport(LibName, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(LibName, EntryPoint = "fstat", SetLastError = true)]
    public static partial int fstat(int fd, stat_prefix* buf);

    [LibraryImport(LibName, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int shutdown(int fd, int how);
}
