using System.Net;
using System.Text;
using System.Threading.Channels;
using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// One QUIC connection to a peer: opens and accepts bidirectional streams. Disposing it closes the
/// connection; its streams are disposed by their owners (or with the endpoint).
/// </summary>
internal sealed class QuicConnection : IDisposable
{
    /// <summary>
    /// The most certificates of a peer's chain that are read. A node's chain is its leaf and one or two intermediates;
    /// the TLS verifier has already bounded the path, so this only caps what a peer that sent extra certificates costs.
    /// </summary>
    public const int MaxPeerChainLength = 8;

    private readonly QuicEndpoint _endpoint;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<QuicTransportException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<QuicStream> _streams =
        Channel.CreateUnbounded<QuicStream>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });

    // Guards _handle and _disposed: the handle arrives on a native thread (ConnectCompleted) while
    // a cancelled ConnectAsync may be disposing the connection on another.
    private readonly Lock _gate = new();
    private ConnectionSafeHandle? _handle;
    private bool _disposed;

    internal QuicConnection(QuicEndpoint endpoint, ulong token)
    {
        _endpoint = endpoint;
        Token = token;
    }

    /// <summary>The token native events for this connection carry.</summary>
    internal ulong Token { get; }

    /// <summary>Completes once the connection is established (initiated connections only).</summary>
    internal Task Connected => _connected.Task;

    /// <summary>Completes when the connection has closed, with the reason (never faults).</summary>
    public Task<QuicTransportException> Closed => _closed.Task;

    /// <summary>Opens a bidirectional stream; the peer sees it with its first bytes.</summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    /// <exception cref="QuicTransportException">The stream cannot be opened.</exception>
    public QuicStream OpenStream()
    {
        ConnectionSafeHandle handle = Handle();
        ulong token = _endpoint.NextToken();
        var stream = new QuicStream(_endpoint, token);
        _endpoint.Register(token, stream);
        QuicStatus status = NativeMethods.ConnectionOpenStream(handle, token, out StreamSafeHandle streamHandle);
        if (status != QuicStatus.Ok)
        {
            string message = QuicNative.LastError();
            streamHandle.Dispose();
            stream.Dispose();
            throw QuicTransportException.Create(status, 0, message);
        }

        stream.Attach(streamHandle);
        return stream;
    }

    /// <summary>The DER of the certificate the peer proved at the handshake; empty if it presented none.</summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    public byte[] PeerCertificate() => PeerCertificate(0);

    /// <summary>
    /// The certificates the peer presented at the handshake as DER, leaf first, then the intermediates it sent; empty
    /// if it presented none. The chain is capped at <see cref="MaxPeerChainLength"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    public IReadOnlyList<byte[]> PeerCertificateChain()
    {
        var chain = new List<byte[]>();
        for (int index = 0; index < MaxPeerChainLength; index++)
        {
            byte[] der = PeerCertificate(index);
            if (der.Length == 0)
            {
                break;
            }

            chain.Add(der);
        }

        return chain;
    }

    /// <summary>The peer's address as QUIC sees it now (it follows a peer that migrates).</summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    public unsafe IPEndPoint RemoteEndPoint()
    {
        ConnectionSafeHandle handle = Handle();
        // "[ipv6%scope]:port" fits easily; a longer answer is read again at its full length.
        Span<byte> text = stackalloc byte[64];
        nuint length;
        fixed (byte* p = text)
        {
            QuicNative.ThrowIfFailed(NativeMethods.ConnectionRemoteAddress(handle, p, (nuint)text.Length, out length));
        }

        if (length > (nuint)text.Length)
        {
            text = new byte[checked((int)length)];
            fixed (byte* p = text)
            {
                QuicNative.ThrowIfFailed(NativeMethods.ConnectionRemoteAddress(handle, p, (nuint)text.Length, out length));
            }
        }

        return IPEndPoint.Parse(Encoding.UTF8.GetString(text[..(int)length]));
    }

    /// <summary>Waits for the next stream the peer opens.</summary>
    /// <exception cref="ChannelClosedException">The connection closed; the inner exception says why.</exception>
    public ValueTask<QuicStream> AcceptStreamAsync(CancellationToken cancellationToken = default) =>
        _streams.Reader.ReadAsync(cancellationToken);

    /// <summary>Closes the connection with an application error code the peer sees.</summary>
    public unsafe void Close(ulong errorCode, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        ConnectionSafeHandle handle = Handle();
        byte[] text = Encoding.UTF8.GetBytes(reason);
        fixed (byte* p = text)
        {
            QuicNative.ThrowIfFailed(NativeMethods.ConnectionClose(handle, errorCode, new MeshQuicBytes(p, text.Length)));
        }
    }

    public void Dispose()
    {
        ConnectionSafeHandle? handle;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            handle = _handle;
        }

        _endpoint.Unregister(Token);
        handle?.Dispose();
        var closed = new QuicConnectionException(QuicStatus.Closed, 0, "The connection was disposed.");
        _connected.TrySetException(closed);
        _closed.TrySetResult(closed);
        _streams.Writer.TryComplete(closed);
        while (_streams.Reader.TryRead(out QuicStream? unclaimed))
        {
            unclaimed.Dispose();
        }
    }

    internal void Attach(ConnectionSafeHandle handle)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _handle = handle;
                return;
            }
        }

        handle.Dispose();
    }

    internal void OnConnectCompleted(QuicStatus status, ulong errorCode, nint handle, string message)
    {
        if (status == QuicStatus.Ok)
        {
            Attach(new ConnectionSafeHandle(handle));
            _connected.TrySetResult();
            return;
        }

        QuicTransportException failure = QuicTransportException.Create(status, errorCode, message);
        _closed.TrySetResult(failure);
        _streams.Writer.TryComplete(failure);
        _connected.TrySetException(failure);
    }

    internal void OnClosed(QuicTransportException reason)
    {
        _closed.TrySetResult(reason);
        _streams.Writer.TryComplete(reason);
    }

    internal void OnStreamAccepted(StreamSafeHandle handle)
    {
        ulong token = _endpoint.NextToken();
        var stream = new QuicStream(_endpoint, token);
        _endpoint.Register(token, stream);
        stream.Attach(handle);
        QuicStatus status = NativeMethods.StreamStart(handle, token);
        if (status != QuicStatus.Ok || !_streams.Writer.TryWrite(stream))
        {
            stream.Dispose();
        }
    }

    private unsafe byte[] PeerCertificate(int index)
    {
        ConnectionSafeHandle handle = Handle();
        QuicNative.ThrowIfFailed(NativeMethods.ConnectionPeerCertificate(handle, (nuint)index, null, 0, out nuint length));
        byte[] der = new byte[checked((int)length)];
        fixed (byte* p = der)
        {
            QuicNative.ThrowIfFailed(NativeMethods.ConnectionPeerCertificate(handle, (nuint)index, p, (nuint)der.Length, out _));
        }

        return der;
    }

    private ConnectionSafeHandle Handle()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _handle ?? throw new InvalidOperationException("The connection is not established.");
        }
    }
}
