using System.Diagnostics;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>
/// A node of a multi-node scenario in its own process: this same executable started with <c>node ...</c> (see
/// <see cref="NodeCommand"/>). It prints <c>READY</c> once serving and stops when its standard input closes, so a
/// benchmark that dies takes its nodes with it; <see cref="DisposeAsync"/> closes the input and kills what is left.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _errors = new();

    private NodeProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    public string Description { get; }

    /// <summary>Starts <c>node <paramref name="arguments"/></c> and waits until it is serving.</summary>
    public static async Task<NodeProcess> StartAsync(params string[] arguments)
    {
        string self = typeof(NodeProcess).Assembly.Location;
        var info = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            info.ArgumentList.Add(self);
        }

        info.ArgumentList.Add("node");
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start a node process.");
        var node = new NodeProcess(process, string.Join(' ', arguments));
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "READY")
            {
                node._ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (node._errors)
                {
                    node._errors.AppendLine(e.Data);
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => node._ready.TrySetException(new InvalidOperationException($"Node '{node.Description}' exited with code {process.ExitCode} before it was ready: {node.Errors}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node._ready.Task.WaitAsync(StartTimeout).ConfigureAwait(false);
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    private string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(StopTimeout);
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or InvalidOperationException or IOException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
        }
    }
}
