using System;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace PacketPlane.IntegrationTests.Virtio;

/// <summary>
/// A dpdk-testpmd process driven through its interactive prompt: started with the test's vdev, given commands on
/// stdin, its output collected, its port statistics parsed, and killed (SIGKILL) or quit by the test.
/// </summary>
public sealed partial class Testpmd : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _lock = new();

    private Testpmd(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
                return _output.ToString();
        }
    }

    /// <summary>True until the process exits.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Starts testpmd with one vdev: forwarding lcore on CPU 0, main lcore on CPU 1 (ENVIRONMENT.md), in-memory
    /// (no shared files), a small mbuf pool, one port looped to itself so io forwarding echoes.
    /// </summary>
    /// <param name="vdev">The --vdev argument.</param>
    /// <param name="extraEal">More EAL arguments.</param>
    /// <param name="extraApp">More testpmd arguments.</param>
    /// <param name="waitReady">Wait until its port is started. A virtio-user in server mode blocks at start-up until
    /// a backend connects: then pass false and call <see cref="WaitReady"/> once ours is connecting.</param>
    public static Testpmd Start(string vdev, string extraEal = "", string extraApp = "", bool waitReady = true)
    {
        string args = $"-l 0-1 --main-lcore 1 --no-pci --in-memory {extraEal} --vdev '{vdev}' -- -i --total-num-mbufs=8192 " +
            $"--port-topology=loop --rxq=1 --txq=1 --nb-cores=1 --no-flush-rx {extraApp}";
        var psi = new ProcessStartInfo("/bin/sh", ["-c", "exec stdbuf -oL -eL dpdk-testpmd " + args])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var tp = new Testpmd(Process.Start(psi) ?? throw new InvalidOperationException("could not start dpdk-testpmd"));
        if (waitReady)
        {
            try
            {
                tp.WaitReady();
            }
            catch
            {
                tp.Dispose();     // never leave a testpmd behind, even when it failed to start
                throw;
            }
        }
        return tp;
    }

    /// <summary>Waits until testpmd has started its port (the prompt has no newline: wait for the line before it).</summary>
    public void WaitReady() => WaitFor("Checking link statuses", TimeSpan.FromSeconds(60));

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_lock)
        {
            _output.AppendLine(line);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Sends one command line.</summary>
    public void Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits until the output contains <paramref name="text"/> after position <paramref name="from"/>; returns its end.</summary>
    public int WaitFor(string text, TimeSpan timeout, int from = 0)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while (true)
            {
                int i = _output.ToString().IndexOf(text, from, StringComparison.Ordinal);
                if (i >= 0)
                    return i + text.Length;
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || _process.HasExited)
                    throw new TimeoutException($"dpdk-testpmd did not print '{text}' (exited: {_process.HasExited}). Output:\n{_output}");
                Monitor.Wait(_lock, left);
            }
        }
    }

    /// <summary>
    /// Starts forwarding in <paramref name="mode"/> and returns once testpmd's lcore runs (it prints its forwarding
    /// configuration after flushing RX queues, which --no-flush-rx turns off anyway: frames we send from now on are
    /// forwarded, none discarded).
    /// </summary>
    public void StartForwarding(string mode)
    {
        int from = Output.Length;
        Send($"set fwd {mode}");
        Send("start");
        WaitFor("nb forwarding cores", TimeSpan.FromSeconds(20), from);
    }

    /// <summary>Port 0's RX and TX packet counters ("show port stats 0").</summary>
    public (ulong Rx, ulong Tx) PortStats()
    {
        int from = Output.Length;
        Send("show port stats 0");
        int end = WaitFor("Tx-bps", TimeSpan.FromSeconds(20), from);
        string block = Output[from..end];
        return (ulong.Parse(RxPackets().Match(block).Groups[1].Value), ulong.Parse(TxPackets().Match(block).Groups[1].Value));
    }

    /// <summary>Waits until port 0 reports its link up.</summary>
    public void WaitLinkUp(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            int from = Output.Length;
            Send("show port info 0");
            int end = WaitFor("Link status", TimeSpan.FromSeconds(20), from);
            string rest = Output[end..Math.Min(Output.Length, end + 20)];
            if (rest.Contains("up", StringComparison.Ordinal))
                return;
            Thread.Sleep(200);
        }
        throw new TimeoutException($"testpmd's port 0 link did not come up. Output:\n{Output}");
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill9()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Quits politely (so its final statistics print), or kills after a timeout.</summary>
    public void Quit()
    {
        if (_process.HasExited)
            return;
        Send("quit");
        if (!_process.WaitForExit(20_000))
            Kill9();
    }

    /// <summary>Quits (or kills) and releases the process. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Quit();
        _process.Dispose();
    }

    private bool _disposed;

    [GeneratedRegex(@"RX-packets:\s+(\d+)")]
    private static partial Regex RxPackets();

    [GeneratedRegex(@"TX-packets:\s+(\d+)")]
    private static partial Regex TxPackets();
}
