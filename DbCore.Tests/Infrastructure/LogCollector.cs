using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DbCore.Tests.Infrastructure;

/// <summary>One log record as written: message, exception text and structured values.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, string? Exception, IReadOnlyDictionary<string, object?> Values)
{
    public object? this[string key] => Values.TryGetValue(key, out object? value) ? value : null;

    /// <summary>Everything a sink could write out: category, message, exception with inner ones and stack, each value.</summary>
    public string AllText => string.Join("\n", new[] { Category, Message, Exception ?? "" }.Concat(Values.Select(v => v.Key + "=" + v.Value)));
}

/// <summary>A real logger provider (and factory) that keeps every record at every level, to assert what DbCore logged.</summary>
public sealed class LogCollector : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<LogRecord> Records => _records.ToArray();

    public IReadOnlyList<LogRecord> Named(string eventName) => _records.Where(r => r.EventId.Name == eventName).ToArray();

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _records);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    values[pair.Key] = pair.Value;
                }
            }

            records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception?.ToString(), values));
        }
    }
}
