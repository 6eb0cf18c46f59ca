using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using PacketPlane.Bus.Pci;

namespace PacketPlane.Tool;

/// <summary>One write to a sysfs file.</summary>
internal sealed record SysfsWrite(string Path, string Value, string Why);

/// <summary>What binding a device would do, or why it will not.</summary>
internal sealed record BindPlan(string Address, string? CurrentDriver, string Target, IReadOnlyList<SysfsWrite> Writes, string? Refusal, IReadOnlyList<string> Warnings)
{
    public bool NothingToDo => Refusal is null && Writes.Count == 0;
}

/// <summary>
/// <c>packetplane bind ADDRESS vfio-pci|kernel [--force] [--dry-run]</c>, as dpdk-devbind.py: moves a PCI function
/// to vfio-pci (for PacketPlane's PCI poll-mode drivers) or back to its kernel driver, through driver_override,
/// unbind and drivers_probe. Refuses to take the interface that carries the default route (this machine's way
/// out) unless --force.
/// </summary>
internal static class BindCommand
{
    public static int Run(string[] args, SystemRoot root, TextWriter stdout, TextWriter stderr, bool isRoot)
    {
        string[] positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        bool force = args.Contains("--force");
        bool dryRun = args.Contains("--dry-run");
        string? unknown = args.FirstOrDefault(a => a.StartsWith("--", StringComparison.Ordinal) && a is not "--force" and not "--dry-run");
        if (unknown is not null || positional.Length != 2)
            throw new UsageException("usage: packetplane bind ADDRESS vfio-pci|kernel [--force] [--dry-run]" + (unknown is null ? "" : $" (unknown option {unknown})"));
        BindPlan plan = Plan(root, positional[0], positional[1], force);
        foreach (string w in plan.Warnings)
            stderr.WriteLine($"warning: {w}");
        if (plan.Refusal is not null)
        {
            stderr.WriteLine($"error: {plan.Refusal}");
            return 1;
        }
        if (plan.NothingToDo)
        {
            stdout.WriteLine($"{plan.Address} is already bound to {plan.CurrentDriver}; nothing to do");
            return 0;
        }
        foreach (SysfsWrite w in plan.Writes)
            stdout.WriteLine($"{(dryRun ? "would write" : "write")} '{w.Value.Trim()}' to {w.Path}   ({w.Why})");
        if (dryRun)
            return 0;
        if (!isRoot && root.IsReal)
        {
            stderr.WriteLine($"error: binding writes to sysfs and needs root: sudo packetplane bind {string.Join(' ', args)}");
            return 1;
        }
        return Execute(root, plan, stdout, stderr);
    }

    /// <summary>Works out the writes, or the refusal, without touching anything.</summary>
    public static BindPlan Plan(SystemRoot root, string addressText, string target, bool force)
    {
        if (!PciAddress.TryParse(addressText, out PciAddress parsed))
            return Refuse(addressText, null, target, $"'{addressText}' is not a PCI address; expected DOMAIN:BUS:DEVICE.FUNCTION such as 0000:03:00.0 (see: packetplane status)");
        string address = parsed.ToString();
        if (target is not "vfio-pci" and not "kernel")
            return Refuse(address, null, target, $"unknown target '{target}': expected vfio-pci or kernel");
        string dev = root.Sys($"bus/pci/devices/{address}");
        if (!Directory.Exists(dev))
            return Refuse(address, null, target, $"there is no PCI device {address}; PCI network devices are listed by: packetplane status");
        string? current = SystemRoot.LinkTarget(Path.Combine(dev, "driver"));
        var warnings = new List<string>();
        string[] interfaces = StatusProbe.InterfacesOf(root, address);
        HashSet<string> routes = StatusProbe.DefaultRoutes(root);
        string? routed = interfaces.FirstOrDefault(routes.Contains);
        bool leavingKernel = target == "vfio-pci" && current != "vfio-pci";
        if (routed is not null && leavingKernel)
        {
            if (!force)
                return Refuse(address, current, target, $"{address} is {routed}, which carries the default route: unbinding it cuts this machine off the network. " +
                    "Pick another device, or add --force if you really mean it");
            warnings.Add($"{address} is {routed}, which carries the default route; --force given, unbinding anyway");
        }
        string driverOverride = Path.Combine(dev, "driver_override");
        string probe = root.Sys("bus/pci/drivers_probe");
        var writes = new List<SysfsWrite>();
        if (target == "vfio-pci")
        {
            if (current == "vfio-pci")
                return new BindPlan(address, current, target, writes, null, warnings);
            if (!Directory.Exists(root.Sys("bus/pci/drivers/vfio-pci")))
                return Refuse(address, current, target, "the vfio-pci driver is not loaded: modprobe vfio-pci");
            string? group = SystemRoot.LinkTarget(Path.Combine(dev, "iommu_group"));
            if (group is null)
                return Refuse(address, current, target, $"{address} has no IOMMU group, so VFIO cannot isolate it. Enable the IOMMU (VT-d/AMD-Vi in firmware, " +
                    "intel_iommu=on iommu=pt or amd_iommu=on at boot); without one: echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode (no DMA protection)");
            AddGroupWarnings(root, address, group, warnings);
            if (interfaces.Length > 0)
                warnings.Add($"{address} carries interface(s) {string.Join(",", interfaces)}; they disappear from the kernel while bound to vfio-pci");
            writes.Add(new SysfsWrite(driverOverride, "vfio-pci", "only vfio-pci may claim the device"));
        }
        else
        {
            if (current is not null && current != "vfio-pci")
                return new BindPlan(address, current, target, writes, null, warnings);
            writes.Add(new SysfsWrite(driverOverride, "\n", "clear the override so the kernel's own driver matches again"));
        }
        if (current is not null)
            writes.Add(new SysfsWrite(Path.Combine(dev, "driver", "unbind"), address, $"release it from {current}"));
        writes.Add(new SysfsWrite(probe, address, "let the matching driver claim it"));
        return new BindPlan(address, current, target, writes, null, warnings);
    }

    private static int Execute(SystemRoot root, BindPlan plan, TextWriter stdout, TextWriter stderr)
    {
        foreach (SysfsWrite w in plan.Writes)
        {
            try
            {
                File.WriteAllText(w.Path, w.Value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"error: writing '{w.Value.Trim()}' to {w.Path} failed: {e.Message}");
                return 1;
            }
        }
        string? now = SystemRoot.LinkTarget(root.Sys($"bus/pci/devices/{plan.Address}/driver"));
        bool ok = plan.Target == "vfio-pci" ? now == "vfio-pci" : now is not null && now != "vfio-pci";
        if (!ok)
        {
            stderr.WriteLine($"error: {plan.Address} is now bound to {now ?? "no driver"}, not {(plan.Target == "vfio-pci" ? "vfio-pci" : "a kernel driver")}. " +
                "See dmesg for the driver's reason");
            return 1;
        }
        stdout.WriteLine($"{plan.Address}: {plan.CurrentDriver ?? "no driver"} -> {now}");
        return 0;
    }

    private static void AddGroupWarnings(SystemRoot root, string address, string group, List<string> warnings)
    {
        // VFIO hands out whole groups: every other device in it must be unbound or on vfio-pci too.
        foreach (string member in SystemRoot.List(root.Sys($"kernel/iommu_groups/{group}/devices")).Select(p => Path.GetFileName(p)).Where(m => m != address))
        {
            string? driver = SystemRoot.LinkTarget(root.Sys($"bus/pci/devices/{member}/driver"));
            if (driver is not null && driver != "vfio-pci")
                warnings.Add($"IOMMU group {group} also holds {member} (driver {driver}); VFIO can open the group only when it is unbound or bound to vfio-pci too");
        }
    }

    private static BindPlan Refuse(string address, string? current, string target, string why) => new(address, current, target, [], why, []);
}
