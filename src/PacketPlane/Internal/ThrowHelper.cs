using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace PacketPlane.Internal;

/// <summary>
/// Throw sites kept out of line so the methods that call them stay small enough to inline
/// (the System.IO.Pipelines ThrowHelper pattern). Only control-path code and argument checks use
/// these; the datapath returns counts instead.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, string message) =>
        throw CreateArgumentOutOfRange(paramName, message);

    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) =>
        throw CreateArgument(paramName, message);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw CreateInvalidOperation(message);

    [DoesNotReturn]
    public static void ThrowObjectDisposed(string name) => throw CreateObjectDisposed(name);

    [DoesNotReturn]
    public static void ThrowPacketPlane(string message) => throw CreatePacketPlane(message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception CreateArgumentOutOfRange(string paramName, string message) =>
        new ArgumentOutOfRangeException(paramName, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception CreateArgument(string paramName, string message) =>
        new ArgumentException(message, paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception CreateInvalidOperation(string message) => new InvalidOperationException(message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception CreateObjectDisposed(string name) => new ObjectDisposedException(name);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception CreatePacketPlane(string message) => new PacketPlaneException(message);
}
