using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using PacketPlane.IntegrationTests.Infrastructure;

namespace PacketPlane.IntegrationTests.Samples;

/// <summary>A sample (L2Fwd, TestPmd) running as its own process: `dotnet L2Fwd.dll ...`, output captured.</summary>
public sealed class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private SampleProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <paramref name="sample"/> (L2Fwd or TestPmd) with <paramref name="args"/>.</summary>
    public static SampleProcess Start(string sample, string args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, sample + ".dll");
        return new SampleProcess(Shell.Start($"exec dotnet {dll} {args}"));
    }

    /// <summary>Standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    /// <summary>Standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>Waits until standard output matches <paramref name="pattern"/>; returns the match.</summary>
    public Match WaitForOutput(string pattern, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        var regex = new Regex(pattern);
        while (DateTime.UtcNow < deadline)
        {
            Match m = regex.Match(Output);
            if (m.Success)
                return m;
            if (_process.HasExited)
                break;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no output matching /{pattern}/ within {timeout.TotalSeconds} s (exited: {_process.HasExited}).\nstdout:\n{Output}\nstderr:\n{Errors}");
    }

    /// <summary>Sends a signal by name (INT, TERM).</summary>
    public void Signal(string name) => Shell.Run($"kill -s {name} {_process.Id}");

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"the sample did not exit within {timeout.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Errors}");
        _process.WaitForExit(); // drain the output readers
        return _process.ExitCode;
    }

    /// <summary>Kills the process if it still runs.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null)
            return;
        lock (sb)
            sb.AppendLine(line);
    }
}
