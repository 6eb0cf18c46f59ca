using System;
using System.Diagnostics;
using System.IO;

namespace PacketPlane.IntegrationTests.Infrastructure;

/// <summary>Starts PacketPlane.TestHost scenarios in a child process.</summary>
public static class HostProcess
{
    /// <summary>Starts <paramref name="scenario"/> and waits for its "ready" line; returns the process and that line.</summary>
    public static (Process Process, string ReadyLine) StartAndWaitReady(string scenario, string args = "", TimeSpan? timeout = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "PacketPlane.TestHost.dll");
        Process p = Shell.Start($"exec dotnet {dll} {scenario} {args}");
        var readLine = p.StandardOutput.ReadLineAsync();
        if (!readLine.Wait(timeout ?? TimeSpan.FromSeconds(60)) || readLine.Result is not string line || !line.StartsWith("ready", StringComparison.Ordinal))
        {
            string err = p.HasExited ? p.StandardError.ReadToEnd() : "(still running)";
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"test host scenario {scenario} did not become ready: {err}");
        }
        return (p, line);
    }

    /// <summary>SIGKILLs the process and waits for it to be gone.</summary>
    public static void Kill9(Process p)
    {
        Shell.Run($"kill -9 {p.Id}");
        p.WaitForExit(10_000);
    }
}
