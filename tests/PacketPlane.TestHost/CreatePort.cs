using System;
using PacketPlane.Ethdev;

namespace PacketPlane.TestHost;

/// <summary>
/// create-port DEVICE_STRING: creates, starts and closes a port, printing "ok" or "error TYPE: MESSAGE". The
/// integration tests run it with capabilities dropped (setpriv) to check the privilege errors.
/// </summary>
public sealed class CreatePort : IScenario
{
    public string Name => "create-port";

    public int Run(string[] args)
    {
        try
        {
            using EthDev port = EthDev.Create(args[0]);
            Console.WriteLine("ok");
            return 0;
        }
        catch (PacketPlaneException e)
        {
            Console.WriteLine($"error {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }
}
