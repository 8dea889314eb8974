using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// A QUIC endpoint: one UDP socket that connects to peers and, with
/// <see cref="QuicEndpointOptions.AcceptIncoming"/>, accepts them. Disposing it closes every
/// connection and stream it created; until then the native library keeps it alive, so it must be disposed.
/// </summary>
/// <remarks>
/// The native library reports everything asynchronous through one callback per endpoint,
/// <see cref="OnEvents"/>: on the endpoint's native I/O thread, and SendCompleted also on the thread that sends, before
/// its send call returns. Events name their object by a token; the
/// endpoint maps tokens to <see cref="QuicConnection"/> and <see cref="QuicStream"/> objects in
/// <see cref="_objects"/>, which both those threads and callers touch, hence a concurrent map.
/// </remarks>
internal sealed class QuicEndpoint : IDisposable
{
    private readonly EndpointSafeHandle _handle;
    private readonly ConcurrentDictionary<ulong, object> _objects = new();
    private readonly Channel<QuicConnection> _accepted =
        Channel.CreateUnbounded<QuicConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly Channel<QuicTransportException> _refusals;
    private long _nextToken;
    private int _callbackFailures;
    private int _disposed;

    private QuicEndpoint(QuicEndpointOptions options)
    {
        Options = options;
        _refusals = Channel.CreateBounded<QuicTransportException>(
            new BoundedChannelOptions(options.RefusalBacklog) { FullMode = BoundedChannelFullMode.DropOldest });
        // A strong handle: while the native endpoint runs, it keeps this object (and, through it, every connection,
        // stream and awaiting continuation it will complete) alive, like a socket with operations pending. With a weak
        // handle a caller that awaited a stream while holding the endpoint only in its own async state was collected
        // with it, and the await never ended. Dispose frees the handle.
        GCHandle context = GCHandle.Alloc(this, GCHandleType.Normal);
        try
        {
            _handle = CreateNative(options, GCHandle.ToIntPtr(context));
        }
        catch
        {
            context.Free();
            throw;
        }

        _handle.AdoptContext(context);
    }

    /// <summary>The options the endpoint was created with.</summary>
    public QuicEndpointOptions Options { get; }

    /// <summary>The bound UDP port.</summary>
    public int Port
    {
        get
        {
            QuicNative.ThrowIfFailed(NativeMethods.EndpointLocalPort(_handle, out ushort port));
            return port;
        }
    }

    /// <summary>Connections quinn still tracks on this endpoint, including ones still closing.</summary>
    public ulong OpenConnections
    {
        get
        {
            QuicNative.ThrowIfFailed(NativeMethods.EndpointOpenConnections(_handle, out ulong count));
            return count;
        }
    }

    /// <summary>Exceptions thrown by event handlers (always a bug); tests assert it stays 0.</summary>
    public int CallbackFailures => Volatile.Read(ref _callbackFailures);

    /// <summary>Creates an endpoint bound to <see cref="QuicEndpointOptions.BindEndPoint"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="QuicConfigurationException">The certificates, key or CA cannot be used.</exception>
    /// <exception cref="QuicTransportException">The socket cannot be bound.</exception>
    public static QuicEndpoint Create(QuicEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        QuicLibrary.Load();
        return new QuicEndpoint(options);
    }

    /// <summary>Connects to <paramref name="remote"/>, verifying its certificate for <paramref name="serverName"/>.</summary>
    /// <exception cref="QuicHandshakeException">TLS refused the server (or, at once, this client).</exception>
    /// <exception cref="QuicTransportException">The connection could not be made.</exception>
    /// <remarks>
    /// In TLS 1.3 the client finishes its handshake before the server has checked the client's
    /// certificate, so a server that refuses this client's certificate shows up as
    /// <see cref="QuicConnection.Closed"/> completing with a <see cref="QuicHandshakeException"/>.
    /// </remarks>
    public async Task<QuicConnection> ConnectAsync(IPEndPoint remote, string serverName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentException.ThrowIfNullOrEmpty(serverName);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ulong token = NextToken();
        var connection = new QuicConnection(this, token);
        Register(token, connection);
        try
        {
            StartConnect(remote, serverName, token);
            await connection.Connected.WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the next peer whose handshake this (accepting) endpoint completed.</summary>
    /// <exception cref="ChannelClosedException">The endpoint was disposed.</exception>
    public ValueTask<QuicConnection> AcceptAsync(CancellationToken cancellationToken = default) =>
        _accepted.Reader.ReadAsync(cancellationToken);

    /// <summary>Waits for the next incoming handshake this endpoint refused (untrusted or missing certificate, wrong ALPN).</summary>
    public ValueTask<QuicTransportException> ReadRefusalAsync(CancellationToken cancellationToken = default) =>
        _refusals.Reader.ReadAsync(cancellationToken);

    /// <summary>Whether an accepted connection is waiting for <see cref="AcceptAsync"/>.</summary>
    public bool HasPendingAccept => _accepted.Reader.Count > 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Frees the native endpoint; once that returns no callback runs any more.
        _handle.Dispose();
        _accepted.Writer.TryComplete();
        _refusals.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out QuicConnection? pending))
        {
            pending.Dispose();
        }

        foreach (KeyValuePair<ulong, object> entry in _objects)
        {
            (entry.Value as IDisposable)?.Dispose();
        }
    }

    private unsafe void StartConnect(IPEndPoint remote, string serverName, ulong token)
    {
        byte[] address = Encoding.UTF8.GetBytes(remote.ToString());
        byte[] name = Encoding.UTF8.GetBytes(serverName);
        fixed (byte* a = address)
        fixed (byte* n = name)
        {
            QuicNative.ThrowIfFailed(NativeMethods.EndpointConnect(
                _handle, new MeshQuicBytes(a, address.Length), new MeshQuicBytes(n, name.Length), token));
        }
    }

    internal ulong NextToken() => (ulong)Interlocked.Increment(ref _nextToken);

    internal void Register(ulong token, object owner) => _objects[token] = owner;

    internal void Unregister(ulong token) => _objects.TryRemove(token, out _);

    private static unsafe EndpointSafeHandle CreateNative(QuicEndpointOptions options, nint context)
    {
        byte[] bind = Encoding.UTF8.GetBytes(options.BindEndPoint.ToString());
        byte[] chain = options.CertificateChainPem is null ? [] : Encoding.UTF8.GetBytes(options.CertificateChainPem);
        byte[] key = options.PrivateKeyPem is null ? [] : Encoding.UTF8.GetBytes(options.PrivateKeyPem);
        byte[] ca = Encoding.UTF8.GetBytes(options.TrustedCaPem);
        byte[] alpn = Encoding.UTF8.GetBytes(options.ApplicationProtocol);
        byte[] pins = new byte[options.PinnedSha256.Count * 32];
        for (int i = 0; i < options.PinnedSha256.Count; i++)
        {
            options.PinnedSha256[i].CopyTo(pins, i * 32);
        }

        try
        {
            fixed (byte* pBind = bind)
            fixed (byte* pChain = chain)
            fixed (byte* pKey = key)
            fixed (byte* pCa = ca)
            fixed (byte* pAlpn = alpn)
            fixed (byte* pPins = pins)
            {
                var config = new MeshQuicConfig
                {
                    Size = (uint)sizeof(MeshQuicConfig),
                    Flags = options.AcceptIncoming ? MeshQuicConfig.FlagAcceptIncoming : 0,
                    BindAddress = new MeshQuicBytes(pBind, bind.Length),
                    CertificateChain = new MeshQuicBytes(pChain, chain.Length),
                    PrivateKey = new MeshQuicBytes(pKey, key.Length),
                    TrustedCa = new MeshQuicBytes(pCa, ca.Length),
                    Alpn = new MeshQuicBytes(pAlpn, alpn.Length),
                    IdleTimeoutMs = (ulong)options.IdleTimeout.TotalMilliseconds,
                    KeepAliveIntervalMs = (ulong)options.KeepAliveInterval.TotalMilliseconds,
                    MaxSendBatchBytes = (uint)options.MaxSendBatchBytes,
                    MaxBidiStreams = (uint)options.MaxBidirectionalStreams,
                    StreamReceiveWindow = (uint)options.StreamReceiveWindow,
                    ReceiveBatchChunks = (uint)options.ReceiveBatchChunks,
                    Callback = &OnEvents,
                    Context = context,
                    PinnedSha256 = new MeshQuicBytes(pPins, pins.Length),
                    ReceiveSpinMicroseconds = (uint)(options.ReceiveSpinTime.Ticks / TimeSpan.TicksPerMicrosecond),
                };
                QuicStatus status = NativeMethods.EndpointCreate(&config, out EndpointSafeHandle handle);
                if (status != QuicStatus.Ok)
                {
                    string message = QuicNative.LastError();
                    handle.Dispose();
                    throw QuicTransportException.Create(status, 0, message);
                }

                return handle;
            }
        }
        finally
        {
            // The private key must not linger in managed memory longer than needed.
            Array.Clear(key);
        }
    }

    /// <summary>
    /// The native callback. It runs on the endpoint's native I/O thread, or for SendCompleted on the sending thread
    /// inside its send call; the receive events of one stream never arrive concurrently. It must not throw or block: handlers only copy data and complete tasks, whose
    /// continuations run on the thread pool.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int OnEvents(nint context, MeshQuicEvent* events, nuint count)
    {
        var batch = new ReadOnlySpan<MeshQuicEvent>(events, checked((int)count));
        QuicEndpoint? endpoint = null;
        try
        {
            endpoint = GCHandle.FromIntPtr(context).Target as QuicEndpoint;
            if (endpoint is null)
            {
                ReleaseOrphanHandles(batch);
                return 0;
            }

            return endpoint.Dispatch(batch);
        }
        catch (Exception ex)
        {
            if (endpoint is not null)
            {
                Interlocked.Increment(ref endpoint._callbackFailures);
            }

            Debug.Fail("Exception in a QUIC event handler", ex.ToString());
            return 0;
        }
    }

    private int Dispatch(ReadOnlySpan<MeshQuicEvent> batch)
    {
        // A StreamData batch always belongs to one stream; its answer can pause that stream.
        if (batch[0].Kind == QuicEventKind.StreamData)
        {
            return Find<QuicStream>(batch[0].Token) is { } stream ? stream.OnData(batch) : 0;
        }

        foreach (ref readonly MeshQuicEvent e in batch)
        {
            switch (e.Kind)
            {
                case QuicEventKind.ConnectionAccepted:
                    OnConnectionAccepted(new ConnectionSafeHandle(e.Handle));
                    break;
                case QuicEventKind.ConnectCompleted:
                    if (Find<QuicConnection>(e.Token) is { } connecting)
                    {
                        connecting.OnConnectCompleted(e.Status, e.Aux, e.Handle, Message(e));
                    }
                    else
                    {
                        ReleaseOrphanHandle(e);
                    }

                    break;
                case QuicEventKind.IncomingFailed:
                    _refusals.Writer.TryWrite(QuicTransportException.Create(e.Status, e.Aux, Message(e)));
                    break;
                case QuicEventKind.ConnectionClosed:
                    Find<QuicConnection>(e.Token)?.OnClosed(QuicTransportException.Create(e.Status, e.Aux, Message(e)));
                    break;
                case QuicEventKind.StreamAccepted:
                    if (Find<QuicConnection>(e.Token) is { } owner)
                    {
                        owner.OnStreamAccepted(new StreamSafeHandle(e.Handle));
                    }
                    else
                    {
                        ReleaseOrphanHandle(e);
                    }

                    break;
                case QuicEventKind.StreamFinished:
                    Find<QuicStream>(e.Token)?.OnFinished();
                    break;
                case QuicEventKind.StreamAborted:
                    Find<QuicStream>(e.Token)?.OnAborted(QuicTransportException.Create(e.Status, e.Aux, Message(e)));
                    break;
                case QuicEventKind.SendCompleted:
                    Find<QuicStream>(e.Token)?.OnSendCompleted(e.Status, e.Aux, e.Status == QuicStatus.Ok ? "" : Message(e));
                    break;
                default:
                    ReleaseOrphanHandle(e);
                    break;
            }
        }

        return 0;
    }

    private void OnConnectionAccepted(ConnectionSafeHandle handle)
    {
        ulong token = NextToken();
        var connection = new QuicConnection(this, token);
        Register(token, connection);
        connection.Attach(handle);
        QuicStatus status = NativeMethods.ConnectionStart(handle, token);
        if (status != QuicStatus.Ok || !_accepted.Writer.TryWrite(connection))
        {
            connection.Dispose();
        }
    }

    private T? Find<T>(ulong token)
        where T : class =>
        _objects.TryGetValue(token, out object? owner) ? owner as T : null;

    private static string Message(in MeshQuicEvent e) => e.Length == 0 ? e.Status.ToString() : Encoding.UTF8.GetString(e.Span);

    private static void ReleaseOrphanHandles(ReadOnlySpan<MeshQuicEvent> batch)
    {
        foreach (ref readonly MeshQuicEvent e in batch)
        {
            ReleaseOrphanHandle(e);
        }
    }

    /// <summary>Frees a handle an event handed over when no object is left to take it.</summary>
    private static void ReleaseOrphanHandle(in MeshQuicEvent e)
    {
        if (e.Handle == nint.Zero)
        {
            return;
        }

        switch (e.Kind)
        {
            case QuicEventKind.ConnectionAccepted or QuicEventKind.ConnectCompleted:
                NativeMethods.ConnectionFree(e.Handle);
                break;
            case QuicEventKind.StreamAccepted:
                NativeMethods.StreamFree(e.Handle);
                break;
        }
    }
}
