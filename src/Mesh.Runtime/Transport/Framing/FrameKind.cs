namespace Mesh.Transport.Framing;

/// <summary>What a frame carries; the byte at offset 4 of <see cref="FrameHeader"/>. Zero and values above
/// <see cref="GoAway"/> are not kinds: a frame carrying one closes its connection.</summary>
internal enum FrameKind : byte
{
    /// <summary>A request; the peer answers with a <see cref="Response"/> or <see cref="Error"/> of the same correlation id.</summary>
    Request = 1,

    /// <summary>The answer to the <see cref="Request"/> with the same correlation id.</summary>
    Response = 2,

    /// <summary>A message that gets no answer; its correlation id is zero.</summary>
    OneWay = 3,

    /// <summary>The request with the same correlation id failed on the peer; the payload is a UTF-8 message.</summary>
    Error = 4,

    /// <summary>A liveness probe; the peer answers with a <see cref="Pong"/> of the same correlation id and payload.</summary>
    Ping = 5,

    /// <summary>The answer to a <see cref="Ping"/>.</summary>
    Pong = 6,

    /// <summary>The sender sends no more requests on this connection and closes its sending side after this frame; the
    /// payload is a UTF-8 reason.</summary>
    GoAway = 7,
}
