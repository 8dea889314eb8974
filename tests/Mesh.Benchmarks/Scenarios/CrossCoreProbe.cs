using System.Diagnostics;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>
/// Measures how long one cache line takes to go from one core to another and back, right now: two threads pass a
/// counter back and forth. On a VM whose virtual cores the host moves between physical cores, this changes from one
/// moment to the next (65 ns when the two sit close together, about 350 ns when they do not, on the AMD EPYC VM of
/// docs/benchmarks.md), and a run's figures with it; the runner records it beside each measured pass, so that runs can be
/// compared with the machine in the same state.
/// </summary>
internal static class CrossCoreProbe
{
    /// <summary>The name of the figure in a scenario's results: measured just before the measured calls, it is the
    /// state of the machine, not a cost of either framework (its Mesh/Orleans ratio shows whether both met the machine
    /// alike).</summary>
    public const string MetricName = "cross-core round trip";

    private const int RoundTrips = 20_000;

    /// <summary>How long all the round trips may take before the probe gives up: long enough for 20,000 of the slowest
    /// real ones, too short for a thread that keeps waiting for a core (a busy machine, or one with a single core).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(200);

    private static int s_ball;

    /// <summary>Gets the mean round trip in nanoseconds, or <see cref="double.NaN"/> when the round trips did not all
    /// finish within <see cref="Patience"/> (the figure would measure the scheduler, not the caches).</summary>
    public static double MeasureRoundTrip()
    {
        Volatile.Write(ref s_ball, 0);
        long deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        var answerer = new Thread(() => Play(first: 1, deadline)) { IsBackground = true, Name = "cross-core probe" };
        answerer.Start();
        long start = Stopwatch.GetTimestamp();
        bool played = Play(first: 0, deadline);
        double nanoseconds = Stopwatch.GetElapsedTime(start).TotalNanoseconds / RoundTrips;
        answerer.Join();
        return played ? nanoseconds : double.NaN;
    }

    /// <summary>Waits for the counter to reach each of <paramref name="first"/>, first + 2, … and then moves it on by
    /// one; false when the deadline passed first (the other side then stops too, as it waits for a value that never
    /// comes, until its own deadline).</summary>
    private static bool Play(int first, long deadline)
    {
        for (int value = first; value < 2 * RoundTrips; value += 2)
        {
            int spins = 0;
            while (Volatile.Read(ref s_ball) != value)
            {
                if (++spins % 1024 == 0 && Stopwatch.GetTimestamp() > deadline)
                {
                    return false;
                }
            }

            Volatile.Write(ref s_ball, value + 1);
        }

        return true;
    }
}
