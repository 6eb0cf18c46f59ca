using System;
using System.Runtime.InteropServices;

namespace PacketPlane.Interop;

/// <summary>
/// P/Invoke declarations into glibc for memory, files and scheduling. Every kernel interaction in
/// PacketPlane goes through <c>Interop/</c>; constants keep the kernel header's exact name so they
/// can be grepped against the source of truth. Other areas (sockets, bpf, netlink, ioctl) live in
/// partial files of this class.
/// </summary>
internal static unsafe partial class Libc
{
    private const string LibName = "libc";

    // <sys/mman.h>
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_FIXED = 0x10;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_POPULATE = 0x8000;
    public const int MAP_HUGETLB = 0x40000;
    public static readonly nint MAP_FAILED = -1;
    public const int MADV_POPULATE_WRITE = 23;

    // <linux/memfd.h>
    public const uint MFD_CLOEXEC = 0x0001;
    public const uint MFD_HUGETLB = 0x0004;
    public const int MFD_HUGE_SHIFT = 26;
    public const uint MFD_HUGE_2MB = 21u << MFD_HUGE_SHIFT;
    public const uint MFD_HUGE_1GB = 30u << MFD_HUGE_SHIFT;

    // <linux/mempolicy.h>
    public const int MPOL_PREFERRED = 1;
    public const int MPOL_BIND = 2;

    // <fcntl.h>
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    // <errno.h>
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENOSYS = 38;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int ENOBUFS = 105;

    // <sys/resource.h>
    public const int RLIMIT_MEMLOCK = 8;

    [StructLayout(LayoutKind.Sequential)]
    public struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }

    [LibraryImport(LibName, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport(LibName, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport(LibName, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(LibName, EntryPoint = "munmap", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport(LibName, EntryPoint = "mlock", SetLastError = true)]
    public static partial int mlock(nint addr, nuint length);

    [LibraryImport(LibName, EntryPoint = "munlock", SetLastError = true)]
    public static partial int munlock(nint addr, nuint length);

    [LibraryImport(LibName, EntryPoint = "madvise", SetLastError = true)]
    public static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport(LibName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(LibName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(LibName, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(LibName, EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(LibName, EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(LibName, EntryPoint = "pread", SetLastError = true)]
    public static partial nint pread(int fd, void* buf, nuint count, long offset);

    [LibraryImport(LibName, EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint pwrite(int fd, void* buf, nuint count, long offset);

    [LibraryImport(LibName, EntryPoint = "geteuid")]
    public static partial uint geteuid();

    [LibraryImport(LibName, EntryPoint = "getpid")]
    public static partial int getpid();

    [LibraryImport(LibName, EntryPoint = "getpagesize")]
    public static partial int getpagesize();

    [LibraryImport(LibName, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int getrlimit(int resource, rlimit* rlim);

    [LibraryImport(LibName, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int setrlimit(int resource, rlimit* rlim);

    // <sched.h>. pid 0 means the calling thread.
    [LibraryImport(LibName, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(LibName, EntryPoint = "sched_getaffinity", SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(LibName, EntryPoint = "sched_getcpu", SetLastError = true)]
    public static partial int sched_getcpu();

    [LibraryImport(LibName, EntryPoint = "syscall", SetLastError = true)]
    public static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    /// <summary>mbind(2) has no glibc wrapper (it lives in libnuma), so it goes through syscall(2).</summary>
    public static int mbind(nint addr, nuint len, int mode, ulong* nodemask, nuint maxnode, uint flags)
    {
        long nr = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? SYS_mbind_arm64 : SYS_mbind_x86_64;
        return (int)syscall(nr, addr, (nint)len, mode, (nint)nodemask, (nint)maxnode, (nint)flags);
    }

    private const long SYS_mbind_x86_64 = 237;
    private const long SYS_mbind_arm64 = 235;

    /// <summary>The errno of the last P/Invoke marked SetLastError.</summary>
    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>"ENOMEM (Cannot allocate memory)"-style text for an errno.</summary>
    public static string Describe(int errno) => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";

    public static bool IsRoot => geteuid() == 0;
}
