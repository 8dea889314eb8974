namespace Mesh.Transport.Framing;

/// <summary>Limits of one <see cref="FramedConnection"/>. Every size and time the framing layer uses is here, with its
/// default; the node fills <see cref="MaxFrameSize"/> and <see cref="RequestTimeout"/> from <see cref="MeshOptions"/>.</summary>
internal sealed class FramedConnectionOptions
{
    /// <summary>The framing options of a node configured with <paramref name="options"/>: its maximum frame size and call
    /// timeout, everything else at its default.</summary>
    public static FramedConnectionOptions FromMeshOptions(MeshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new FramedConnectionOptions { MaxFrameSize = options.MaxFrameSize, RequestTimeout = options.DefaultCallTimeout };
    }

    /// <summary>Gets or sets the largest payload sent or accepted (<see cref="MeshOptions.MaxFrameSize"/>). Default: 16 MiB.</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Gets or sets how long a request waits for its response (<see cref="MeshOptions.DefaultCallTimeout"/>). Default: 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often expired requests are looked for; a request times out at most this late. Default: 100 ms.</summary>
    public TimeSpan TimeoutScanInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets how many bytes of frames may wait to be written before senders wait (backpressure). A sender
    /// that finds the queue at or above this waits until the writer has drained below it. Default: 1 MiB.</summary>
    public int MaxQueuedSendBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets how far beyond <see cref="MaxQueuedSendBytes"/> the read loop may queue responses (and pongs)
    /// before it waits too. Responses do not wait at <see cref="MaxQueuedSendBytes"/>: two read loops each waiting for send
    /// room while their peer does the same would stop both connections for good. Default: 64 MiB.</summary>
    public int MaxResponseBacklogBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets how many bytes the writer copies into the transport before it flushes, when frames keep
    /// coming: small frames are coalesced into one flush up to this size. Default: 64 KiB.</summary>
    public int CoalescingBytes { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the payload size from which a frame that has not fully arrived is copied out of the transport's
    /// pipe as it arrives (into one pooled array), so the pipe holds no more than its pause threshold while a large frame
    /// arrives, and the handler gets one contiguous payload.
    /// Default: 64 KiB.</summary>
    public int ReassemblyThreshold { get; set; } = 64 * 1024;

    /// <summary>Gets or sets how long <see cref="FramedConnection.CloseAsync"/> waits for the peer to finish before it
    /// aborts the connection. Default: 10 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how many responses handlers may have deferred (<see cref="FramedConnection.Defer"/>) and not
    /// completed yet; at this many the read loop waits for one to complete before it reads on, so a peer cannot make the
    /// node hold more than this many requests of one connection at once. Default: 4096.</summary>
    public int MaxDeferredResponses
    {
        get => field;
        set
        {
            // Zero would make the read loop wait for a completion that cannot come.
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 4096;

    /// <summary>Gets or sets how many bytes of idle outbound frames (their buffers, plus a small cost per frame) a
    /// connection keeps for reuse. Sized like <see cref="MaxQueuedSendBytes"/>, the most its send queue holds before
    /// senders wait: a connection with hundreds of requests in flight then reuses its frames instead of renting new
    /// arrays, which <see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps only a few dozen of per size. Default: 1 MiB.</summary>
    public int FramePoolBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the largest buffer an idle pooled frame keeps; a larger one goes back to the array pool.
    /// Default: 8 KiB.</summary>
    public int PooledFrameMaxBytes { get; set; } = 8 * 1024;
}
