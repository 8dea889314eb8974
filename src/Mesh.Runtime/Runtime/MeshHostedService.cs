using Microsoft.Extensions.Hosting;

namespace Mesh.Runtime;

/// <summary>Starts the node with the host and deactivates every actor when the host stops.</summary>
internal sealed class MeshHostedService(MeshRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAsync(cancellationToken);
}
