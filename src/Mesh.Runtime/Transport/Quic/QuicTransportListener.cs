using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;

namespace Mesh.Transport.Quic;

/// <summary>
/// Inbound QUIC connections of one <see cref="QuicTransport"/>: accepts connections whose peers passed the handshake,
/// checks each peer against the credentials, and yields every stream such a peer opens (after its header byte).
/// </summary>
/// <remarks>
/// One task accepts connections, one reads the endpoint's refusals (logged and counted), and one per connection accepts
/// its streams; each new stream's header is read on its own task so a slow stream never holds up another. Accepted
/// streams wait in <see cref="_accepted"/> (many writers, any reader) for <see cref="AcceptAsync"/>.
/// </remarks>
internal sealed class QuicTransportListener : ITransportListener
{
    private readonly QuicTransport _transport;
    private readonly QuicEndpoint _endpoint;
    private readonly Channel<ITransportConnection> _accepted =
        Channel.CreateUnbounded<ITransportConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly Task _refusalLoop;
    private int _disposed;

    public QuicTransportListener(QuicTransport transport, QuicEndpoint endpoint, IPEndPoint localEndPoint)
    {
        _transport = transport;
        _endpoint = endpoint;
        LocalEndPoint = localEndPoint;
        _acceptLoop = AcceptConnectionsAsync();
        _refusalLoop = ReadRefusalsAsync();
    }

    public EndPoint LocalEndPoint { get; }

    /// <summary>Gets how many QUIC connections the listening endpoint holds (closing ones included).</summary>
    internal ulong OpenConnections => _endpoint.OpenConnections;

    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _accepted.Writer.TryComplete();
        // Closes every connection and stream of the endpoint; the loops end with it.
        _endpoint.Dispose();
        await Task.WhenAll(_acceptLoop, _refusalLoop).ConfigureAwait(false);
        while (_accepted.Reader.TryRead(out ITransportConnection? unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        _transport.OnListenerDisposed(this);
        _stopping.Dispose();
    }

    private async Task AcceptConnectionsAsync()
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                QuicConnection connection = await _endpoint.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                _ = ServeConnectionAsync(connection);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            QuicTransportLog.AcceptLoopFailed(_transport.Logger, LocalEndPoint, ex);
        }
    }

    private async Task ReadRefusalsAsync()
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                QuicTransportException refusal = await _endpoint.ReadRefusalAsync(_stopping.Token).ConfigureAwait(false);
                _transport.Refused(QuicCredentials.RefusalKind(refusal), refusal.Message);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Disposed.
        }
    }

    private async Task ServeConnectionAsync(QuicConnection connection)
    {
        try
        {
            IPEndPoint remote = connection.RemoteEndPoint();
            if (!QuicCredentials.TryValidatePeer(_transport.Credentials, connection.PeerCertificateChain(), out PeerIdentity peer, out (string Kind, string Message) reason))
            {
                _transport.Refused(reason.Kind, reason.Message);
                connection.Close(QuicTransport.RefusedErrorCode, reason.Kind);
                return;
            }

            while (true)
            {
                QuicStream stream = await connection.AcceptStreamAsync(_stopping.Token).ConfigureAwait(false);
                _ = AcceptStreamAsync(stream, remote, peer);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException or ObjectDisposedException or QuicTransportException)
        {
            // The connection closed (or the listener was disposed): its streams have ended with it.
        }
        finally
        {
            connection.Dispose();
        }
    }

    private async Task AcceptStreamAsync(QuicStream stream, IPEndPoint remote, PeerIdentity peer)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_transport.Options.ConnectTimeout);
        bool accepted = false;
        try
        {
            PipeReader input = stream.Input;
            ReadResult result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty || buffer.FirstSpan[0] != QuicTransport.StreamHeader)
            {
                input.AdvanceTo(buffer.Start);
                _transport.Metrics.Error(QuicTransport.TransportName, "bad_stream_header");
                QuicTransportLog.BadStreamHeader(_transport.Logger);
                stream.Abort(QuicTransportConnection.AbortErrorCode);
                return;
            }

            input.AdvanceTo(buffer.GetPosition(1));
            var connection = new QuicTransportConnection(stream, remote, peer, _transport.Options);
            accepted = _accepted.Writer.TryWrite(connection);
            if (!accepted)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                accepted = true;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or QuicTransportException or InvalidOperationException)
        {
            // The stream, its connection or the listener went away before the header arrived.
        }
        finally
        {
            if (!accepted)
            {
                stream.Dispose();
            }
        }
    }
}
