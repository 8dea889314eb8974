using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Dashboard;

/// <summary>Runs the dashboard's own small web server next to the node, so the application's host does not have to be a
/// web application: <c>/</c> is the page, <c>/api/cluster</c> the current picture as JSON, <c>/api/stream</c> the same
/// as server-sent events, one per refresh.</summary>
internal sealed partial class DashboardHostedService(IDashboardSource source, IOptions<MeshDashboardOptions> options, ILogger<DashboardHostedService> logger) : IHostedService, IAsyncDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private readonly MeshDashboardOptions _options = options.Value;
    private readonly CancellationTokenSource _stopping = new();
    private DashboardState? _state;
    private WebApplication? _app;
    private Task? _refreshLoop;

    /// <summary>Gets the URL the dashboard listens on, once started (with the actual port when port 0 was asked for).</summary>
    public Uri? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _state = new DashboardState(source, _options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(_options.Url);
        WebApplication app = builder.Build();
        DashboardState state = _state;
        app.MapGet("/", static async context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            await using Stream page = typeof(DashboardHostedService).Assembly.GetManifestResourceStream("Mesh.Dashboard.index.html")!;
            await page.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        app.MapGet("/api/cluster", () => Results.Json(state.Latest, DashboardJsonContext.Default.DashboardSnapshot));
        app.MapGet("/api/stream", (HttpContext context) => StreamAsync(context, state));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address);
        LogListening(logger, address);
        _refreshLoop = RefreshLoopAsync(state, _stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_refreshLoop is not null)
        {
            await _refreshLoop.ConfigureAwait(false);
        }

        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _state?.Dispose();
        _stopping.Dispose();
    }

    private async Task StreamAsync(HttpContext context, DashboardState state)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        using var timer = new PeriodicTimer(_options.RefreshInterval);
        try
        {
            do
            {
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(state.Latest, DashboardJsonContext.Default.DashboardSnapshot);
                await context.Response.Body.WriteAsync(DataPrefix, linked.Token).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(json, linked.Token).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(EventEnd, linked.Token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(linked.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(linked.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // The page closed or the node is stopping.
        }
    }

    private async Task RefreshLoopAsync(DashboardState state, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.RefreshInterval);
        try
        {
            do
            {
                try
                {
                    await state.RefreshAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogRefreshFailed(logger, exception);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Mesh dashboard: {Url}")]
    private static partial void LogListening(ILogger logger, string url);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "The Mesh dashboard could not refresh its picture of the cluster")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
