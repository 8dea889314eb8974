using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic.Tests;

internal static class QuicTestHelpers
{
    /// <summary>Upper bound of any single test; nothing here should come close.</summary>
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    public static QuicEndpointOptions ServerOptions(TestCertificateAuthority ca, string name = "server")
    {
        (string chain, string key) = ca.IssueNode(name);
        return new QuicEndpointOptions
        {
            AcceptIncoming = true,
            CertificateChainPem = chain,
            PrivateKeyPem = key,
            TrustedCaPem = ca.CertificatePem,
        };
    }

    public static QuicEndpointOptions ClientOptions(string trustedCaPem, (string ChainPem, string KeyPem)? credentials)
    {
        return new QuicEndpointOptions
        {
            CertificateChainPem = credentials?.ChainPem,
            PrivateKeyPem = credentials?.KeyPem,
            TrustedCaPem = trustedCaPem,
        };
    }

    public static IPEndPoint EndPointOf(QuicEndpoint endpoint) => new(IPAddress.Loopback, endpoint.Port);

    /// <summary>Reads until the peer finishes the stream, refusing more than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadToEndAsync(PipeReader reader, int maxBytes, CancellationToken cancellationToken)
    {
        var received = new ArrayBufferWriter<byte>();
        // Each read returns at least one byte unless the stream ended, so maxBytes + 1 reads always suffice.
        for (int reads = 0; reads <= maxBytes + 1; reads++)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (received.WrittenCount > maxBytes)
            {
                throw new InvalidOperationException($"Received more than {maxBytes} bytes.");
            }

            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return received.WrittenSpan.ToArray();
            }
        }

        throw new InvalidOperationException("The stream did not end.");
    }

    /// <summary>Echoes one stream of the next accepted connection back to the peer, then finishes it.</summary>
    public static async Task EchoOneStreamAsync(QuicEndpoint server, int maxBytes, CancellationToken cancellationToken)
    {
        using QuicConnection connection = await server.AcceptAsync(cancellationToken);
        using QuicStream stream = await connection.AcceptStreamAsync(cancellationToken);
        ReadOnlyMemory<byte>[] batch = new ReadOnlyMemory<byte>[16];
        long echoed = 0;
        for (int reads = 0; reads <= maxBytes + 1; reads++)
        {
            ReadResult result = await stream.Input.ReadAsync(cancellationToken);
            // One native call per read: every segment of the buffer goes out as one batch.
            int count = 0;
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                if (count == batch.Length)
                {
                    await stream.SendAsync(batch.AsSpan(0, count));
                    count = 0;
                }

                batch[count++] = segment;
            }

            echoed += result.Buffer.Length;
            await stream.SendAsync(batch.AsSpan(0, count), finish: result.IsCompleted);
            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await stream.Input.CompleteAsync();
                // Keep the connection until the client has read everything and closes it.
                await connection.Closed.WaitAsync(cancellationToken);
                return;
            }

            if (echoed > maxBytes)
            {
                throw new InvalidOperationException($"Received more than {maxBytes} bytes.");
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return condition();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }

        return true;
    }

    public static MeshQuicCounters Counters() => QuicNative.Counters();
}
