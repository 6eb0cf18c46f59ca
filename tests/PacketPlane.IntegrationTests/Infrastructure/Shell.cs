using System;
using System.Diagnostics;
using System.Text;
using System.Threading.Tasks;

namespace PacketPlane.IntegrationTests.Infrastructure;

/// <summary>Runs commands for test set-up (ip, tshark, python3) and fails loudly with their output.</summary>
public static class Shell
{
    /// <summary>Output of a finished command.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="command"/> through /bin/sh; throws when it exits non-zero.</summary>
    public static string Run(string command, TimeSpan? timeout = null)
    {
        Result r = TryRun(command, timeout);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"command failed ({r.ExitCode}): {command}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        return r.Stdout;
    }

    /// <summary>Runs <paramref name="command"/> through /bin/sh and returns its result, whatever the exit code.</summary>
    public static Result TryRun(string command, TimeSpan? timeout = null)
    {
        using Process p = Start(command);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"command timed out: {command}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts <paramref name="command"/> through /bin/sh in the background, output redirected.</summary>
    public static Process Start(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start: {command}");
    }
}
