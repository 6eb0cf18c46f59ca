using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text.Json;

namespace PacketPlane.Tool;

/// <summary>An XDP program attached to an interface.</summary>
internal sealed record XdpAttachment(string Interface, string Mode, int ProgramId, string? ProgramName);

/// <summary>What iproute2 says about the links: XDP programs and link kinds (veth, tun, bridge).</summary>
internal sealed record IpLinks(IReadOnlyList<XdpAttachment> Xdp, IReadOnlyDictionary<string, string> Kinds);

/// <summary>
/// XDP programs attached to the interfaces of this network namespace, from iproute2's JSON output
/// (<c>ip -j -d link show</c>: the <c>xdp</c> object, <c>mode</c> as in linux/if_link.h XDP_ATTACHED_*).
/// </summary>
internal static class XdpProbe
{
    /// <summary>Runs <c>ip -j -d link show</c>; an empty list (and a note) when ip is missing or fails.</summary>
    public static IpLinks FromIp(out string? note)
    {
        note = null;
        try
        {
            var psi = new ProcessStartInfo("ip", ["-j", "-d", "link", "show"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using Process p = Process.Start(psi)!;
            string json = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000) || p.ExitCode != 0)
            {
                note = "'ip -j -d link show' failed; XDP attachments unknown";
                return Empty;
            }
            return Parse(json);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            note = "iproute2 ('ip') not found; XDP attachments unknown (apt-get install iproute2)";
            return Empty;
        }
    }

    public static IpLinks Empty { get; } = new([], new Dictionary<string, string>());

    /// <summary>Parses <c>ip -j -d link show</c> output.</summary>
    public static IpLinks Parse(string json)
    {
        var list = new List<XdpAttachment>();
        var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonElement link in doc.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("ifname", out JsonElement name))
                continue;
            if (link.TryGetProperty("linkinfo", out JsonElement info) && info.TryGetProperty("info_kind", out JsonElement kind))
                kinds[name.GetString()!] = kind.GetString()!;
            if (!link.TryGetProperty("xdp", out JsonElement xdp))
                continue;
            if (xdp.TryGetProperty("attached", out JsonElement attached) && attached.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement a in attached.EnumerateArray())
                    Add(list, name.GetString()!, a);
            }
            else
            {
                Add(list, name.GetString()!, xdp);
            }
        }
        return new IpLinks(list, kinds);
    }

    private static void Add(List<XdpAttachment> list, string ifname, JsonElement entry)
    {
        if (!entry.TryGetProperty("prog", out JsonElement prog) || !prog.TryGetProperty("id", out JsonElement id))
            return;
        int mode = entry.TryGetProperty("mode", out JsonElement m) && m.TryGetInt32(out int v) ? v : 0;
        string? progName = prog.TryGetProperty("name", out JsonElement n) ? n.GetString() : null;
        list.Add(new XdpAttachment(ifname, ModeName(mode), id.GetInt32(), progName));
    }

    // linux/if_link.h: XDP_ATTACHED_NONE 0, DRV 1, SKB 2, HW 3, MULTI 4.
    private static string ModeName(int mode) => mode switch
    {
        1 => "native",
        2 => "generic",
        3 => "offload",
        4 => "multi",
        _ => "unknown",
    };
}
