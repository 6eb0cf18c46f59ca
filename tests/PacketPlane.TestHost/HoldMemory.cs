using System;
using System.Globalization;
using System.Threading;

namespace PacketPlane.TestHost;

/// <summary>hold-memory SIZE_MB [huge|small]: maps a region, prints "ready FD", then waits to be killed.</summary>
public sealed class HoldMemory : IScenario
{
    public string Name => "hold-memory";

    public int Run(string[] args)
    {
        long size = long.Parse(args[0], CultureInfo.InvariantCulture) << 20;
        PagePolicy pages = args.Length > 1 && args[1] == "small" ? PagePolicy.SmallPages : PagePolicy.RequireHugepages;
        MemoryRegion region = MemoryRegion.Create("hold", size, new MemoryRegionOptions { Pages = pages });
        region.AsSpan(0, 4096).Fill(1);
        Console.WriteLine($"ready {region.PageSize}");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
