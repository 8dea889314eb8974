using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Quic;
using Mesh.Transport.Tcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Benchmarks;

/// <summary>
/// QUIC and TCP side by side on loopback, each under the framing layer as a node uses it (<see cref="FramedConnection"/>
/// on both ends, an echo handler on the server): <see cref="Throughput"/> echoes 64-byte and 1 KiB payloads from one
/// sender or 8 concurrent senders sharing one connection; <see cref="TransportLatencyBenchmarks"/> times 10,000
/// sequential 64-byte requests.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Transport")]
public class TransportBenchmarks : TransportBenchmarkBase
{
    /// <summary>Requests per throughput invocation, split evenly among the senders.</summary>
    public const int ThroughputMessages = 8_192;

    /// <summary>Requests each sender keeps in flight.</summary>
    private const int Window = 64;

    /// <summary>Gets or sets the payload size of the requests.</summary>
    [Params(64, 1024)]
    public int MessageSize { get; set; } = 64;

    /// <summary>Gets or sets how many tasks send concurrently on the one connection.</summary>
    [Params(1, 8)]
    public int Senders { get; set; } = 1;

    protected override int PayloadSize => MessageSize;

    /// <summary>Echoed requests per second: <see cref="Senders"/> tasks, each with up to 64 requests in flight.</summary>
    [Benchmark(OperationsPerInvoke = ThroughputMessages)]
    public async Task<long> Throughput()
    {
        var senders = new Task<long>[Senders];
        int perSender = ThroughputMessages / Senders;
        for (int i = 0; i < senders.Length; i++)
        {
            senders[i] = SendAsync(perSender);
        }

        long bytes = 0;
        foreach (Task<long> sender in senders)
        {
            bytes += await sender;
        }

        return bytes;
    }

    private async Task<long> SendAsync(int count)
    {
        var window = new ValueTask<FramePayload>[Window];
        long bytes = 0;
        for (int sent = 0; sent < count;)
        {
            int batch = Math.Min(Window, count - sent);
            for (int i = 0; i < batch; i++)
            {
                window[i] = Connection.RequestAsync(Payload);
            }

            for (int i = 0; i < batch; i++)
            {
                using FramePayload response = await window[i];
                bytes += response.Length;
            }

            sent += batch;
        }

        return bytes;
    }
}

/// <summary>
/// Round-trip latency over QUIC and TCP: 10,000 sequential 64-byte requests per invocation, each timed. The p50/p99
/// over every request of the run are printed at cleanup (BenchmarkDotNet's own columns describe iteration means).
/// </summary>
[BenchmarkCategory("Transport")]
public class TransportLatencyBenchmarks : TransportBenchmarkBase
{
    /// <summary>Sequential requests per invocation.</summary>
    public const int Requests = 10_000;

    private readonly long[] _latencies = new long[Requests];
    private readonly List<long> _all = [];

    protected override int PayloadSize => 64;

    [Benchmark(OperationsPerInvoke = Requests)]
    public async Task<long> SequentialRoundTrip64()
    {
        for (int i = 0; i < Requests; i++)
        {
            long start = Stopwatch.GetTimestamp();
            using FramePayload response = await Connection.RequestAsync(Payload);
            _latencies[i] = Stopwatch.GetTimestamp() - start;
        }

        _all.AddRange(_latencies);
        return _latencies[^1];
    }

    protected override void Report()
    {
        if (_all.Count == 0)
        {
            return;
        }

        _all.Sort();
        Console.WriteLine(
            $"// {Transport} round trip of 64 B over {_all.Count:N0} sequential requests: " +
            $"p50 = {Micros(Percentile(0.50)):F1} us, p99 = {Micros(Percentile(0.99)):F1} us");
    }

    private long Percentile(double p) => _all[Math.Min(_all.Count - 1, (int)(p * _all.Count))];

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}

/// <summary>One client and one server transport of the chosen kind, connected, with framing on both ends.</summary>
public abstract class TransportBenchmarkBase
{
    private readonly FramedConnectionOptions _options = new();
    private TransportMetrics? _metrics;
    private ITransport? _server;
    private ITransport? _client;
    private ITransportListener? _listener;
    private FramedConnection? _serverConnection;
    private Task? _acceptLoop;

    /// <summary>Gets or sets the transport under test.</summary>
    [Params("quic", "tcp")]
    public string Transport { get; set; } = "quic";

    /// <summary>Gets the request payload.</summary>
    protected byte[] Payload { get; private set; } = [];

    /// <summary>Gets the request payload (for <see cref="TransportComparison"/>).</summary>
    internal byte[] RequestPayload => Payload;

    /// <summary>Gets the client's framed connection.</summary>
    internal FramedConnection Connection { get; private set; } = null!;

    /// <summary>Gets the request payload size.</summary>
    protected abstract int PayloadSize { get; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        Payload = new byte[PayloadSize];
        RandomNumberGenerator.Fill(Payload);
        (TransportCredentials server, TransportCredentials client) = BenchmarkCertificates.Create();
        _metrics = new TransportMetrics();
        ITransport serverTransport = Transport == "quic"
            ? new QuicTransport(server, _metrics, NullLogger.Instance)
            : new TcpTransport(server, _metrics, NullLogger.Instance);
        ITransport clientTransport = Transport == "quic"
            ? new QuicTransport(client, _metrics, NullLogger.Instance)
            : new TcpTransport(client, _metrics, NullLogger.Instance);
        _server = serverTransport;
        _client = clientTransport;
        _listener = await serverTransport.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        _acceptLoop = AcceptOneAsync(_listener);
        ITransportConnection outbound = await clientTransport.ConnectAsync(_listener.LocalEndPoint, CancellationToken.None);
        Connection = new FramedConnection(outbound, Transport, null, _options, _metrics, NullLogger.Instance);
        Connection.Start();
        using FramePayload warm = await Connection.RequestAsync(Payload);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        Report();
        await Connection.DisposeAsync();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        if (_serverConnection is not null)
        {
            await _serverConnection.DisposeAsync();
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _metrics?.Dispose();
    }

    /// <summary>Prints what BenchmarkDotNet's table cannot show; called at cleanup.</summary>
    protected virtual void Report()
    {
    }

    private async Task AcceptOneAsync(ITransportListener listener)
    {
        ITransportConnection? inbound = await listener.AcceptAsync(CancellationToken.None);
        if (inbound is not null)
        {
            _serverConnection = new FramedConnection(inbound, Transport, EchoHandler.Instance, _options, _metrics!, NullLogger.Instance);
            _serverConnection.Start();
        }
    }

    private sealed class EchoHandler : IFrameHandler
    {
        public static EchoHandler Instance { get; } = new();

        public ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken)
        {
            foreach (ReadOnlyMemory<byte> segment in payload)
            {
                response.Write(segment.Span);
            }

            return default;
        }

        public ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) => default;
    }

    /// <summary>A throw-away cluster CA and two node certificates (ECDSA P-256), made once per process.</summary>
    internal static class BenchmarkCertificates
    {
        private static readonly Lazy<(TransportCredentials, TransportCredentials)> s_credentials = new(Make);

        public static (TransportCredentials Server, TransportCredentials Client) Create() => s_credentials.Value;

        private static (TransportCredentials, TransportCredentials) Make()
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=Mesh Benchmark CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
            return (
                new TransportCredentials(Node("CN=mesh-bench-server", ca, now), [ca], []),
                new TransportCredentials(Node("CN=mesh-bench-client", ca, now), [ca], []));
        }

        private static X509Certificate2 Node(string subject, X509Certificate2 ca, DateTimeOffset now)
        {
            using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            byte[] serial = new byte[16];
            RandomNumberGenerator.Fill(serial);
            using X509Certificate2 issued = request.Create(ca, now.AddDays(-1), now.AddDays(30), serial);
            using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
            // Through PKCS#12 so the key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }
    }
}
