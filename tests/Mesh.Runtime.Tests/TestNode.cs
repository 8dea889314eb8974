using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Runtime.Tests;

/// <summary>A real single-node host for a test: started on creation, stopped on dispose.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private TestNode(IHost host)
    {
        _host = host;
        Mesh = host.Services.GetRequiredService<IMesh>();
        Probe = host.Services.GetRequiredService<Probe>();
    }

    public IMesh Mesh { get; }

    public Probe Probe { get; }

    public IServiceProvider Services => _host.Services;

    internal MeshRuntime Runtime => _host.Services.GetRequiredService<MeshRuntime>();

    public static IHost Build(string[] capabilities, Dictionary<string, string?>? configuration = null, Action<IServiceCollection>? services = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<Probe>();
        builder.Services.AddMesh(mesh => mesh.WithCapabilities(capabilities));
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    public static async Task<TestNode> StartAsync(string[] capabilities, Dictionary<string, string?>? configuration = null, Action<IServiceCollection>? services = null)
    {
        IHost host = Build(capabilities, configuration, services);
        await host.StartAsync(TestContext.Timeout);
        return new TestNode(host);
    }

    public static string NewKey() => Guid.NewGuid().ToString("N");

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _host.StopAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}

/// <summary>Bounds for waiting in tests: every wait ends, pass or fail.</summary>
internal static class TestContext
{
    public static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public static async Task<T> Within<T>(this Task<T> task, int seconds = 30) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    public static async Task Within(this Task task, int seconds = 30) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
