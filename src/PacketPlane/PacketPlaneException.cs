using System;

namespace PacketPlane;

/// <summary>
/// Base of every control-path error PacketPlane raises. The message says what failed, why, and
/// (where one exists) the command that fixes it. The datapath never throws: it returns counts
/// and increments error counters.
/// </summary>
public class PacketPlaneException : Exception
{
    /// <summary>Creates an exception with a message that names the problem and the fix.</summary>
    public PacketPlaneException(string message) : base(message) { }

    /// <summary>Creates an exception that wraps the underlying cause.</summary>
    public PacketPlaneException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A malformed or unknown EAL argument or option.</summary>
public sealed class EalArgumentException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public EalArgumentException(string message) : base(message) { }
}

/// <summary>Memory could not be obtained as requested (hugepages missing, mmap failed, no privilege).</summary>
public sealed class MemoryAllocationException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public MemoryAllocationException(string message) : base(message) { }
}

/// <summary>An operation needs a privilege (root, a capability) the process does not have.</summary>
public sealed class PrivilegeException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public PrivilegeException(string message) : base(message) { }
}
