using System.Buffers;
using System.IO.Pipelines;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>Shared pieces of the transport allocation tests.</summary>
internal static class AllocationMeter
{
    /// <summary>
    /// Runs <paramref name="batch"/> <paramref name="batches"/> times and returns the least process-wide allocation per
    /// item. Process-wide figures include whatever the runtime does meanwhile (a thread pool thread injected on a busy
    /// machine, its first pooled boxes, timers): the least of several batches is the per-item cost, since a real
    /// per-item allocation would show in every batch.
    /// </summary>
    public static async Task<double> LeastBytesPerItemAsync(Func<Task> batch, int batches, int itemsPerBatch, string item, ITestOutputHelper output)
    {
        double least = double.MaxValue;
        for (int i = 0; i < batches; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await batch();
            double perItem = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / itemsPerBatch;
            output.WriteLine($"batch {i}: {perItem:0.00} B per {item} (process-wide)");
            least = Math.Min(least, perItem);
        }

        return least;
    }

    /// <summary>Writes back everything <paramref name="connection"/> reads until the peer completes its output.</summary>
    public static async Task EchoAsync(ITransportConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await connection.Input.ReadAsync(cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                connection.Output.Write(segment.Span);
            }

            connection.Input.AdvanceTo(result.Buffer.End);
            await connection.Output.FlushAsync(cancellationToken);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
