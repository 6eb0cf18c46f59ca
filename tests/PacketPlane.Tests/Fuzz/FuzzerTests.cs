using System;
using System.Linq;
using System.Text;
using Xunit;

namespace PacketPlane.Tests.Fuzz;

/// <summary>The harness itself: deterministic per seed, mutates, and turns a wrong exception into a replayable failure.</summary>
public class FuzzerTests
{
    [Fact]
    public void Same_seed_gives_the_same_inputs_and_inputs_differ_from_the_seeds()
    {
        byte[][] seeds = [Encoding.UTF8.GetBytes("net_null0,size=64")];
        var f1 = new Fuzzer(42, seeds, ["="]);
        var f2 = new Fuzzer(42, seeds, ["="]);
        byte[][] one = Enumerable.Range(0, 200).Select(_ => f1.Next()).ToArray();
        byte[][] two = Enumerable.Range(0, 200).Select(_ => f2.Next()).ToArray();
        Assert.Equal(one, two);
        Assert.True(one.Count(x => !x.SequenceEqual(seeds[0])) > 190);
        Assert.True(one.Select(Convert.ToHexString).Distinct().Count() > 150);
    }

    [Fact]
    public void An_unexpected_exception_fails_with_the_seed_case_and_input()
    {
        var e = Assert.ThrowsAny<Exception>(() => Fuzzer.Run("self-test", [Encoding.UTF8.GetBytes("abc")], [], input =>
        {
            if (input.Length > 3)
                throw new IndexOutOfRangeException("simulated parser bug");
            throw new ArgumentException("this input is refused, as it should be");
        }, Fuzzer.ControlPathError, iterations: 1000, seed: 1));
        Assert.Contains("PACKETPLANE_FUZZ_SEED=1", e.Message);
        Assert.Contains("IndexOutOfRangeException", e.Message);
        Assert.Contains("input (", e.Message);
    }

    [Fact]
    public void The_control_path_policy_accepts_only_named_errors()
    {
        Assert.True(Fuzzer.ControlPathError(new EalArgumentException("invalid --iova-mode 'x': expected va or pa")));
        Assert.True(Fuzzer.ControlPathError(new ArgumentOutOfRangeException("n", "queue 9 is beyond the limit")));
        Assert.False(Fuzzer.ControlPathError(new NullReferenceException()));
        Assert.False(Fuzzer.ControlPathError(new FormatException("bad")));
        Assert.False(Fuzzer.ControlPathError(new ArgumentException("")));
        Assert.False(Fuzzer.ControlPathError(new PacketPlaneException("wrapped something else", new IndexOutOfRangeException())));
    }
}
