using Mesh;
using Mesh.Cluster.TestNode;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A cluster node for the multi-process tests. Every setting comes from the command line as configuration
// (--Mesh:Endpoint=127.0.0.1:7401 --Mesh:Seeds:0=127.0.0.1:7401 --Mesh:Capabilities:0=counter ...). Standard output
// carries only the line protocol (CommandProcessor); logs go to standard error.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(static options => options.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddMesh(mesh =>
{
    if (!string.IsNullOrEmpty(builder.Configuration["Mesh:Dashboard:Url"]))
    {
        mesh.AddDashboard();
    }
});

using IHost host = builder.Build();
ILogger logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.Cluster.TestNode");
try
{
    await host.StartAsync().ConfigureAwait(false);
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    // The harness shows standard error when a node exits before READY.
    TestNodeLog.StartFailed(logger, ex);
    return 1;
}

var processor = new CommandProcessor(host, Console.Out, logger);
return await processor.RunAsync(Console.In).ConfigureAwait(false);
