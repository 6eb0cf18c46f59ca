using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PacketPlane.Net;

namespace PacketPlane.Ethdev;

/// <summary>
/// A parsed DPDK device string: <c>net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap</c> gives device name
/// <c>net_pcap0</c> and two key/value arguments. Values may hold commas inside brackets (<c>queues=[0,1]</c>).
/// Drivers read their arguments through the typed getters, which name the key and the expected form when a
/// value is malformed. A key may be given more than once only where the driver says so
/// (<see cref="Driver.EthDriver.RepeatableParameters"/>; DPDK's pcap PMD takes one rx_pcap per queue); the getters
/// return the first value and <see cref="GetAll"/> every one.
/// </summary>
public sealed class DeviceArguments
{
    private readonly Dictionary<string, string> _values;
    private readonly Dictionary<string, List<string>> _repeated;

    private DeviceArguments(string text, string deviceName, Dictionary<string, string> values, Dictionary<string, List<string>> repeated)
    {
        Text = text;
        DeviceName = deviceName;
        _values = values;
        _repeated = repeated;
    }

    /// <summary>The device string as given.</summary>
    public string Text { get; }

    /// <summary>The device name (text before the first comma), e.g. net_null0.</summary>
    public string DeviceName { get; }

    /// <summary>The keys given, in order of appearance.</summary>
    public IReadOnlyCollection<string> Keys => _values.Keys;

    /// <summary>Parses a device string (a repeated key is refused later, by <see cref="CheckKeys"/>, unless the driver allows it).</summary>
    /// <exception cref="DeviceArgumentException">Empty name, an argument without '=', unbalanced brackets.</exception>
    public static DeviceArguments Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<string> parts = SplitTopLevel(text);
        string name = parts[0].Trim();
        if (name.Length == 0)
            throw new DeviceArgumentException($"device string '{text}' has no device name; expected NAME[,key=value,...] such as net_null0,size=64");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var repeated = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string raw in parts.Skip(1))
        {
            string part = raw.Trim();
            if (part.Length == 0)
                continue;
            int eq = part.IndexOf('=');
            if (eq <= 0)
                throw new DeviceArgumentException($"device '{name}': argument '{part}' is not key=value");
            string key = part[..eq].Trim();
            string value = part[(eq + 1)..].Trim();
            if (!values.TryAdd(key, value))
            {
                if (!repeated.TryGetValue(key, out List<string>? more))
                    repeated[key] = more = new List<string>();
                more.Add(value);
            }
        }
        return new DeviceArguments(text, name, values, repeated);
    }

    /// <summary>True when <paramref name="key"/> was given.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>The raw value of <paramref name="key"/> (its first, if repeated), or null.</summary>
    public string? GetString(string key) => _values.TryGetValue(key, out string? v) ? v : null;

    /// <summary>Every value given for <paramref name="key"/>, in order (empty when absent).</summary>
    public IReadOnlyList<string> GetAll(string key)
    {
        if (!_values.TryGetValue(key, out string? first))
            return [];
        return _repeated.TryGetValue(key, out List<string>? more) ? [first, .. more] : [first];
    }

    /// <summary>The value of a required key.</summary>
    public string GetRequiredString(string key, string form)
    {
        string? v = GetString(key);
        if (string.IsNullOrEmpty(v))
            throw new DeviceArgumentException($"device '{DeviceName}' needs {key}={form}");
        return v;
    }

    /// <summary>An integer value in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="defaultValue"/> when absent. Accepts 0x hex.</summary>
    public long GetInt64(string key, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        string? v = GetString(key);
        if (v is null)
            return defaultValue;
        bool ok = v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long n)
            : long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out n);
        if (!ok || n < min || n > max)
            throw new DeviceArgumentException($"device '{DeviceName}': {key}={v} is not valid; expected a whole number from {min} to {max}");
        return n;
    }

    /// <summary>An int value; see <see cref="GetInt64"/>.</summary>
    public int GetInt32(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetInt64(key, defaultValue, min, max);

    /// <summary>A 0/1 flag (also accepts true/false, yes/no).</summary>
    public bool GetBool(string key, bool defaultValue)
    {
        string? v = GetString(key);
        if (v is null)
            return defaultValue;
        return v.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" => true,
            "0" or "false" or "no" or "off" => false,
            _ => throw new DeviceArgumentException($"device '{DeviceName}': {key}={v} is not valid; expected 0 or 1"),
        };
    }

    /// <summary>A MAC address value.</summary>
    public MacAddress? GetMac(string key)
    {
        string? v = GetString(key);
        if (v is null)
            return null;
        if (!MacAddress.TryParse(v, out MacAddress mac))
            throw new DeviceArgumentException($"device '{DeviceName}': {key}={v} is not a MAC address; expected six hexadecimal bytes such as 02:00:00:00:00:01");
        return mac;
    }

    /// <summary>
    /// Throws when a key is not one of <paramref name="validKeys"/>, listing the valid ones with their meaning, or
    /// when a key is given twice that is not in <paramref name="repeatableKeys"/>.
    /// </summary>
    public void CheckKeys(string driverName, IReadOnlyDictionary<string, string> validKeys, IReadOnlyCollection<string>? repeatableKeys = null)
    {
        foreach (string key in _values.Keys)
        {
            if (!validKeys.ContainsKey(key))
            {
                string valid = validKeys.Count == 0
                    ? "it takes no arguments"
                    : "valid arguments: " + string.Join("; ", validKeys.Select(kv => $"{kv.Key} ({kv.Value})"));
                throw new DeviceArgumentException($"device '{DeviceName}': unknown argument '{key}' for driver {driverName}; {valid}");
            }
        }
        foreach (string key in _repeated.Keys)
        {
            if (repeatableKeys is null || !repeatableKeys.Contains(key))
            {
                string which = repeatableKeys is { Count: > 0 } ? $" (only {string.Join(", ", repeatableKeys)} may repeat)" : "";
                throw new DeviceArgumentException($"device '{DeviceName}': argument '{key}' is given twice{which}");
            }
        }
    }

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '[' || c == '(')
                depth++;
            else if (c == ']' || c == ')')
            {
                if (--depth < 0)
                    throw new DeviceArgumentException($"device string '{text}' has an unbalanced '{c}' at position {i}");
            }
            else if (c == ',' && depth == 0)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }
        if (depth != 0)
            throw new DeviceArgumentException($"device string '{text}' has an unclosed bracket");
        parts.Add(text[start..]);
        return parts;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>A malformed device string, an unknown driver or argument, or a bad argument value.</summary>
public sealed class DeviceArgumentException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public DeviceArgumentException(string message) : base(message) { }
}

/// <summary>A port operation failed (bad state, unsupported configuration, driver failure).</summary>
public sealed class EthDevException : PacketPlaneException
{
    /// <summary>Creates the exception.</summary>
    public EthDevException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public EthDevException(string message, System.Exception inner) : base(message, inner) { }
}
