using System.Collections.Concurrent;

namespace Mesh.Runtime.Tests;

/// <summary>A singleton the test actors report to, so tests can observe what happened inside them.</summary>
internal sealed class Probe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _signals = new();

    public ConcurrentQueue<string> Events { get; } = new();

    public ConcurrentDictionary<string, int> Counts { get; } = new();

    public int CurrentConcurrency;
    public int MaxConcurrency;

    public void Record(string text)
    {
        Events.Enqueue(text);
        Signal(text);
    }

    public int Increment(string key) => Counts.AddOrUpdate(key, 1, static (_, n) => n + 1);

    public int Count(string key) => Counts.TryGetValue(key, out int n) ? n : 0;

    /// <summary>Completes when <see cref="Record"/> sees <paramref name="text"/> (or saw it already).</summary>
    public Task<string> WhenRecorded(string text) => Slot(text).Task;

    private void Signal(string text) => Slot(text).TrySetResult(text);

    private TaskCompletionSource<string> Slot(string text)
        => _signals.GetOrAdd(text, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>A gate an actor waits on until the test opens it.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    public Task Gate(string key) => Gates.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Open(string key) => Gates.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
