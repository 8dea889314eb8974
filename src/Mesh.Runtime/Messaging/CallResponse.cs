using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Mesh.Messaging;

/// <summary>
/// The answer to a <see cref="ClusterService.Call"/> request: a <see cref="CallStatus"/> byte, then for
/// <see cref="CallStatus.Ok"/> the method's serialized result to the end; for <see cref="CallStatus.ActorError"/> the
/// exception's type name, message and stack text; for <see cref="CallStatus.MailboxFull"/> the capacity (32-bit);
/// for every other status a message. Texts are UTF-8 with a 32-bit length (-1 for none), cut to
/// <see cref="MaxTextChars"/> characters.
/// </summary>
internal static class CallResponse
{
    /// <summary>The most characters of a message or stack text sent back: enough to diagnose, small enough that a
    /// failing actor cannot make every answer huge.</summary>
    public const int MaxTextChars = 8192;

    public static void WriteOk(IBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = (byte)CallStatus.Ok;
        output.Advance(1);
    }

    public static void WriteStatus(IBufferWriter<byte> output, CallStatus status, string message)
    {
        WriteByte(output, (byte)status);
        WriteText(output, message);
    }

    public static void WriteActorError(IBufferWriter<byte> output, Exception exception)
    {
        WriteByte(output, (byte)CallStatus.ActorError);
        WriteText(output, exception.GetType().FullName ?? exception.GetType().Name);
        WriteText(output, exception.Message);
        WriteText(output, exception.StackTrace);
    }

    public static void WriteMailboxFull(IBufferWriter<byte> output, int capacity)
    {
        Span<byte> span = output.GetSpan(5);
        span[0] = (byte)CallStatus.MailboxFull;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], capacity);
        output.Advance(5);
    }

    /// <summary>Writes the answer that tells the caller why its call failed before or around the actor (not the actor's
    /// own exception, which is <see cref="WriteActorError"/>).</summary>
    public static void WriteFailure(IBufferWriter<byte> output, Exception exception, bool stopping)
    {
        switch (exception)
        {
            case CapabilityUnavailableException:
                WriteStatus(output, CallStatus.CapabilityUnavailable, exception.Message);
                break;
            case MailboxFullException full:
                WriteMailboxFull(output, full.Capacity);
                break;
            case ActorActivationException:
                WriteStatus(output, CallStatus.ActivationFailed, exception.Message);
                break;
            case MeshTimeoutException:
                WriteStatus(output, CallStatus.Timeout, exception.Message);
                break;
            case MeshProtocolException:
                WriteStatus(output, CallStatus.ProtocolError, exception.Message);
                break;
            case MeshException when stopping:
                WriteStatus(output, CallStatus.ShuttingDown, exception.Message);
                break;
            default:
                WriteStatus(output, CallStatus.ProtocolError, exception.Message);
                break;
        }
    }

    /// <summary>Reads the status of an answer.</summary>
    /// <exception cref="MeshProtocolException">The answer is empty or its status unknown.</exception>
    public static CallStatus ReadStatus(ReadOnlySpan<byte> answer)
    {
        if (answer.IsEmpty || answer[0] > (byte)CallStatus.UnknownActor)
        {
            throw new MeshProtocolException(answer.IsEmpty ? "The answer to a call is empty." : $"The answer to a call has the unknown status {answer[0]}.");
        }

        return (CallStatus)answer[0];
    }

    /// <summary>Turns a failed answer into the exception a local call would have thrown.</summary>
    /// <param name="answer">The answer, status byte included; its status is not <see cref="CallStatus.Ok"/>.</param>
    /// <param name="id">The actor called.</param>
    /// <param name="method">The method called.</param>
    /// <param name="timeout">The call's timeout.</param>
    /// <returns>The exception to throw.</returns>
    public static Exception ToException(ReadOnlySpan<byte> answer, ActorId id, string method, TimeSpan timeout)
    {
        CallStatus status = ReadStatus(answer);
        ReadOnlySpan<byte> rest = answer[1..];
        try
        {
            switch (status)
            {
                case CallStatus.ActorError:
                    string type = ReadText(ref rest) ?? "System.Exception";
                    string message = ReadText(ref rest) ?? string.Empty;
                    string? stack = ReadText(ref rest);
                    return new ActorInvocationException(id, method, type, message, stack);
                case CallStatus.CapabilityUnavailable:
                    return new CapabilityUnavailableException(id.Capability);
                case CallStatus.Timeout:
                    return new MeshTimeoutException(id, method, timeout);
                case CallStatus.MailboxFull:
                    return rest.Length >= 4
                        ? new MailboxFullException(id, BinaryPrimitives.ReadInt32LittleEndian(rest))
                        : new MeshProtocolException("A mailbox-full answer lacks the capacity.");
                case CallStatus.ActivationFailed:
                case CallStatus.UnknownActor:
                    return new ActorActivationException(id, ReadText(ref rest) ?? $"Activating {id} failed on its owner.");
                case CallStatus.ProtocolError:
                    return new MeshProtocolException($"The owner of '{id}' could not handle {id.ActorType}.{method}: {ReadText(ref rest)}");
                case CallStatus.NotOwner:
                    return new MeshException($"No node took the call {id.ActorType}.{method} to '{id}': the nodes asked do not own it in their view ({ReadText(ref rest)}). Membership has not settled; retry later.");
                case CallStatus.ShuttingDown:
                    return new MeshException($"The owner of '{id}' is shutting down and took no new calls ({ReadText(ref rest)}).");
                default:
                    return new MeshProtocolException($"The answer to a call has the unexpected status {status}.");
            }
        }
        catch (MeshProtocolException exception)
        {
            return exception;
        }
    }

    /// <summary>Reads a text field.</summary>
    /// <exception cref="MeshProtocolException">The field is truncated or its length invalid.</exception>
    public static string? ReadText(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 4)
        {
            throw new MeshProtocolException("A text field of a call answer is truncated.");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        rest = rest[4..];
        if (length == -1)
        {
            return null;
        }

        if (length < 0 || length > rest.Length)
        {
            throw new MeshProtocolException("A text field of a call answer has an invalid length.");
        }

        string text = Encoding.UTF8.GetString(rest[..length]);
        rest = rest[length..];
        return text;
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteText(IBufferWriter<byte> output, string? text)
    {
        if (text is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), -1);
            output.Advance(4);
            return;
        }

        ReadOnlySpan<char> chars = text.Length > MaxTextChars ? text.AsSpan(0, MaxTextChars) : text;
        Span<byte> span = output.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(chars.Length));
        int written = Encoding.UTF8.GetBytes(chars, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, written);
        output.Advance(4 + written);
    }
}
