using PacketPlane.Telemetry;

namespace PacketPlane;

public sealed partial class Eal
{
    /// <summary>The telemetry socket when <see cref="EalOptions.Telemetry"/> is on (<c>--telemetry</c>), else null.</summary>
    public TelemetryServer? Telemetry { get; private set; }

    // Called at the end of Init; the server is owned at the Ports stage and, created last, is closed first.
    private void StartServices()
    {
        if (!Options.Telemetry)
            return;
        Telemetry = TelemetryServer.Start(Options.FilePrefix);
        Own(Telemetry, TeardownStage.Ports);
    }
}
