using System;
using System.Threading;
using Microsoft.Extensions.Logging;
using PacketPlane.Interop;

namespace PacketPlane.Drivers.Virtio.VhostUser;

/// <summary>
/// The socket side of a vhost-user endpoint, shared by the frontend (virtio-user) and the backend (net_vhost):
/// a background thread that listens and accepts (server) or connects and reconnects (client), and runs one
/// session per connection until the peer goes away or the endpoint is disposed.
/// </summary>
internal sealed class VhostUserConnector : IDisposable
{
    private readonly string _path;
    private readonly bool _server;
    private readonly string _name;
    private readonly ILogger _log;
    private readonly Action<VhostUserChannel, int> _runSession;
    private readonly Action? _onWakeIdle;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private int _listenFd = -1;
    private volatile bool _stopping;
    private int _disposed;

    /// <param name="name">Device name, for logs and the thread name.</param>
    /// <param name="path">Socket path.</param>
    /// <param name="server">Listen (true) or connect (false).</param>
    /// <param name="runSession">Runs one connected session; returns when it ends. Gets the channel and the wake fd to poll.</param>
    /// <param name="log">Logger.</param>
    /// <param name="onWakeIdle">Called on the thread when <see cref="Wake"/> was signalled while no session runs.</param>
    public VhostUserConnector(string name, string path, bool server, Action<VhostUserChannel, int> runSession, ILogger log,
        Action? onWakeIdle = null)
    {
        _onWakeIdle = onWakeIdle;
        _name = name;
        _path = path;
        _server = server;
        _runSession = runSession;
        _log = log;
        _wakeFd = EventFd.Create();
        if (server)
        {
            _listenFd = UnixSocket.Listen(path);
            if (_listenFd < 0)
            {
                Libc.close(_wakeFd);
                throw new Ethdev.EthDevException($"{name}: cannot listen on {path}: {Libc.Describe(-_listenFd)}. " +
                    "Check that the directory exists and is writable, and that no other process serves this path");
            }
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "vhost-user " + name };
    }

    /// <summary>The fd a session polls besides its socket: readable when the endpoint is shutting down.</summary>
    public int WakeFd => _wakeFd;

    /// <summary>Wakes the thread (a session, or the idle wait) to look at new work.</summary>
    public void Wake() => EventFd.Signal(_wakeFd);

    /// <summary>True once Dispose started.</summary>
    public bool Stopping => _stopping;

    /// <summary>Connects once now (client mode), so a missing peer is reported to the caller. Returns the fd or -errno.</summary>
    public int ConnectNow() => UnixSocket.Connect(_path);

    /// <summary>Starts the thread; <paramref name="firstConnection"/> (client mode) is used before any reconnect.</summary>
    public void Start(int firstConnection = -1)
    {
        _pendingFirst = firstConnection;
        _thread.Start();
    }

    private int _pendingFirst = -1;

    private void Run()
    {
        while (!_stopping)
        {
            int fd = NextConnection();
            if (fd < 0)
                continue;
            using var channel = new VhostUserChannel(fd);
            try
            {
                _runSession(channel, _wakeFd);
            }
            catch (Exception e)
            {
                // A session must never take the process down: log, drop the connection, wait for the next.
                _log.LogError(e, "{Name}: vhost-user session ended by an unexpected error", _name);
            }
        }
    }

    private int NextConnection()
    {
        if (_pendingFirst >= 0)
        {
            int first = _pendingFirst;
            _pendingFirst = -1;
            return first;
        }
        return _server ? AcceptOne() : ConnectOne();
    }

    private int AcceptOne()
    {
        int ready = UnixSocket.WaitReadable(_listenFd, _wakeFd, 1000);
        if (_stopping)
            return -1;
        if ((ready & 2) != 0)
            WokenIdle();
        if ((ready & 1) == 0)
            return -1;
        int fd = UnixSocket.Accept(_listenFd);
        if (fd < 0)
        {
            _log.LogWarning("{Name}: accept on {Path} failed: {Error}", _name, _path, Libc.Describe(-fd));
            return -1;
        }
        _log.LogInformation("{Name}: peer connected on {Path}", _name, _path);
        return fd;
    }

    private int ConnectOne()
    {
        // Reconnect once a second until the peer's socket is back (or we are disposed).
        int ready = UnixSocket.WaitReadable(_wakeFd, -1, 1000);
        if (_stopping)
            return -1;
        if ((ready & 1) != 0)
        {
            WokenIdle();
            return -1;
        }
        int fd = UnixSocket.Connect(_path);
        if (fd >= 0)
            _log.LogInformation("{Name}: connected to {Path}", _name, _path);
        return fd;
    }

    private void WokenIdle()
    {
        EventFd.Drain(_wakeFd);
        _onWakeIdle?.Invoke();
    }

    /// <summary>Stops the thread (waking it), closes the listening socket and removes its path. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping = true;
        EventFd.Signal(_wakeFd);
        if (_thread.IsAlive)
            _thread.Join(TimeSpan.FromSeconds(10));
        if (_pendingFirst >= 0)
            Libc.close(_pendingFirst);
        if (_listenFd >= 0)
        {
            Libc.close(_listenFd);
            Libc.unlink(_path);
        }
        Libc.close(_wakeFd);
    }
}
