using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Benchmarks;

/// <summary>The framing layer alone: encoding and decoding one 64-byte frame, and a request/response round trip
/// through <see cref="FramedConnection"/> over the in-memory transport (both ends in this process).</summary>
[MemoryDiagnoser]
[BenchmarkCategory("Framing")]
public class FramingBenchmarks
{
    private const int PayloadSize = 64;
    private readonly byte[] _payload = new byte[PayloadSize];
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly FramedConnectionOptions _options = new();
    private TransportMetrics? _metrics;
    private ITransportListener? _listener;
    private FramedConnection? _server;
    private FramedConnection _client = null!;

    [GlobalSetup(Target = nameof(RoundTrip))]
    public async Task SetupRoundTripAsync()
    {
        var network = new InMemoryNetwork();
        _metrics = new TransportMetrics();
        _listener = await new InMemoryTransport("server", network).ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        ITransportConnection clientTransport = await new InMemoryTransport("client", network).ConnectAsync(_listener.LocalEndPoint, CancellationToken.None);
        ITransportConnection serverTransport = (await _listener.AcceptAsync(CancellationToken.None))!;
        _server = new FramedConnection(serverTransport, "memory", Echo.Instance, _options, _metrics, NullLogger.Instance);
        _client = new FramedConnection(clientTransport, "memory", null, _options, _metrics, NullLogger.Instance);
        _server.Start();
        _client.Start();
        using FramePayload warm = await _client.RequestAsync(_payload);
    }

    [GlobalCleanup(Target = nameof(RoundTrip))]
    public async Task CleanupRoundTripAsync()
    {
        await _client.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        _metrics?.Dispose();
    }

    /// <summary>Writes a 64-byte request frame and reads it back; returns the decoded payload's length.</summary>
    [Benchmark]
    public long EncodeDecode()
    {
        _buffer.ResetWrittenCount();
        FrameEncoder.Write(_buffer, FrameKind.Request, 42, _payload);
        var sequence = new ReadOnlySequence<byte>(_buffer.WrittenMemory);
        FrameDecoder.TryRead(ref sequence, _options.MaxFrameSize, out _, out ReadOnlySequence<byte> payload);
        return payload.Length;
    }

    /// <summary>One 64-byte request answered with its echo; returns the response's length.</summary>
    [Benchmark]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> RoundTrip()
    {
        using FramePayload response = await _client.RequestAsync(_payload);
        return response.Length;
    }

    private sealed class Echo : IFrameHandler
    {
        public static Echo Instance { get; } = new();

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
}
