namespace PacketPlane.Benchmarks.Hash;

internal static class HashPerf
{
    public static int Run(string[] args) => 0;
}
