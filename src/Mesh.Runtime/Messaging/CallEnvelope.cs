using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace Mesh.Messaging;

/// <summary>
/// The header of every <see cref="ClusterService.Call"/> payload (after the service byte), followed by the generated
/// request message to the end of the payload. Little-endian; strings are UTF-8 with a 16-bit length:
/// <code>
/// offset size  field
///  0     1     format version (1)
///  1     1     flags (CallFlags: 1 one-way, 2 trace context follows)
///  2     1     hops: how often the call was forwarded already
///  3     4     method id
///  7     4     deadline: milliseconds the caller still waits (uint.MaxValue: none)
/// 11     2+n   actor type (the contract interface's name)
///        2+n   capability
///        2+n   key
///        2+n   traceparent   (only with the trace-context flag)
///        2+n   tracestate    (only with the trace-context flag; may be empty)
///        ...   request message
/// </code>
/// The fixed part comes first so that a forwarding node rewrites hops and deadline in place.
/// </summary>
/// <remarks>Decoding looks at the bytes where they are and allocates nothing; a decoded envelope is valid as long as the
/// payload it was read from.</remarks>
[StructLayout(LayoutKind.Auto)]
internal readonly ref struct CallEnvelope
{
    /// <summary>The format this node writes and reads. A node refuses other versions with a protocol error, so a format
    /// change needs a new version number and a rolling upgrade that reads both.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The size of the fixed part: version, flags, hops, method id, deadline.</summary>
    public const int FixedSize = 11;

    /// <summary>The deadline value that means "no deadline".</summary>
    public const uint NoDeadline = uint.MaxValue;

    /// <summary>The longest actor type name accepted: a C# interface name is far shorter; the bound keeps a hostile
    /// envelope from making the node compare long strings.</summary>
    public const int MaxActorTypeBytes = 512;

    /// <summary>The longest capability accepted (capability names are short identifiers).</summary>
    public const int MaxCapabilityBytes = 256;

    /// <summary>The longest key accepted: ids are hashed and held in the activation directory, so they stay small.</summary>
    public const int MaxKeyBytes = 4096;

    /// <summary>The longest traceparent accepted (W3C: 55 characters for version 00; later versions may add fields).</summary>
    public const int MaxTraceParentBytes = 256;

    /// <summary>The longest tracestate accepted (W3C recommends propagating at least 512 characters).</summary>
    public const int MaxTraceStateBytes = 1024;

    private const int FlagsOffset = 1;
    private const int HopsOffset = 2;
    private const int MethodIdOffset = 3;
    private const int DeadlineOffset = 7;
    private const CallFlags KnownFlags = CallFlags.OneWay | CallFlags.TraceContext;

    private CallEnvelope(CallFlags flags, byte hops, uint methodId, uint deadline, ReadOnlySpan<byte> actorType, ReadOnlySpan<byte> capability, ReadOnlySpan<byte> key, ReadOnlySpan<byte> traceParent, ReadOnlySpan<byte> traceState, int bodyOffset)
    {
        Flags = flags;
        Hops = hops;
        MethodId = methodId;
        DeadlineMilliseconds = deadline;
        ActorType = actorType;
        Capability = capability;
        Key = key;
        TraceParent = traceParent;
        TraceState = traceState;
        BodyOffset = bodyOffset;
    }

    public CallFlags Flags { get; }

    public bool IsOneWay => (Flags & CallFlags.OneWay) != 0;

    public byte Hops { get; }

    public uint MethodId { get; }

    /// <summary>Gets how many milliseconds the caller still waited when the envelope was sent, or <see cref="NoDeadline"/>.</summary>
    public uint DeadlineMilliseconds { get; }

    public ReadOnlySpan<byte> ActorType { get; }

    public ReadOnlySpan<byte> Capability { get; }

    public ReadOnlySpan<byte> Key { get; }

    /// <summary>Gets the W3C traceparent, empty when the caller sent no trace context.</summary>
    public ReadOnlySpan<byte> TraceParent { get; }

    /// <summary>Gets the W3C tracestate, empty when there is none.</summary>
    public ReadOnlySpan<byte> TraceState { get; }

    /// <summary>Gets where the request message starts in the payload.</summary>
    public int BodyOffset { get; }

    /// <summary>Encodes the three target strings once per actor reference, so each call copies them instead of encoding.</summary>
    /// <exception cref="ArgumentException">A string is longer than the envelope accepts.</exception>
    public static byte[] EncodeTarget(ActorId id)
    {
        int typeLength = CheckedByteCount(id.ActorType, MaxActorTypeBytes, "actor type");
        int capabilityLength = CheckedByteCount(id.Capability, MaxCapabilityBytes, "capability");
        int keyLength = CheckedByteCount(id.Key, MaxKeyBytes, "key");
        byte[] target = new byte[6 + typeLength + capabilityLength + keyLength];
        Span<byte> span = target;
        span = WriteString(span, id.ActorType, typeLength);
        span = WriteString(span, id.Capability, capabilityLength);
        WriteString(span, id.Key, keyLength);
        return target;
    }

    /// <summary>Writes an envelope: the fixed part, the encoded target (<see cref="EncodeTarget"/>) and, when given, the
    /// trace context. The request message goes right after.</summary>
    public static void Write(IBufferWriter<byte> output, CallFlags flags, byte hops, uint methodId, uint deadline, ReadOnlySpan<byte> target, string? traceParent = null, string? traceState = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        bool traced = !string.IsNullOrEmpty(traceParent);
        flags = traced ? flags | CallFlags.TraceContext : flags & ~CallFlags.TraceContext;
        Span<byte> span = output.GetSpan(FixedSize + target.Length);
        span[0] = CurrentVersion;
        span[FlagsOffset] = (byte)flags;
        span[HopsOffset] = hops;
        BinaryPrimitives.WriteUInt32LittleEndian(span[MethodIdOffset..], methodId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[DeadlineOffset..], deadline);
        target.CopyTo(span[FixedSize..]);
        output.Advance(FixedSize + target.Length);
        if (traced)
        {
            int parentLength = CheckedByteCount(traceParent!, MaxTraceParentBytes, "traceparent");
            int stateLength = CheckedByteCount(traceState ?? string.Empty, MaxTraceStateBytes, "tracestate");
            Span<byte> trace = output.GetSpan(4 + parentLength + stateLength);
            trace = WriteString(trace, traceParent!, parentLength);
            WriteString(trace, traceState ?? string.Empty, stateLength);
            output.Advance(4 + parentLength + stateLength);
        }
    }

    /// <summary>Rewrites hops and deadline of an encoded envelope in place (a forwarding node's update).</summary>
    public static void Rewrite(Span<byte> payload, byte hops, uint deadline)
    {
        payload[HopsOffset] = hops;
        BinaryPrimitives.WriteUInt32LittleEndian(payload[DeadlineOffset..], deadline);
    }

    /// <summary>Reads an envelope.</summary>
    /// <param name="payload">The call payload, without the service byte.</param>
    /// <param name="envelope">The envelope, when the result is null.</param>
    /// <returns>Null when the envelope is well-formed; otherwise what is wrong with it (a constant: nothing allocated).</returns>
    public static string? TryRead(ReadOnlySpan<byte> payload, out CallEnvelope envelope)
    {
        envelope = default;
        if (payload.Length < FixedSize)
        {
            return "The call envelope is shorter than its fixed part.";
        }

        if (payload[0] != CurrentVersion)
        {
            return "The call envelope has a format version this node does not read.";
        }

        var flags = (CallFlags)payload[FlagsOffset];
        if ((flags & ~KnownFlags) != 0)
        {
            return "The call envelope has flags this node does not know.";
        }

        int offset = FixedSize;
        (int Start, int Length) actorType = NextString(payload, ref offset, MaxActorTypeBytes);
        if (actorType.Length <= 0)
        {
            return "The call envelope's actor type is missing, truncated or too long.";
        }

        (int Start, int Length) capability = NextString(payload, ref offset, MaxCapabilityBytes);
        if (capability.Length <= 0)
        {
            return "The call envelope's capability is missing, truncated or too long.";
        }

        (int Start, int Length) key = NextString(payload, ref offset, MaxKeyBytes);
        if (key.Length <= 0)
        {
            return "The call envelope's key is missing, truncated or too long.";
        }

        (int Start, int Length) traceParent = default;
        (int Start, int Length) traceState = default;
        if ((flags & CallFlags.TraceContext) != 0
            && ((traceParent = NextString(payload, ref offset, MaxTraceParentBytes)).Length < 0 || (traceState = NextString(payload, ref offset, MaxTraceStateBytes)).Length < 0))
        {
            return "The call envelope's trace context is truncated or too long.";
        }

        ReadOnlySpan<byte> type = Field(payload, actorType);
        ReadOnlySpan<byte> capabilityBytes = Field(payload, capability);
        ReadOnlySpan<byte> keyBytes = Field(payload, key);
        if (!Utf8.IsValid(type) || !Utf8.IsValid(capabilityBytes) || !Utf8.IsValid(keyBytes))
        {
            return "The call envelope's target is not valid UTF-8.";
        }

        envelope = new CallEnvelope(
            flags,
            payload[HopsOffset],
            BinaryPrimitives.ReadUInt32LittleEndian(payload[MethodIdOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[DeadlineOffset..]),
            type,
            capabilityBytes,
            keyBytes,
            Field(payload, traceParent),
            Field(payload, traceState),
            offset);
        return null;
    }

    private static int CheckedByteCount(string text, int max, string field)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        if (length > max)
        {
            throw new ArgumentException($"The {field} '{text}' takes {length} bytes in UTF-8; a call envelope carries at most {max}.", nameof(text));
        }

        return length;
    }

    private static Span<byte> WriteString(Span<byte> destination, string text, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)length);
        Encoding.UTF8.GetBytes(text, destination[2..]);
        return destination[(2 + length)..];
    }

    /// <summary>Finds the string at <paramref name="offset"/> and moves past it.</summary>
    /// <returns>Where the string's bytes are, or a length of -1 when it is truncated or longer than <paramref name="max"/>.</returns>
    private static (int Start, int Length) NextString(ReadOnlySpan<byte> payload, ref int offset, int max)
    {
        if (payload.Length - offset < 2)
        {
            return (0, -1);
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]);
        int start = offset + 2;
        if (length > max || payload.Length - start < length)
        {
            return (0, -1);
        }

        offset = start + length;
        return (start, length);
    }

    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> payload, (int Start, int Length) field) => payload.Slice(field.Start, field.Length);
}
