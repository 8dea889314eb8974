using Mesh.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Runtime;

/// <summary>Starts and stops the node with the host: the runtime first, then, when the node listens
/// (<see cref="MeshOptions.Endpoint"/>), its cluster side (transport, connections, membership). Stopping runs the other
/// way: the node leaves the cluster (its shards move at once), the runtime drains and deactivates its actors, then the
/// connections close.</summary>
internal sealed class MeshHostedService(MeshRuntime runtime, IOptions<MeshOptions> options, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null) : IHostedService, IAsyncDisposable
{
    private ClusterNode? _cluster;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.Start();
        if (options.Value.Endpoint is not null)
        {
            _cluster = await ClusterNode.StartAsync(runtime, options.Value, loggerFactory, timeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_cluster is { } cluster)
        {
            await cluster.LeaveAsync(cancellationToken).ConfigureAwait(false);
        }

        await runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _cluster, null) is { } cluster)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }
}
