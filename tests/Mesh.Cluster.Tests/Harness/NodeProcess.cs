using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Threading.Channels;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>
/// One Mesh.Cluster.TestNode process. Commands are sent one at a time and each is answered by exactly one line
/// (see the TestNode's CommandProcessor). The process stops when its standard input closes, so even a test host that dies
/// takes its nodes with it; <see cref="DisposeAsync"/> closes the input and kills whatever has not exited in time.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>Lines of standard error kept to explain a failure.</summary>
    private const int ErrorTailLines = 40;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<string> _errorTail = new();
    private readonly SemaphoreSlim _commandGate = new(1, 1);
    private bool _desynchronized;
    private bool _disposed;

    private NodeProcess(Process process, string label, string endpoint)
    {
        _process = process;
        Label = label;
        Endpoint = endpoint;
        Name = label;
    }

    /// <summary>Gets the name the test gave the node.</summary>
    public string Label { get; }

    /// <summary>Gets the name the node reported in its READY line: what other nodes' answers and views call it.</summary>
    public string Name { get; private set; }

    /// <summary>Gets the <c>host:port</c> the node was told to listen on.</summary>
    public string Endpoint { get; }

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the exit code, once exited.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Gets the last lines the node wrote to standard error.</summary>
    public string ErrorTail
    {
        get
        {
            lock (_errorTail)
            {
                return _errorTail.Count == 0 ? "(nothing on standard error)" : string.Join(Environment.NewLine, _errorTail);
            }
        }
    }

    /// <summary>Gets the path of the built test node.</summary>
    public static string TestNodePath { get; } = Metadata("TestNodePath");

    /// <summary>Gets the <c>dotnet</c> executable that runs the test node: the one running the tests.</summary>
    public static string DotnetPath { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    /// <summary>Gets a path the test project was built with (an <see cref="AssemblyMetadataAttribute"/> of this assembly).</summary>
    public static string Metadata(string key) =>
        typeof(NodeProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>Starts a node and waits for its READY line.</summary>
    /// <param name="label">The test's name for the node.</param>
    /// <param name="endpoint">The <c>host:port</c> it listens on (also in <paramref name="settings"/>).</param>
    /// <param name="settings">Configuration keys and values, passed as <c>--key=value</c>.</param>
    /// <param name="environment">Environment variables to add, or null.</param>
    /// <param name="workingDirectory">The node's current directory.</param>
    /// <param name="networkNamespace">A network namespace to run the node in (<c>ip netns exec</c>), or null.</param>
    /// <exception cref="InvalidOperationException">The node exited or stayed silent past <see cref="Bounds.NodeStart"/>;
    /// the message carries its standard error.</exception>
    public static async Task<NodeProcess> StartAsync(string label, string endpoint, IEnumerable<KeyValuePair<string, string>> settings, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string? networkNamespace)
    {
        if (!File.Exists(TestNodePath))
        {
            throw new InvalidOperationException($"The test node is not built at {TestNodePath}: build tests/Mesh.Cluster.Tests, which builds it.");
        }

        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable.Key] = variable.Value;
        }

        if (networkNamespace is null)
        {
            info.FileName = DotnetPath;
        }
        else
        {
            // `ip netns exec` execs the command in place: the process we hold is the node itself, so a SIGKILL reaches it.
            info.FileName = NamespaceNetwork.IpPath;
            info.ArgumentList.Add("netns");
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(networkNamespace);
            info.ArgumentList.Add(DotnetPath);
        }

        info.ArgumentList.Add(TestNodePath);
        foreach (KeyValuePair<string, string> setting in settings)
        {
            info.ArgumentList.Add($"--{setting.Key}={setting.Value}");
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start node {label}.");
        var node = new NodeProcess(process, label, endpoint);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                node._lines.Writer.TryComplete();
            }
            else
            {
                node._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (node._errorTail)
                {
                    node._errorTail.Enqueue(e.Data);
                    if (node._errorTail.Count > ErrorTailLines)
                    {
                        node._errorTail.Dequeue();
                    }
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string ready = await node.ReadLineAsync("READY", Bounds.NodeStart).ConfigureAwait(false);
            string[] words = ready.Split(' ');
            if (words.Length < 3 || words[0] != "READY")
            {
                throw new InvalidOperationException($"Node {label} printed '{ready}' instead of 'READY <name> <endpoint>'.");
            }

            node.Name = words[1];
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    /// <summary>Sends one command and returns its answer line.</summary>
    /// <exception cref="InvalidOperationException">The node exited, or did not answer within <paramref name="timeout"/>
    /// (after which it is considered out of step and refuses further commands).</exception>
    public async Task<string> SendAsync(string command, TimeSpan timeout)
    {
        await _commandGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_desynchronized)
            {
                throw new InvalidOperationException($"Node {Label} did not answer an earlier command in time; its answers can no longer be matched to commands.");
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Node {Label} exited with code {_process.ExitCode} before '{command}': {ErrorTail}");
            }

            await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            return await ReadLineAsync(command, timeout).ConfigureAwait(false);
        }
        finally
        {
            _commandGate.Release();
        }
    }

    /// <summary>Sends a command whose answer starts with <paramref name="expected"/>, and returns the answer.</summary>
    /// <exception cref="InvalidOperationException">The node answered something else, such as an ERROR line.</exception>
    public async Task<string> SendExpectingAsync(string command, string expected, TimeSpan timeout)
    {
        string answer = await SendAsync(command, timeout).ConfigureAwait(false);
        if (!answer.StartsWith(expected + " ", StringComparison.Ordinal) && answer != expected)
        {
            throw new InvalidOperationException($"Node {Label} answered '{command}' with '{Replies.Shorten(answer)}', expected {expected} ...");
        }

        return answer;
    }

    private async Task<string> ReadLineAsync(string waitingFor, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await _lines.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _desynchronized = true;
            throw new InvalidOperationException($"Node {Label} did not answer '{waitingFor}' within {timeout.TotalSeconds:0} s. Its standard error:{Environment.NewLine}{ErrorTail}");
        }
        catch (ChannelClosedException)
        {
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(StopTimeout).ConfigureAwait(false);
            throw new InvalidOperationException($"Node {Label} exited with code {_process.ExitCode} while waiting for '{waitingFor}'. Its standard error:{Environment.NewLine}{ErrorTail}");
        }
    }

    /// <summary>Kills the node with SIGKILL, as a crash would, and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(StopTimeout).ConfigureAwait(false);
    }

    /// <summary>Waits for the process to exit (after <c>leave</c>).</summary>
    /// <returns>Whether it exited within the time.</returns>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Closes the node's standard input (it stops gracefully) and kills it if it has not exited in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The pipe is already broken: the process is exiting.
                }

                if (!await WaitForExitAsync(StopTimeout).ConfigureAwait(false))
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().WaitAsync(StopTimeout).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _process.Dispose();
            _commandGate.Dispose();
        }
    }
}
