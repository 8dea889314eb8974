namespace Mesh.Runtime.Tests.Membership;

/// <summary>A clock that moves only when the test says so. Timers are not supported: the tests that use it drive
/// the rounds themselves, so nothing may wait on this clock.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks = TimeSpan.FromDays(1).Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("The manual clock has no timers; drive the rounds from the test.");

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
