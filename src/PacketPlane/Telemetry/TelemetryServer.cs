using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Internal;

namespace PacketPlane.Telemetry;

/// <summary>
/// A telemetry endpoint that speaks DPDK's v2 telemetry protocol, so DPDK's client <c>dpdk-telemetry.py</c> and
/// tools built on it can query a PacketPlane application. A SOCK_SEQPACKET UNIX socket named
/// <c>dpdk_telemetry.v2</c> in DPDK's runtime directory (<see cref="RuntimeDirectory"/>): on connect the server
/// sends <c>{"version": ..., "pid": ..., "max_output_len": 16384}</c>; each message after that is a request
/// (<c>/ethdev/stats,0</c>) answered by one JSON message (see <see cref="TelemetryCommands"/>). At most
/// <see cref="MaxConnections"/> clients at once, each served by its own thread. When the name is taken by a
/// live process, the next free <c>dpdk_telemetry.v2:N</c> is used (connect with <c>dpdk-telemetry.py -i N</c>),
/// as DPDK does. Dispose closes the socket and removes its file.
/// </summary>
public sealed class TelemetryServer : IDisposable
{
    /// <summary>Socket file name (DPDK's v2 protocol).</summary>
    public const string SocketName = "dpdk_telemetry.v2";

    /// <summary>Clients served at once; more are accepted and closed at once (DPDK's MAX_CONNECTIONS).</summary>
    public const int MaxConnections = 10;

    private const int MaxInstances = 100;

    private readonly Socket _listener;
    private readonly Thread _acceptThread;
    private readonly List<Socket> _clients = new();
    private readonly ILogger _log;
    private readonly string? _createdDirectory;
    private int _disposed;

    private TelemetryServer(Socket listener, string path, string? createdDirectory)
    {
        _listener = listener;
        SocketPath = path;
        _createdDirectory = createdDirectory;
        _log = Log.For("PacketPlane.Telemetry");
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "telemetry-v2" };
        _acceptThread.Start();
    }

    /// <summary>Path of the listening socket.</summary>
    public string SocketPath { get; }

    /// <summary>Instance number: 0 for <c>dpdk_telemetry.v2</c>, N for <c>dpdk_telemetry.v2:N</c>.</summary>
    public int Instance
    {
        get
        {
            int colon = Path.GetFileName(SocketPath).LastIndexOf(':');
            return colon < 0 ? 0 : int.Parse(Path.GetFileName(SocketPath).AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Clients connected now.</summary>
    public int ClientCount
    {
        get
        {
            lock (_clients)
                return _clients.Count;
        }
    }

    /// <summary>
    /// DPDK's runtime directory for <paramref name="filePrefix"/>, where its client looks for the socket:
    /// <c>$RUNTIME_DIRECTORY</c> if set, else <c>/var/run</c> for root, else <c>$XDG_RUNTIME_DIR</c> or <c>/tmp</c>;
    /// then <c>/dpdk/PREFIX</c>. For root and the default prefix: <c>/var/run/dpdk/rte</c>.
    /// </summary>
    public static string RuntimeDirectory(string filePrefix = "rte")
    {
        CheckPrefix(filePrefix);
        string? runDir = Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY");
        if (string.IsNullOrEmpty(runDir))
        {
            runDir = Interop.Libc.IsRoot
                ? "/var/run"
                : Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg ? xdg : "/tmp";
        }
        return Path.Combine(runDir, "dpdk", filePrefix);
    }

    /// <summary>Starts the server in the runtime directory of <paramref name="filePrefix"/> (created if missing).</summary>
    /// <exception cref="PacketPlaneException">The directory or socket cannot be created (the message names the path and the error).</exception>
    public static TelemetryServer Start(string filePrefix = "rte")
    {
        string dir = RuntimeDirectory(filePrefix);
        string? created = null;
        try
        {
            if (!Directory.Exists(dir) && OperatingSystem.IsLinux())
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                created = dir;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PacketPlaneException($"telemetry: cannot create the runtime directory {dir}: {e.Message}. " +
                "Run as root, or set RUNTIME_DIRECTORY to a writable directory (dpdk-telemetry.py honours it too)", e);
        }
        try
        {
            return StartIn(dir, created);
        }
        catch
        {
            if (created is not null)
                TryDeleteEmptyDirectory(created);
            throw;
        }
    }

    /// <summary>Starts the server on an explicit socket path (its directory must exist).</summary>
    public static TelemetryServer StartAtPath(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        Socket listener = Bind(socketPath) ?? throw new PacketPlaneException(
            $"telemetry: {socketPath} is in use by a live process; choose another path");
        return Started(listener, socketPath, null);
    }

    private static TelemetryServer StartIn(string dir, string? created)
    {
        string basePath = Path.Combine(dir, SocketName);
        for (int instance = 0; instance < MaxInstances; instance++)
        {
            string path = instance == 0 ? basePath : $"{basePath}:{instance}";
            Socket? listener = Bind(path);
            if (listener is not null)
                return Started(listener, path, created);
        }
        throw new PacketPlaneException($"telemetry: {basePath} and its {MaxInstances - 1} numbered alternatives are all in use by live processes");
    }

    private static TelemetryServer Started(Socket listener, string path, string? created)
    {
        var server = new TelemetryServer(listener, path, created);
        server._log.LogInformation(LogEvents.TelemetryStarted,
            "telemetry: listening on {Path} (DPDK v2 protocol); query with: dpdk-telemetry.py{Args}",
            path, ClientArguments(path));
        return server;
    }

    /// <summary>The dpdk-telemetry.py arguments that reach <paramref name="path"/> (file prefix and instance).</summary>
    public static string ClientArguments(string path)
    {
        string name = Path.GetFileName(path);
        string prefix = Path.GetFileName(Path.GetDirectoryName(path)) ?? "rte";
        int colon = name.LastIndexOf(':');
        return (prefix == "rte" ? "" : $" -f {prefix}") + (colon < 0 ? "" : $" -i {name[(colon + 1)..]}");
    }

    /// <summary>Binds and listens on <paramref name="path"/>; null when a live process already serves it.</summary>
    private static Socket? Bind(string path)
    {
        if (Encoding.UTF8.GetByteCount(path) >= 108)
            throw new PacketPlaneException($"telemetry: socket path {path} is longer than the 107 bytes a UNIX socket address holds; use a shorter --file-prefix or RUNTIME_DIRECTORY");
        if (File.Exists(path) || Directory.Exists(path))
        {
            if (IsServed(path))
                return null;
            File.Delete(path); // stale: left by a process that died
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(1);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            if (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                return null;
            throw new PacketPlaneException($"telemetry: cannot listen on {path}: {e.Message}", e);
        }
    }

    private static bool IsServed(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void AcceptLoop()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // Dispose closed the listener
            }
            lock (_clients)
            {
                if (_clients.Count >= MaxConnections || Volatile.Read(ref _disposed) != 0)
                {
                    _log.LogWarning(LogEvents.TelemetryClientError, "telemetry: refusing a client, {Max} are connected already", MaxConnections);
                    client.Dispose();
                    continue;
                }
                _clients.Add(client);
            }
            new Thread(() => Serve(client)) { IsBackground = true, Name = "telemetry-client" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        var buffer = new byte[TelemetryRequest.MaxRequestBytes + 1];
        try
        {
            client.Send(Encoding.UTF8.GetBytes(TelemetryCommands.Info().ToJsonString()));
            while (true)
            {
                int n = client.Receive(buffer);
                if (n <= 0)
                    break;
                string reply = TelemetryCommands.Execute(TelemetryRequest.Parse(buffer.AsSpan(0, n)));
                client.Send(Encoding.UTF8.GetBytes(reply));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Client went away, or Dispose closed the socket.
        }
        finally
        {
            lock (_clients)
                _clients.Remove(client);
            client.Dispose();
        }
    }

    /// <summary>Stops listening, disconnects clients, removes the socket file (and the directory if this server created it and it is empty). Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _listener.Dispose();
        _acceptThread.Join(TimeSpan.FromSeconds(2));
        Socket[] clients;
        lock (_clients)
            clients = _clients.ToArray();
        foreach (Socket c in clients)
        {
            try
            {
                c.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            c.Dispose();
        }
        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning(LogEvents.TelemetryStopped, "telemetry: could not remove {Path}: {Error}", SocketPath, e.Message);
        }
        if (_createdDirectory is not null)
            TryDeleteEmptyDirectory(_createdDirectory);
        Eal.Current?.Disown(this);
        _log.LogInformation(LogEvents.TelemetryStopped, "telemetry: {Path} closed and removed", SocketPath);
    }

    /// <inheritdoc/>
    public override string ToString() => $"telemetry server on {SocketPath}";

    internal static void CheckPrefix(string filePrefix)
    {
        ArgumentNullException.ThrowIfNull(filePrefix);
        if (filePrefix.Length == 0 || filePrefix.Contains('/') || filePrefix == "." || filePrefix == ".." || filePrefix.Contains('\0') || filePrefix.Length > 64)
            throw new EalArgumentException($"invalid --file-prefix '{filePrefix}': expected a plain name of 1 to 64 characters without '/'");
    }

    private static void TryDeleteEmptyDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir) && Directory.GetFileSystemEntries(dir).Length == 0)
                Directory.Delete(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process created something there meanwhile: leave it.
        }
    }
}
