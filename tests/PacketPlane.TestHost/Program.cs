using System;
using System.Linq;
using System.Reflection;

namespace PacketPlane.TestHost;

/// <summary>A scenario the integration tests run in a separate process.</summary>
public interface IScenario
{
    /// <summary>Name given as the first argument.</summary>
    string Name { get; }

    /// <summary>Runs the scenario. Print "ready" once set up, so the test knows when to act (e.g. kill).</summary>
    int Run(string[] args);
}

public static class Program
{
    public static int Main(string[] args)
    {
        IScenario[] scenarios = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IScenario).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
            .Select(t => (IScenario)Activator.CreateInstance(t)!)
            .ToArray();
        IScenario? scenario = args.Length == 0 ? null : scenarios.FirstOrDefault(s => s.Name == args[0]);
        if (scenario is null)
        {
            Console.Error.WriteLine($"usage: PacketPlane.TestHost SCENARIO [args]; scenarios: {string.Join(", ", scenarios.Select(s => s.Name))}");
            return 2;
        }
        return scenario.Run(args[1..]);
    }
}
