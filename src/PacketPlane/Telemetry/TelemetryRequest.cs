using System;
using System.Text;

namespace PacketPlane.Telemetry;

/// <summary>
/// One request read from the telemetry socket, split as DPDK's telemetry library splits it: the text ends at the
/// first NUL byte; leading commas are skipped; the command runs to the next comma; everything after that comma
/// (if anything) is the parameter string. <c>/ethdev/stats,0</c> gives command <c>/ethdev/stats</c> and
/// parameters <c>0</c>.
/// </summary>
public readonly record struct TelemetryRequest(string? Command, string? Parameters)
{
    /// <summary>Longest request DPDK's server reads (its buffer is 1024 bytes with room for a terminator).</summary>
    public const int MaxRequestBytes = 1023;

    /// <summary>Parses raw request bytes (any bytes: invalid UTF-8 becomes U+FFFD). Never throws.</summary>
    public static TelemetryRequest Parse(ReadOnlySpan<byte> raw)
    {
        if (raw.Length > MaxRequestBytes)
            raw = raw[..MaxRequestBytes];
        int nul = raw.IndexOf((byte)0);
        if (nul >= 0)
            raw = raw[..nul];
        int start = 0;
        while (start < raw.Length && raw[start] == (byte)',')
            start++;
        if (start == raw.Length)
            return new TelemetryRequest(null, null);
        ReadOnlySpan<byte> rest = raw[start..];
        int comma = rest.IndexOf((byte)',');
        if (comma < 0)
            return new TelemetryRequest(Encoding.UTF8.GetString(rest), null);
        ReadOnlySpan<byte> parameters = rest[(comma + 1)..];
        return new TelemetryRequest(Encoding.UTF8.GetString(rest[..comma]), parameters.IsEmpty ? null : Encoding.UTF8.GetString(parameters));
    }

    /// <summary>Parses a request given as text.</summary>
    public static TelemetryRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(Encoding.UTF8.GetBytes(text));
    }
}
