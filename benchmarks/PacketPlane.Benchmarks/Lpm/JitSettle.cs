using System;
using System.Runtime;
using System.Threading;

namespace PacketPlane.Benchmarks;

/// <summary>
/// Runs a warm-up action until the tiered JIT has nothing left to compile for it: repeated until a round plus a
/// pause (for the background compiler) adds no compiled method. Only then is the code the timed loop calls the
/// final optimized code, as in a long-running application; a fixed warm-up is not enough on a loaded machine,
/// where the background compile of a callee can still be pending when timing starts.
/// </summary>
internal static class JitSettle
{
    public static void Run(Action warmUp, int maxRounds = 20)
    {
        long before = -1;
        for (int round = 0; round < maxRounds; round++)
        {
            warmUp();
            Thread.Sleep(250);
            long compiled = JitInfo.GetCompiledMethodCount(currentThread: false);
            if (compiled == before)
                return;
            before = compiled;
        }
    }
}
