using System;
using System.IO;

namespace PacketPlane.Tool;

/// <summary>
/// Where the tool reads and writes the kernel's files: "/" on a real machine, a directory holding a fake
/// sys/, proc/ and dev/ tree in tests (the hidden --root option).
/// </summary>
internal sealed class SystemRoot(string root)
{
    public static SystemRoot Real { get; } = new("/");

    public string Root { get; } = root;

    public bool IsReal => Root == "/";

    public string Sys(string relative) => Path.Combine(Root, "sys", relative);

    public string Proc(string relative) => Path.Combine(Root, "proc", relative);

    public string Dev(string relative) => Path.Combine(Root, "dev", relative);

    /// <summary>First line of a file, trimmed, or null when it cannot be read.</summary>
    public static string? ReadLine(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine()?.Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The name a symlink points to (its last path element), or null.</summary>
    public static string? LinkTarget(string path)
    {
        try
        {
            string? target = new FileInfo(path).LinkTarget;
            return target is null ? null : Path.GetFileName(target.TrimEnd('/'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The final target of a symlink (relative links resolved), or the path itself when it is no link.</summary>
    public static string Resolve(string path)
    {
        try
        {
            return Directory.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return path;
        }
    }

    public static string[] List(string dir)
    {
        try
        {
            return Directory.Exists(dir) ? Directory.GetFileSystemEntries(dir) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
