namespace Mesh.Messaging;

/// <summary>Bits of the call envelope's flags byte.</summary>
[Flags]
internal enum CallFlags : byte
{
    /// <summary>A call that expects an answer.</summary>
    None = 0,

    /// <summary>A <see cref="OneWayAttribute">one-way</see> message: sent as a one-way frame, never answered.</summary>
    OneWay = 1,

    /// <summary>W3C trace context fields (traceparent, tracestate) follow the key.</summary>
    TraceContext = 2,
}
