using System.Buffers;

namespace Mesh.Transport.Framing;

/// <summary>Writes frames straight into the output (a <see cref="System.IO.Pipelines.PipeWriter"/> or any
/// <see cref="IBufferWriter{T}"/>): the header into the writer's own buffer, then the payload copied in chunks the
/// writer hands out, with no intermediate array.</summary>
internal static class FrameEncoder
{
    /// <summary>Writes one frame.</summary>
    /// <param name="writer">The output.</param>
    /// <param name="kind">The frame kind.</param>
    /// <param name="correlationId">The correlation id (zero for one-way and go-away frames).</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The number of bytes written (header and payload).</returns>
    public static int Write(IBufferWriter<byte> writer, FrameKind kind, ulong correlationId, ReadOnlySpan<byte> payload)
    {
        WriteHeader(writer, new FrameHeader(kind, correlationId, payload.Length));
        WritePayload(writer, payload);
        return FrameHeader.Size + payload.Length;
    }

    /// <summary>Writes one frame whose payload is a (possibly multi-segment) sequence.</summary>
    public static int Write(IBufferWriter<byte> writer, FrameKind kind, ulong correlationId, in ReadOnlySequence<byte> payload)
    {
        int length = checked((int)payload.Length);
        WriteHeader(writer, new FrameHeader(kind, correlationId, length));
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            WritePayload(writer, segment.Span);
        }

        return FrameHeader.Size + length;
    }

    /// <summary>Writes a frame header alone; the caller writes exactly <see cref="FrameHeader.PayloadLength"/> bytes after it.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, in FrameHeader header)
    {
        Span<byte> span = writer.GetSpan(FrameHeader.Size);
        header.Write(span);
        writer.Advance(FrameHeader.Size);
    }

    private static void WritePayload(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload)
    {
        while (!payload.IsEmpty)
        {
            Span<byte> span = writer.GetSpan();
            int chunk = Math.Min(span.Length, payload.Length);
            payload[..chunk].CopyTo(span);
            writer.Advance(chunk);
            payload = payload[chunk..];
        }
    }
}
