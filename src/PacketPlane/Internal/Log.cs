using System;
using Microsoft.Extensions.Logging;

namespace PacketPlane.Internal;

/// <summary>
/// Where PacketPlane's control-path log lines go. Applications hand in their own
/// <see cref="ILoggerFactory"/> through <see cref="EalOptions.LoggerFactory"/>; without one, lines at
/// or above the EAL log level go to standard error so a warning such as "no hugepages" is never lost.
/// </summary>
internal static class Log
{
    private static ILoggerFactory s_factory = new StderrLoggerFactory();

    public static LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    public static ILoggerFactory Factory
    {
        get => s_factory;
        set => s_factory = value ?? new StderrLoggerFactory();
    }

    public static ILogger For(string category) => s_factory.CreateLogger(category);

    public static void Reset()
    {
        s_factory = new StderrLoggerFactory();
        MinimumLevel = LogLevel.Information;
    }

    private sealed class StderrLoggerFactory : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) { }
        public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName);
        public void Dispose() { }
    }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= MinimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            string level = logLevel switch
            {
                LogLevel.Trace => "TRACE",
                LogLevel.Debug => "DEBUG",
                LogLevel.Information => "INFO",
                LogLevel.Warning => "WARNING",
                LogLevel.Error => "ERROR",
                _ => "CRITICAL",
            };
            string shortCategory = category.StartsWith("PacketPlane.", StringComparison.Ordinal) ? category[12..] : category;
            Console.Error.WriteLine($"{shortCategory}: {level}: {formatter(state, exception)}");
        }
    }
}
