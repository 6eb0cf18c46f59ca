using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace PacketPlane.Tests.Fuzz;

/// <summary>
/// A seeded mutation fuzzer for parsers. Each case is a valid seed input mutated one to four times (bit flips,
/// interesting bytes, dictionary tokens, deletions, duplications, splices with other seeds, boundary numbers), or
/// plain random bytes. The target must either accept the input or throw an exception the policy accepts; anything
/// else fails with the seed and case number needed to replay it, and the input itself.
/// To fuzz a new parser: give it seeds (valid inputs), a few tokens of its syntax, and a target delegate.
/// </summary>
public sealed class Fuzzer
{
    /// <summary>Cases per parser: PACKETPLANE_FUZZ_ITERATIONS, default 100,000.</summary>
    public static int DefaultIterations =>
        int.TryParse(Environment.GetEnvironmentVariable("PACKETPLANE_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 100_000;

    /// <summary>Seed of the random generator: PACKETPLANE_FUZZ_SEED, default a fixed value so CI runs repeat.</summary>
    public static int DefaultSeed =>
        int.TryParse(Environment.GetEnvironmentVariable("PACKETPLANE_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 20261122;

    private static readonly byte[] s_interesting = [0, 1, 0x7f, 0x80, 0xff, (byte)',', (byte)'=', (byte)'[', (byte)']', (byte)'(', (byte)')',
        (byte)'-', (byte)'@', (byte)':', (byte)'.', (byte)'/', (byte)' ', (byte)'0', (byte)'9', (byte)'x', 0xc3, 0xe2];

    private static readonly string[] s_numbers = ["0", "-1", "1", "7", "255", "256", "1023", "1024", "65535", "65536", "2147483647",
        "2147483648", "4294967296", "-2147483648", "9223372036854775808", "99999999999999999999999", "0x", "0xffffffff", "1e9", "+1", "00"];

    private readonly Random _random;
    private readonly byte[][] _seeds;
    private readonly byte[][] _tokens;

    /// <summary>Creates a fuzzer over <paramref name="seeds"/> with syntax <paramref name="tokens"/> to splice in.</summary>
    public Fuzzer(int seed, IEnumerable<byte[]> seeds, IEnumerable<string> tokens)
    {
        _random = new Random(seed);
        _seeds = seeds.ToArray();
        _tokens = tokens.Concat(s_numbers).Select(Encoding.UTF8.GetBytes).ToArray();
        if (_seeds.Length == 0)
            throw new ArgumentException("a fuzzer needs at least one seed input");
    }

    /// <summary>Most bytes in a generated input.</summary>
    public int MaxLength { get; init; } = 8192;

    /// <summary>The next input.</summary>
    public byte[] Next()
    {
        if (_random.Next(20) == 0)
            return RandomBytes(_random.Next(0, 64));
        var data = new List<byte>(_seeds[_random.Next(_seeds.Length)]);
        int mutations = 1 + _random.Next(4);
        for (int i = 0; i < mutations; i++)
            Mutate(data);
        if (data.Count > MaxLength)
            data.RemoveRange(MaxLength, data.Count - MaxLength);
        return data.ToArray();
    }

    private void Mutate(List<byte> d)
    {
        int at = d.Count == 0 ? 0 : _random.Next(d.Count);
        switch (_random.Next(9))
        {
            case 0 when d.Count > 0:
                d[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when d.Count > 0:
                d[at] = s_interesting[_random.Next(s_interesting.Length)];
                break;
            case 2:
                d.InsertRange(at, _tokens[_random.Next(_tokens.Length)]);
                break;
            case 3 when d.Count > 0:
                d.RemoveRange(at, Math.Min(d.Count - at, 1 + _random.Next(8)));
                break;
            case 4 when d.Count > 0:
            {
                int len = Math.Min(d.Count - at, 1 + _random.Next(16));
                d.InsertRange(_random.Next(d.Count + 1), d.GetRange(at, len));
                break;
            }
            case 5:
                d.RemoveRange(at, d.Count - at);
                break;
            case 6:
            {
                byte[] other = _seeds[_random.Next(_seeds.Length)];
                int from = other.Length == 0 ? 0 : _random.Next(other.Length);
                d.RemoveRange(at, d.Count - at);
                d.AddRange(other.Skip(from));
                break;
            }
            case 7:
                ReplaceNumber(d);
                break;
            default:
                d.InsertRange(at, RandomBytes(1 + _random.Next(4)));
                break;
        }
    }

    private void ReplaceNumber(List<byte> d)
    {
        int digit = d.FindIndex(_random.Next(Math.Max(1, d.Count)), b => b >= '0' && b <= '9');
        byte[] number = Encoding.ASCII.GetBytes(s_numbers[_random.Next(s_numbers.Length)]);
        if (digit < 0)
        {
            d.AddRange(number);
            return;
        }
        int end = digit;
        while (end < d.Count && d[end] >= '0' && d[end] <= '9')
            end++;
        d.RemoveRange(digit, end - digit);
        d.InsertRange(digit, number);
    }

    private byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        _random.NextBytes(b);
        return b;
    }

    /// <summary>
    /// Runs <paramref name="iterations"/> cases through <paramref name="target"/>. An exception that
    /// <paramref name="acceptable"/> refuses fails the run with everything needed to replay the case.
    /// </summary>
    public static FuzzResult Run(string name, IEnumerable<byte[]> seeds, IEnumerable<string> tokens, Action<byte[]> target,
        Func<Exception, bool> acceptable, int? iterations = null, int? seed = null)
    {
        int n = iterations ?? DefaultIterations;
        int s = seed ?? DefaultSeed;
        var fuzzer = new Fuzzer(s, seeds, tokens);
        var result = new FuzzResult(name, n);
        for (int i = 0; i < n; i++)
        {
            byte[] input = fuzzer.Next();
            try
            {
                target(input);
                result.Accepted++;
            }
            catch (Exception e) when (acceptable(e))
            {
                result.Rejected++;
                result.ExceptionTypes[e.GetType().Name] = result.ExceptionTypes.GetValueOrDefault(e.GetType().Name) + 1;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(
                    $"fuzz {name}: case {i} (replay with PACKETPLANE_FUZZ_SEED={s}) threw {e.GetType().Name}: {e.Message}\n" +
                    $"input ({input.Length} bytes): {Describe(input)}\n{e}");
            }
        }
        return result;
    }

    /// <summary>
    /// The policy for control-path parsers: PacketPlaneException subclasses and the ArgumentException family only, with
    /// a message that says something (never NullReference, IndexOutOfRange, Format, Overflow or InvalidCast).
    /// </summary>
    public static bool ControlPathError(Exception e) =>
        (e is PacketPlaneException || e is ArgumentException) && e.Message.Length >= 20 && e.InnerException is null or PacketPlaneException or ArgumentException;

    /// <summary>Input as text with escapes, for failure messages.</summary>
    public static string Describe(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        var sb = new StringBuilder("\"");
        foreach (char c in text)
            sb.Append(c < 32 || c > 126 ? $"\\u{(int)c:x4}" : c == '"' ? "\\\"" : c.ToString());
        return sb.Append('"').ToString();
    }

    /// <summary>Bytes as a string (invalid UTF-8 becomes U+FFFD, as a real reader of untrusted text would see it).</summary>
    public static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    /// <summary>Strings from bytes split at NUL: mutations then add, drop, merge and split arguments too.</summary>
    public static string[] Arguments(byte[] input) => Text(input).Split('\0');

    /// <summary>Joins arguments with NUL, the inverse of <see cref="Arguments"/>, for seeds.</summary>
    public static byte[] JoinArguments(params string[] args) => Encoding.UTF8.GetBytes(string.Join('\0', args));
}

/// <summary>What a fuzz run saw.</summary>
public sealed class FuzzResult(string name, int cases)
{
    public string Name { get; } = name;
    public int Cases { get; } = cases;
    public int Accepted { get; set; }
    public int Rejected { get; set; }
    public Dictionary<string, int> ExceptionTypes { get; } = new();

    public override string ToString() =>
        $"{Name}: {Cases} cases, {Accepted} accepted, {Rejected} rejected ({string.Join(", ", ExceptionTypes.Select(kv => $"{kv.Key} {kv.Value}"))})";
}
