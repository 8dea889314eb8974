using System.Net;
using Mesh.Transport.Quic;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Mesh.Transport.Tests;

public sealed class TransportFactoryTests
{
    private const int FallbackEventId = 1110;

    [Fact]
    public async Task QuicIsChosenWhenTheNativeLibraryLoads()
    {
        using var metrics = new TransportMetrics();
        var logger = new RecordingLogger();
        var tcp = new TcpStandIn();

        await using ITransport transport = TransportFactory.Create(
            MeshTransport.Quic, TestCertificates.Credentials(TestCertificates.NodeA), metrics, logger, () => tcp);

        Assert.IsType<QuicTransport>(transport);
        Assert.Equal("quic", transport.Name);
        Assert.Equal(0, tcp.Created);
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public async Task AnUnloadableNativeLibraryFallsBackToTcpWithOneWarningSayingWhy()
    {
        using var metrics = new TransportMetrics();
        var logger = new RecordingLogger();
        var tcp = new TcpStandIn();
        string missing = Path.Combine(Path.GetTempPath(), $"mesh-missing-{Guid.NewGuid():N}", "libmesh_quic.so");

        await using ITransport transport = TransportFactory.Create(
            MeshTransport.Quic,
            TestCertificates.Credentials(TestCertificates.NodeA),
            metrics,
            logger,
            () => tcp.Create(),
            new QuicTransportOptions { NativeLibraryPath = missing });

        Assert.Same(tcp, transport);
        Assert.Equal("tcp", transport.Name);
        Assert.Equal(1, tcp.Created);
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(FallbackEventId, warning.Id.Id);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith("The QUIC transport is unavailable, using TCP instead: the native QUIC library libmesh_quic cannot be loaded", warning.Message, StringComparison.Ordinal);
        Assert.Contains(missing, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingNativeLibraryGivesTheRealTcpTransportThatThenWorks()
    {
        using var metrics = new TransportMetrics();
        var logger = new RecordingLogger();
        TransportCredentials server = TestCertificates.Credentials(TestCertificates.NodeA);
        string missing = Path.Combine(Path.GetTempPath(), $"mesh-missing-{Guid.NewGuid():N}", "libmesh_quic.so");

        await using ITransport transport = TransportFactory.Create(
            MeshTransport.Quic, server, metrics, logger, () => new TcpTransport(server, metrics, logger),
            new QuicTransportOptions { NativeLibraryPath = missing });

        Assert.IsType<TcpTransport>(transport);
        Assert.Equal("tcp", transport.Name);
        var warning = Assert.Single(logger.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(FallbackEventId, warning.Id.Id);
        Assert.Contains("using TCP instead", warning.Message, StringComparison.Ordinal);

        // The fallback is a working transport: a TCP client reaches it.
        await using ITransportListener listener = await transport.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        using var clientMetrics = new TransportMetrics();
        await using var client = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), clientMetrics, new RecordingLogger());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using ITransportConnection outbound = await client.ConnectAsync(listener.LocalEndPoint, cts.Token);
        await using ITransportConnection? inbound = await listener.AcceptAsync(cts.Token);
        Assert.NotNull(inbound);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeB), inbound.Peer.Thumbprint);
    }

    [Fact]
    public async Task AFileThatIsNotTheNativeLibraryFallsBackToTcp()
    {
        using var metrics = new TransportMetrics();
        var logger = new RecordingLogger();
        var tcp = new TcpStandIn();
        string notALibrary = Path.Combine(Path.GetTempPath(), $"mesh-not-a-library-{Guid.NewGuid():N}.so");
        await File.WriteAllTextAsync(notALibrary, "not an ELF file");
        try
        {
            await using ITransport transport = TransportFactory.Create(
                MeshTransport.Quic,
                TestCertificates.Credentials(TestCertificates.NodeA),
                metrics,
                logger,
                () => tcp.Create(),
                new QuicTransportOptions { NativeLibraryPath = notALibrary });

            Assert.Same(tcp, transport);
            var warning = Assert.Single(logger.Entries);
            Assert.Contains("libmesh_quic", warning.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notALibrary);
        }
    }

    [Fact]
    public async Task TcpIsChosenWhenConfiguredWithoutTouchingQuic()
    {
        using var metrics = new TransportMetrics();
        var logger = new RecordingLogger();
        var tcp = new TcpStandIn();

        await using ITransport transport = TransportFactory.Create(
            MeshTransport.Tcp, TestCertificates.Credentials(TestCertificates.NodeA), metrics, logger, () => tcp.Create(),
            new QuicTransportOptions { NativeLibraryPath = "/nonexistent/libmesh_quic.so" });

        Assert.Same(tcp, transport);
        Assert.Empty(logger.Entries);
    }

    /// <summary>Stands in for the TCP transport: the factory's choice is what these tests check.</summary>
    private sealed class TcpStandIn : ITransport
    {
        public int Created { get; private set; }

        public string Name => "tcp";

        public TcpStandIn Create()
        {
            Created++;
            return this;
        }

        public ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
