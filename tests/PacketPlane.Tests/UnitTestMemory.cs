using System.Runtime.CompilerServices;

namespace PacketPlane.Tests;

/// <summary>
/// Unit tests are unprivileged and must not depend on, or disturb, the machine's hugepages: the integration tests
/// (another process, run at the same time by `dotnet test` on the solution) count free hugepages to prove memory
/// is returned. Pools here therefore use 4 KiB pages unless a test asks for hugepages explicitly.
/// </summary>
internal static class UnitTestMemory
{
#pragma warning disable CA2255 // a module initializer is the one place that runs before any test creates memory
    [ModuleInitializer]
    internal static void UseSmallPages() => MemoryRegion.AutoUsesSmallPages = true;
#pragma warning restore CA2255
}
