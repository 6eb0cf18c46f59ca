using Microsoft.Extensions.Logging;

namespace PacketPlane.Telemetry;

/// <summary>
/// Event ids of PacketPlane's control-path log lines, stable across releases so log pipelines can match on
/// them instead of on message text. Ranges: 1xxx EAL and memory, 2xxx ports and drivers, 3xxx telemetry and
/// capture, 4xxx shutdown. Every line also carries structured properties ({Port}, {Name}, {Driver}, ...).
/// </summary>
public static class LogEvents
{
    /// <summary>The EAL is initialised (lcores, memory policy, IOVA mode).</summary>
    public static readonly EventId EalInitialized = new(1000, nameof(EalInitialized));

    /// <summary>An EAL teardown step failed (the rest of teardown went on).</summary>
    public static readonly EventId EalTeardownFailed = new(1001, nameof(EalTeardownFailed));

    /// <summary>Not enough hugepages were free, so packet memory came from 4 KiB pages.</summary>
    public static readonly EventId HugepageFallback = new(1010, nameof(HugepageFallback));

    /// <summary>A port was created from a device string.</summary>
    public static readonly EventId PortCreated = new(2000, nameof(PortCreated));

    /// <summary>The driver that claims a device name was chosen.</summary>
    public static readonly EventId DriverSelected = new(2001, nameof(DriverSelected));

    /// <summary>A port was configured (queue counts, offloads, MTU).</summary>
    public static readonly EventId PortConfigured = new(2002, nameof(PortConfigured));

    /// <summary>A port was started.</summary>
    public static readonly EventId PortStarted = new(2003, nameof(PortStarted));

    /// <summary>A port was stopped.</summary>
    public static readonly EventId PortStopped = new(2004, nameof(PortStopped));

    /// <summary>A port was closed and its id freed.</summary>
    public static readonly EventId PortClosed = new(2005, nameof(PortClosed));

    /// <summary>
    /// A driver fell back to a slower mode than asked for (AF_XDP zero-copy to copy mode, native XDP to generic),
    /// or the application fell back to another driver. The message names both modes and the reason.
    /// </summary>
    public static readonly EventId DriverFallback = new(2010, nameof(DriverFallback));

    /// <summary>A queue's burst function was chosen (scalar, vector), as ixgbe_set_rx_function logs it.</summary>
    public static readonly EventId BurstFunctionSelected = new(2011, nameof(BurstFunctionSelected));

    /// <summary>A port's link went down (peer gone, cable out); the port keeps running and counts errors.</summary>
    public static readonly EventId LinkDown = new(2012, nameof(LinkDown));

    /// <summary>The DPDK-compatible telemetry socket is listening.</summary>
    public static readonly EventId TelemetryStarted = new(3000, nameof(TelemetryStarted));

    /// <summary>The telemetry socket was closed and removed.</summary>
    public static readonly EventId TelemetryStopped = new(3001, nameof(TelemetryStopped));

    /// <summary>A telemetry client was refused (too many connections) or failed.</summary>
    public static readonly EventId TelemetryClientError = new(3002, nameof(TelemetryClientError));

    /// <summary>A capture was switched on for a port.</summary>
    public static readonly EventId CaptureStarted = new(3010, nameof(CaptureStarted));

    /// <summary>A capture was switched off, or its file closed, with its counts.</summary>
    public static readonly EventId CaptureStopped = new(3011, nameof(CaptureStopped));

    /// <summary>Shutdown was requested (signal or call).</summary>
    public static readonly EventId ShutdownRequested = new(4000, nameof(ShutdownRequested));

    /// <summary>One ordered teardown step finished.</summary>
    public static readonly EventId ShutdownStep = new(4001, nameof(ShutdownStep));

    /// <summary>A teardown step failed or ran out of time; later steps that would be unsafe were skipped.</summary>
    public static readonly EventId ShutdownStepFailed = new(4002, nameof(ShutdownStepFailed));

    /// <summary>Teardown finished.</summary>
    public static readonly EventId ShutdownCompleted = new(4003, nameof(ShutdownCompleted));
}
