using System.Diagnostics;
using System.Runtime.CompilerServices;
using Mesh.Transport.Quic.Interop;
using Xunit;
using Xunit.Abstractions;
using static Mesh.Transport.Quic.Tests.QuicTestHelpers;

namespace Mesh.Transport.Quic.Tests;

public sealed class QuicTransportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestCertificateAuthority _ca = new("Mesh test cluster CA");
    private readonly CancellationTokenSource _timeout = new(TestTimeout);

    private CancellationToken Timeout => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _ca.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1024)]
    [InlineData(1024 * 1024)]
    public async Task PayloadIsEchoedOverAStream(int size)
    {
        QuicEndpointOptions serverOptions = ServerOptions(_ca);
        // Small pipe thresholds so the 1 MB payload exercises pausing and resuming reads.
        serverOptions.ReceivePauseThreshold = 64 * 1024;
        serverOptions.ReceiveResumeThreshold = 32 * 1024;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        QuicEndpointOptions clientOptions = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        clientOptions.ReceivePauseThreshold = 64 * 1024;
        clientOptions.ReceiveResumeThreshold = 32 * 1024;
        using QuicEndpoint client = QuicEndpoint.Create(clientOptions);

        byte[] payload = new byte[size];
        new Random(size).NextBytes(payload);
        Task echo = EchoOneStreamAsync(server, size, Timeout);

        byte[] received;
        using (QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout))
        using (QuicStream stream = connection.OpenStream())
        {
            await stream.SendAsync(payload, finish: true);
            received = await ReadToEndAsync(stream.Input, size, Timeout);
        }

        await echo.WaitAsync(Timeout);
        Assert.Equal(payload, received);
        Assert.Equal(0, server.CallbackFailures);
        Assert.Equal(0, client.CallbackFailures);
    }

    [Fact]
    public async Task ManyBuffersSentInOneBatchArriveInOrder()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client")));
        var buffers = new ReadOnlyMemory<byte>[100];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new byte[] { (byte)i, (byte)(i + 1), (byte)(i + 2) };
        }

        Task echo = EchoOneStreamAsync(server, 300, Timeout);
        using QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        using QuicStream stream = connection.OpenStream();
        await stream.SendAsync(buffers, finish: true);
        byte[] received = await ReadToEndAsync(stream.Input, 300, Timeout);

        byte[] expected = new byte[300];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i].Span.CopyTo(expected.AsSpan(i * 3));
        }

        Assert.Equal(expected, received);
        connection.Dispose();
        await echo.WaitAsync(Timeout);
    }

    /// <summary>
    /// Endpoints whose I/O threads stay awake for the longest allowed spin after their last datagram still carry
    /// traffic, and still go to sleep once it stops: an idle node must cost no processor time. A thread that spins
    /// (yielding its core between looks) stays runnable, state R in /proc; one asleep in <c>ppoll</c> shows S.
    /// </summary>
    [Fact]
    public async Task EndpointsThatSpinAfterTheirLastDatagramCarryTrafficAndSleepWhenItStops()
    {
        QuicEndpointOptions serverOptions = ServerOptions(_ca);
        serverOptions.ReceiveSpinTime = QuicEndpointOptions.MaxReceiveSpinTime;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        QuicEndpointOptions clientOptions = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        clientOptions.ReceiveSpinTime = QuicEndpointOptions.MaxReceiveSpinTime;
        using QuicEndpoint client = QuicEndpoint.Create(clientOptions);

        byte[] payload = new byte[256 * 1024];
        new Random(7).NextBytes(payload);
        Task echo = EchoOneStreamAsync(server, payload.Length, Timeout);
        using QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        using (QuicStream stream = connection.OpenStream())
        {
            await stream.SendAsync(payload, finish: true);
            Assert.Equal(payload, await ReadToEndAsync(stream.Input, payload.Length, Timeout));
        }

        // The connection stays open and idle (the echo side holds it until the client closes it). Asleep in three looks
        // in a row, so one that caught a thread between two yields (or in a callback) does not pass.
        int asleepInARow = 0;
        bool asleep = await WaitUntilAsync(
            () => (asleepInARow = IoThreadStates().All(state => state == 'S') ? asleepInARow + 1 : 0) >= 3,
            TimeSpan.FromSeconds(20));
        Assert.True(asleep, $"I/O thread states: {string.Join(", ", IoThreadStates())}");
        Assert.True(IoThreadStates().Count >= 2, "The two endpoints' I/O threads were not found.");
        connection.Dispose();
        await echo.WaitAsync(Timeout);
    }

    /// <summary>The scheduler state (R, S, D, ...) of every native I/O thread of this process, from /proc.</summary>
    private static List<char> IoThreadStates()
    {
        var states = new List<char>();
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() != "mesh-quic-io")
                {
                    continue;
                }

                // "tid (comm) S ...": the state follows the last ')', since a name may hold one.
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                states.Add(stat[(stat.LastIndexOf(')') + 2)..][0]);
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }

        return states;
    }

    [Fact]
    public void AnEndpointNotYetDisposedIsKeptAliveByTheNativeLibrary()
    {
        // Whoever awaits a send or a read of one of its streams may hold the endpoint only in its own suspended async
        // state, which nothing else references: the native library's handle must keep it (and so them) alive, or the
        // await never ends. That handle was weak once, and a test awaiting a send hung whenever a GC ran meanwhile.
        WeakReference endpoint = CreateUnreferencedEndpoint();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.True(endpoint.IsAlive, "An endpoint that was not disposed was collected while its native side ran.");
        ((QuicEndpoint)endpoint.Target!).Dispose();
    }

    [Fact]
    public async Task SendsThatOutgrowFlowControlQueueAndEverySendArrivesInOrder()
    {
        // A 16 KiB stream window at the server and a 32 KiB send window at the client: flow control fills, the native
        // queue grows past the window, sends wait for it to drain, and every byte still arrives once and in order.
        QuicEndpointOptions serverOptions = ServerOptions(_ca);
        serverOptions.StreamReceiveWindow = 16 * 1024;
        serverOptions.ReceivePauseThreshold = 16 * 1024;
        serverOptions.ReceiveResumeThreshold = 8 * 1024;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        QuicEndpointOptions clientOptions = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        clientOptions.SendWindowBytes = 32 * 1024;
        using QuicEndpoint client = QuicEndpoint.Create(clientOptions);

        const int Sends = 2_048;
        const int Size = 1_024;
        byte[] expected = new byte[Sends * Size];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = (byte)((i * 31) ^ (i >> 10));
        }

        Task echo = EchoOneStreamAsync(server, expected.Length, Timeout);
        using QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        using QuicStream stream = connection.OpenStream();
        Task<byte[]> reading = ReadToEndAsync(stream.Input, expected.Length, Timeout);

        int waited = 0;
        for (int i = 0; i < Sends; i++)
        {
            ValueTask send = stream.SendAsync(expected.AsMemory(i * Size, Size), finish: i == Sends - 1);
            if (!send.IsCompleted)
            {
                waited++;
            }

            await send.AsTask().WaitAsync(Timeout);
        }

        // Sends queued behind a blocked write are reported together, with the sum of their lengths: the count returns
        // to exactly zero once the finishing send (which waits for every byte) has completed.
        Assert.Equal(0, stream.QueuedBytes);
        byte[] received = await reading.WaitAsync(Timeout);
        output.WriteLine($"{Sends} sends: {waited} waited for the queue to drain.");
        Assert.True(expected.AsSpan().SequenceEqual(received), "The echoed bytes differ from the bytes sent.");
        Assert.True(waited > 0, "No send ever waited: flow control never filled, so the queued path was not tested.");
        connection.Dispose();
        await echo.WaitAsync(Timeout);
        Assert.Equal(0, server.CallbackFailures);
        Assert.Equal(0, client.CallbackFailures);
    }

    [Fact]
    public async Task ClientWithACertificateFromAnotherCaIsRefusedAtHandshake()
    {
        using var otherCa = new TestCertificateAuthority("Some other CA");
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        // The client trusts the cluster CA (so it accepts the server) but presents a foreign certificate.
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, otherCa.IssueNode("intruder")));

        QuicHandshakeException clientSide = await ConnectExpectingRefusalAsync(client, server);
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.NotNull(clientSide.TlsAlert);
        Assert.False(server.HasPendingAccept);
        output.WriteLine($"client: {clientSide.Message} (alert {clientSide.TlsAlert}); server: {serverSide.Message}");
    }

    [Fact]
    public async Task ClientWithoutACertificateIsRefusedAtHandshake()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, credentials: null));

        QuicHandshakeException clientSide = await ConnectExpectingRefusalAsync(client, server);
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.NotNull(clientSide.TlsAlert);
        Assert.False(server.HasPendingAccept);
        output.WriteLine($"client: {clientSide.Message} (alert {clientSide.TlsAlert}); server: {serverSide.Message}");
    }

    [Fact]
    public async Task ClientOfferingAnotherAlpnIsRefusedAtHandshake()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        QuicEndpointOptions options = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        options.ApplicationProtocol = "mesh/0";
        using QuicEndpoint client = QuicEndpoint.Create(options);

        // The server refuses in its reply to the ClientHello, so connecting itself fails.
        QuicHandshakeException clientSide = await Assert.ThrowsAsync<QuicHandshakeException>(
            () => client.ConnectAsync(EndPointOf(server), "localhost", Timeout));
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.Equal(120, clientSide.TlsAlert); // no_application_protocol
        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.False(server.HasPendingAccept);
    }

    [Fact]
    public async Task ServerWithACertificateFromAnotherCaIsRefusedByTheClient()
    {
        using var otherCa = new TestCertificateAuthority("Some other CA");
        QuicEndpointOptions serverOptions = ServerOptions(otherCa);
        serverOptions.TrustedCaPem = _ca.CertificatePem;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client")));

        QuicHandshakeException clientSide = await Assert.ThrowsAsync<QuicHandshakeException>(
            () => client.ConnectAsync(EndPointOf(server), "localhost", Timeout));

        output.WriteLine(clientSide.Message);
        Assert.False(server.HasPendingAccept);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void AReceiveSpinOutsideZeroToTenMillisecondsIsRefused(int microseconds)
    {
        QuicEndpointOptions options = ServerOptions(_ca);
        options.ReceiveSpinTime = TimeSpan.FromMicroseconds(microseconds);

        Assert.Throws<ArgumentOutOfRangeException>(() => QuicEndpoint.Create(options));
    }

    [Fact]
    public void UnusableCertificateIsAConfigurationError()
    {
        QuicEndpointOptions options = ServerOptions(_ca);
        options.CertificateChainPem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

        Assert.Throws<QuicConfigurationException>(() => QuicEndpoint.Create(options));
    }

    /// <summary>
    /// 1,000 connections, opened in waves of <c>Wave</c> that stay open together and then close together, every 100th
    /// carrying a stream: the native counters must see every wave (so they really count), and once the endpoints are
    /// freed every handle, task and queued byte must be gone and the library's live heap back at its baseline (within
    /// <c>HeapTolerance</c>; a leak of 64 bytes per connection would exceed it).
    /// </summary>
    [Fact]
    public async Task OpeningAndClosingAThousandConnectionsReturnsNativeHandlesAndMemoryToBaseline()
    {
        const int Connections = 1000;
        const int Wave = 100;
        // What the library may legitimately hold on to across the run: its runtime's per-thread caches and timer
        // wheels, sized by threads, not by connections.
        const long HeapTolerance = 64 * 1024;

        // The first endpoint starts the native runtime and its threads, which stay for the life of the process: warm
        // them up so the baseline includes them.
        await RoundTripOnceAsync();
        MeshQuicCounters baseline = await SettledCountersAsync(previous: null);
        var clock = Stopwatch.StartNew();
        long peakHeap = baseline.HeapBytes;
        using (QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca)))
        using (QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"))))
        {
            var open = new List<QuicConnection>(2 * Wave);
            for (int i = 0; i < Connections; i++)
            {
                QuicConnection outbound = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
                QuicConnection inbound = await server.AcceptAsync(Timeout);
                open.Add(outbound);
                open.Add(inbound);
                if (i % 100 == 0)
                {
                    // Every 100th connection also carries a stream, so stream handles and tasks are counted too.
                    using QuicStream stream = outbound.OpenStream();
                    await stream.SendAsync(new byte[] { 1, 2, 3 }, finish: true);
                    using QuicStream accepted = await inbound.AcceptStreamAsync(Timeout);
                    Assert.Equal(new byte[] { 1, 2, 3 }, await ReadToEndAsync(accepted.Input, 3, Timeout));
                }

                if (open.Count == 2 * Wave)
                {
                    MeshQuicCounters during = Counters();
                    peakHeap = Math.Max(peakHeap, during.HeapBytes);
                    Assert.True(
                        during.ConnectionHandles - baseline.ConnectionHandles >= 2 * Wave,
                        $"{2 * Wave} connection handles are open but the native counter says {during.ConnectionHandles - baseline.ConnectionHandles}");
                    foreach (QuicConnection connection in open)
                    {
                        connection.Dispose();
                    }

                    open.Clear();
                }
            }

            output.WriteLine($"{Connections} connections in {clock.ElapsedMilliseconds} ms; peak native heap {peakHeap - baseline.HeapBytes:N0} bytes above baseline; counters after disposing them: {Counters()}");
            Assert.True(
                await WaitUntilAsync(() => client.OpenConnections == 0 && server.OpenConnections == 0, TimeSpan.FromSeconds(20)),
                $"quinn still tracks {client.OpenConnections} client / {server.OpenConnections} server connections");
            Assert.Equal(0, server.CallbackFailures);
            Assert.Equal(0, client.CallbackFailures);
        }

        MeshQuicCounters after = await SettledCountersAsync(baseline);
        output.WriteLine($"baseline {baseline}; after {after}; total {clock.ElapsedMilliseconds} ms");
        Assert.True(after.LiveCountsEqual(baseline), $"native handles, tasks or queued bytes did not return to baseline: {after} vs {baseline}");
        Assert.True(
            after.HeapBytes - baseline.HeapBytes <= HeapTolerance,
            $"the native heap holds {after.HeapBytes - baseline.HeapBytes:N0} bytes ({after.HeapBlocks - baseline.HeapBlocks:N0} blocks) more than before {Connections} connections");
        Assert.True(peakHeap - baseline.HeapBytes > HeapTolerance, "the heap counter did not see the connections' memory at all");
    }

    /// <summary>One connection with one echoed stream, then everything freed.</summary>
    private async Task RoundTripOnceAsync()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client")));
        Task echo = EchoOneStreamAsync(server, 3, Timeout);
        using (QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout))
        using (QuicStream stream = connection.OpenStream())
        {
            await stream.SendAsync(new byte[] { 1, 2, 3 }, finish: true);
            await ReadToEndAsync(stream.Input, 3, Timeout);
        }

        await echo.WaitAsync(Timeout);
    }

    /// <summary>
    /// Counters once the library's background work has ended: no connection or stream task left (or, with a
    /// <paramref name="previous"/> baseline, its live counts reached) and the heap unchanged over a few polls, since
    /// tasks free their last memory a moment after they report their end.
    /// </summary>
    private static async Task<MeshQuicCounters> SettledCountersAsync(MeshQuicCounters? previous)
    {
        var clock = Stopwatch.StartNew();
        MeshQuicCounters last = Counters();
        int stablePolls = 0;
        // Bounded: 20 seconds of 50 ms polls at most.
        for (int poll = 0; poll < 400 && clock.Elapsed < TimeSpan.FromSeconds(20); poll++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
            MeshQuicCounters now = Counters();
            bool idle = previous is { } baseline ? now.LiveCountsEqual(baseline) : now.ConnectionTasks == 0 && now.StreamTasks == 0;
            stablePolls = idle && now.HeapBytes == last.HeapBytes ? stablePolls + 1 : 0;
            last = now;
            if (stablePolls >= 5)
            {
                break;
            }
        }

        return last;
    }

    /// <summary>
    /// Connects a client the server will refuse. In TLS 1.3 the client's handshake can complete
    /// before the server has checked the client's certificate, so the refusal shows either as a
    /// failed connect or as the connection closing with the server's TLS alert.
    /// </summary>
    private async Task<QuicHandshakeException> ConnectExpectingRefusalAsync(QuicEndpoint client, QuicEndpoint server)
    {
        QuicConnection connection;
        try
        {
            connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        }
        catch (QuicHandshakeException refused)
        {
            return refused;
        }

        using (connection)
        {
            QuicTransportException closed = await connection.Closed.WaitAsync(Timeout);
            return Assert.IsType<QuicHandshakeException>(closed);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference CreateUnreferencedEndpoint() => new(QuicEndpoint.Create(ServerOptions(_ca)));
}
