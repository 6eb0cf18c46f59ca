using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace PacketPlane.Tool;

/// <summary>Entry point of the packetplane tool.</summary>
public static class Program
{
    private const string Usage = """
        packetplane: what this machine offers PacketPlane, and the fixes

          packetplane status [--json]
              network interfaces and PCI NICs with their kernel drivers and what PacketPlane can use
              (AF_XDP native/generic, AF_PACKET, VFIO), attached XDP programs, hugepages per node and
              size, IOMMU and VFIO state; every problem comes with the command that fixes it
          packetplane hugepages [--reserve SIZE | --clear] [--node N] [--pagesize 2M|1G]
              show, or set the reserved hugepages to SIZE in total (2G, 512M), machine-wide or on node N
          packetplane bind ADDRESS vfio-pci|kernel [--force] [--dry-run]
              move a PCI function to vfio-pci (for PacketPlane's PCI drivers) or back to its kernel driver;
              refuses the interface that carries the default route unless --force
        """;

    /// <summary>Runs the tool.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool? isRoot = null)
    {
        SystemRoot root = SystemRoot.Real;
        int at = Array.IndexOf(args, "--root");
        if (at >= 0 && at + 1 < args.Length)
        {
            // Hidden: run against a fake sys/proc/dev tree (tests).
            root = new SystemRoot(Path.GetFullPath(args[at + 1]));
            args = args.Take(at).Concat(args.Skip(at + 2)).ToArray();
        }
        bool admin = isRoot ?? Environment.UserName == "root";
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            return args[0] switch
            {
                "status" => Status(args[1..], root, stdout),
                "hugepages" => HugepagesCommand.Run(args[1..], root, stdout, stderr, admin),
                "bind" => BindCommand.Run(args[1..], root, stdout, stderr, admin),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine(Usage);
            return 2;
        }
    }

    private static int Status(string[] args, SystemRoot root, TextWriter stdout)
    {
        bool json = args.Contains("--json");
        if (args.Any(a => a != "--json"))
            throw new UsageException($"status: unexpected argument '{args.First(a => a != "--json")}'");
        IpLinks links = root.IsReal ? XdpProbe.FromIp(out string? note) : FakeLinks(root, out note);
        SystemStatus status = StatusProbe.Probe(root, links, note);
        if (json)
            stdout.WriteLine(JsonSerializer.Serialize(status, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        else
            StatusText.Write(status, stdout);
        return 0;
    }

    // A fake tree may carry the ip -j -d link output it pretends to have (ip-link.json at its root).
    private static IpLinks FakeLinks(SystemRoot root, out string? note)
    {
        note = null;
        string path = Path.Combine(root.Root, "ip-link.json");
        return File.Exists(path) ? XdpProbe.Parse(File.ReadAllText(path)) : XdpProbe.Empty;
    }
}
