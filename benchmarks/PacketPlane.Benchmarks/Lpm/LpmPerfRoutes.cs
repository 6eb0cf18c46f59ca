using System;
using System.Collections.Generic;

namespace PacketPlane.Benchmarks.Lpm;

/// <summary>
/// The route table of DPDK 22.11's <c>lpm_perf_autotest</c> (app/test/test_lpm_perf.c), rebuilt route for route:
/// the same per-class, per-depth route counts (taken from a real BGP table dump, about 1.08 million routes, most
/// of them /24), the same spreading of prefixes across each class, and the same pseudo-random sequence, because
/// the autotest draws its starting points from glibc's <c>lrand48()</c> without seeding it. Equal "unique added
/// entries" and "used tbl24 entries" lines in both programs' output confirm the tables are identical.
/// </summary>
internal static class LpmPerfRoutes
{
    // Routes per depth 1..32 for address class A (leading bit 0), B (leading 10) and C (leading 110); the counts of
    // the autotest's rule_count table.
    private static readonly int[] ClassA =
    [
        0, 0, 1, 0, 2, 1, 3, 185, 26, 16, 39, 144, 233, 528, 866, 3856,
        3268, 5662, 17301, 22226, 11147, 16746, 17120, 77578, 401, 656, 1107, 1121, 2316, 717, 10, 66,
    ];

    private static readonly int[] ClassB =
    [
        0, 0, 0, 0, 1, 1, 1, 3, 3, 30, 25, 168, 305, 569, 1129, 50800,
        1645, 1820, 3506, 3258, 3424, 4971, 6885, 39771, 424, 170, 433, 92, 366, 377, 2, 200,
    ];

    private static readonly int[] ClassC =
    [
        0, 0, 0, 0, 0, 0, 0, 12, 8, 9, 33, 69, 237, 1007, 1717, 14663,
        8070, 16185, 48261, 36870, 33960, 50638, 61422, 466549, 1829, 4824, 4927, 5914, 10254, 4905, 1, 716,
    ];

    private const int MaxRuleNum = 1_200_000;

    /// <summary>Builds the table in the autotest's order.</summary>
    public static List<(uint Ip, byte Depth)> Generate()
    {
        var lrand48 = new Lrand48();
        var routes = new List<(uint Ip, byte Depth)>(MaxRuleNum);
        (int[] Counts, int FixedBits, uint Head)[] classes = [(ClassA, 1, 0x0000_0000), (ClassB, 2, 0x8000_0000), (ClassC, 3, 0xC000_0000)];
        foreach ((int[] counts, int fixedBits, uint head) in classes)
        {
            for (int depth = 1; depth <= 32; depth++)
            {
                int ruleNum = counts[depth - 1];
                if (ruleNum == 0)
                    continue;
                // Spread the prefixes evenly over the class: a random start, then a fixed step, wrapping.
                uint range = 1u << (depth - fixedBits);
                uint mask = range - 1;
                uint step = range <= ruleNum ? 1 : (uint)Math.Round((double)range / ruleNum, MidpointRounding.AwayFromZero);
                uint start = lrand48.Next() & mask;
                for (int k = 0; k < ruleNum; k++)
                {
                    routes.Add(((start << (32 - depth)) | head, (byte)depth));
                    start = (start + step) & mask;
                }
            }
        }
        // Four private routes and 0.0.0.0/8, placed as the autotest's insert_rule_in_random_pos does.
        InsertAtRandomPosition(routes, lrand48, 0x0000_0000, 8);
        InsertAtRandomPosition(routes, lrand48, 0x0A02_1793, 32);   // 10.2.23.147
        InsertAtRandomPosition(routes, lrand48, 0xC0A8_640A, 24);   // 192.168.100.10
        InsertAtRandomPosition(routes, lrand48, 0xC0A8_1964, 24);   // 192.168.25.100
        InsertAtRandomPosition(routes, lrand48, 0xC0A8_817C, 32);   // 192.168.129.124
        return routes;
    }

    private static void InsertAtRandomPosition(List<(uint Ip, byte Depth)> routes, Lrand48 lrand48, uint ip, byte depth)
    {
        uint pos;
        int tries = 0;
        do
        {
            pos = lrand48.Next();
            tries++;
        }
        while (tries < 10 && pos > routes.Count);
        if (pos > routes.Count || pos >= MaxRuleNum)
            pos = (uint)routes.Count >> 1;
        if (pos == routes.Count)
        {
            // The autotest writes the rule at the end and then overwrites it with the (zeroed) entry it displaced.
            routes.Add(default);
            return;
        }
        (uint Ip, byte Depth) displaced = routes[(int)pos];
        routes[(int)pos] = (ip, depth);
        if (routes.Count < MaxRuleNum)
            routes.Add(displaced);
    }

    /// <summary>glibc's lrand48: a 48-bit linear congruential generator, a = 0x5DEECE66D, c = 11, unseeded state 0 (glibc starts from zero, not srand48's 0x330E pattern).</summary>
    private sealed class Lrand48
    {
        private ulong _state;

        public uint Next()
        {
            _state = (_state * 0x5_DEEC_E66D + 0xB) & ((1UL << 48) - 1);
            return (uint)(_state >> 17);
        }
    }
}
