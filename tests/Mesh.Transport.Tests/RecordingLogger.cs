using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tests;

/// <summary>An <see cref="ILogger"/> that keeps every entry, for tests that check what was logged.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public IReadOnlyCollection<(EventId Id, LogLevel Level, string Message, Exception? Exception)> Entries => _entries;

    public int Count(int eventId) => _entries.Count(e => e.Id.Id == eventId);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _entries.Enqueue((eventId, logLevel, formatter(state, exception), exception));
}
