using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Text;
using System.Text.Unicode;
using Mesh.Runtime;

namespace Mesh.Membership;

/// <summary>
/// The wire format of membership messages: compact, little-endian, written with <see cref="BinaryPrimitives"/>.
/// Every message starts with <see cref="FormatVersion"/> and its <see cref="MembershipMessageType"/>, then:
/// <list type="bullet">
/// <item>Ping: sender, target id, updates. Ack: sender, updates. Gossip: sender, updates.</item>
/// <item>PingRequest: sender, sequence (i64), target id, target endpoint, reply endpoint, updates. PingRequestAck:
/// sender, sequence, reached (byte), updates. Both are one-way messages: the helper probes on its own time rather than
/// on the read loop of the requester's connection, and answers to the reply endpoint.</item>
/// <item>Sync: sender, protocol version (u16), cluster name, shard count (i32), join (byte), updates (the whole view).
/// SyncAck: sender, updates. Refused: sender, setting, message.</item>
/// </list>
/// An id is a name and an incarnation (i64); a string is a u16 byte length and UTF-8; updates are a u16 count, each
/// name, incarnation (i64), epoch (i64), status (byte), endpoint (empty for none), a u16 capability count and the
/// capabilities. Every count and length is bounded, and <see cref="Read(ReadOnlySpan{byte})"/> throws nothing but
/// <see cref="MeshProtocolException"/>, whatever the bytes.
/// </summary>
internal static class MembershipCodec
{
    /// <summary>The envelope's format; a message of another format is refused before anything else is read.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The most members a view may hold: one state exchange of this many stays a few MB.</summary>
    public const int MaxMembers = 4096;

    /// <summary>The most capabilities one member may announce.</summary>
    public const int MaxCapabilities = 256;

    /// <summary>The longest capability name, in bytes.</summary>
    public const int MaxCapabilityLength = 128;

    /// <summary>The longest endpoint: a 253-byte DNS name, brackets and a port.</summary>
    public const int MaxEndpointLength = 264;

    /// <summary>The longest cluster name, in bytes.</summary>
    public const int MaxClusterNameLength = 128;

    /// <summary>The longest setting name or refusal message, in bytes.</summary>
    public const int MaxTextLength = 1024;

    /// <summary>The smallest encoded update: a one-byte name, both counters, status, no endpoint, no capability.</summary>
    private const int MinUpdateSize = 3 + 8 + 8 + 1 + 2 + 2;

    private static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static byte[] Write(MembershipMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, MembershipMessage message)
    {
        var writer = new Writer(output);
        writer.Byte(FormatVersion);
        writer.Byte((byte)message.Type);
        writer.Id(message.Sender);
        switch (message.Type)
        {
            case MembershipMessageType.Ping:
                writer.Id(message.Target);
                break;
            case MembershipMessageType.PingRequest:
                writer.Int64(message.Sequence);
                writer.Id(message.Target);
                writer.String(message.TargetEndpoint, MaxEndpointLength);
                writer.String(message.ReplyTo, MaxEndpointLength);
                break;
            case MembershipMessageType.PingRequestAck:
                writer.Int64(message.Sequence);
                writer.Byte(message.Reached ? (byte)1 : (byte)0);
                break;
            case MembershipMessageType.Sync:
                writer.UInt16(checked((ushort)message.ProtocolVersion));
                writer.String(message.ClusterName, MaxClusterNameLength);
                writer.Int32(message.ShardCount);
                writer.Byte(message.IsJoin ? (byte)1 : (byte)0);
                break;
            case MembershipMessageType.Refused:
                writer.String(message.RefusedSetting, MaxTextLength);
                writer.String(message.RefusalMessage, MaxTextLength);
                return;
            case MembershipMessageType.Ack:
            case MembershipMessageType.SyncAck:
            case MembershipMessageType.Gossip:
                break;
            default:
                throw new ArgumentException($"Unknown membership message type {message.Type}.", nameof(message));
        }

        if (message.Updates.Count > MaxMembers)
        {
            throw new ArgumentException($"A membership message carries at most {MaxMembers} members; this one has {message.Updates.Count}.", nameof(message));
        }

        writer.UInt16((ushort)message.Updates.Count);
        foreach (MemberUpdate update in message.Updates)
        {
            writer.String(update.Name, HostPort.MaxNodeNameLength);
            writer.Int64(update.Incarnation);
            writer.Int64(update.Epoch);
            writer.Byte((byte)update.Status);
            writer.String(update.Endpoint ?? string.Empty, MaxEndpointLength);
            if (update.Capabilities.Count > MaxCapabilities)
            {
                throw new ArgumentException($"A member announces at most {MaxCapabilities} capabilities; {update.Name} has {update.Capabilities.Count}.", nameof(message));
            }

            writer.UInt16((ushort)update.Capabilities.Count);
            foreach (string capability in update.Capabilities)
            {
                writer.String(capability, MaxCapabilityLength);
            }
        }
    }

    /// <summary>Decodes one message.</summary>
    /// <exception cref="MeshProtocolException">The bytes are not a membership message of this format, or break a bound.</exception>
    public static MembershipMessage Read(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return Read(payload.FirstSpan);
        }

        if (payload.Length > int.MaxValue)
        {
            throw new MeshProtocolException("A membership message is larger than 2 GiB.");
        }

        byte[] copy = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(copy);
            return Read(copy.AsSpan(0, (int)payload.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Decodes one message.</summary>
    /// <exception cref="MeshProtocolException">The bytes are not a membership message of this format, or break a bound.</exception>
    public static MembershipMessage Read(ReadOnlySpan<byte> payload)
    {
        var reader = new Reader(payload);
        byte format = reader.Byte();
        if (format != FormatVersion)
        {
            throw new MeshProtocolException($"Membership message of format {format}; this node reads format {FormatVersion}.");
        }

        var type = (MembershipMessageType)reader.Byte();
        MemberId sender = reader.Id();
        MemberId target = default;
        string targetEndpoint = string.Empty;
        string replyTo = string.Empty;
        long sequence = 0;
        bool flag = false;
        int protocolVersion = 0;
        string clusterName = string.Empty;
        int shardCount = 0;
        switch (type)
        {
            case MembershipMessageType.Ping:
                target = reader.Id();
                break;
            case MembershipMessageType.PingRequest:
                sequence = reader.Int64();
                target = reader.Id();
                targetEndpoint = reader.Endpoint() ?? throw new MeshProtocolException("An indirect probe names no endpoint to probe.");
                replyTo = reader.Endpoint() ?? throw new MeshProtocolException("An indirect probe names no endpoint to answer to.");
                break;
            case MembershipMessageType.PingRequestAck:
                sequence = reader.Int64();
                flag = reader.Bool();
                break;
            case MembershipMessageType.Sync:
                protocolVersion = reader.UInt16();
                clusterName = reader.String(MaxClusterNameLength);
                shardCount = reader.Int32();
                flag = reader.Bool();
                break;
            case MembershipMessageType.Refused:
                string setting = reader.String(MaxTextLength);
                string refusal = reader.String(MaxTextLength);
                reader.End();
                return new MembershipMessage { Type = type, Sender = sender, RefusedSetting = setting, RefusalMessage = refusal };
            case MembershipMessageType.Ack:
            case MembershipMessageType.SyncAck:
            case MembershipMessageType.Gossip:
                break;
            default:
                throw new MeshProtocolException($"Unknown membership message type {(byte)type}.");
        }

        MemberUpdate[] updates = reader.Updates();
        reader.End();
        return new MembershipMessage
        {
            Type = type,
            Sender = sender,
            Target = target,
            TargetEndpoint = targetEndpoint,
            ReplyTo = replyTo,
            Sequence = sequence,
            Reached = type == MembershipMessageType.PingRequestAck && flag,
            IsJoin = type == MembershipMessageType.Sync && flag,
            ProtocolVersion = protocolVersion,
            ClusterName = clusterName,
            ShardCount = shardCount,
            Updates = updates,
        };
    }

    private readonly ref struct Writer(IBufferWriter<byte> output)
    {
        public void Byte(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        public void UInt16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), value);
            output.Advance(2);
        }

        public void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
            output.Advance(4);
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }

        public void Id(MemberId id)
        {
            String(id.Name ?? string.Empty, HostPort.MaxNodeNameLength);
            Int64(id.Incarnation);
        }

        public void String(string value, int maxBytes)
        {
            int length = Encoding.UTF8.GetByteCount(value);
            if (length > maxBytes)
            {
                throw new ArgumentException($"'{value[..Math.Min(value.Length, 40)]}...' is {length} bytes long; a membership message allows {maxBytes} here.", nameof(value));
            }

            UInt16((ushort)length);
            Span<byte> span = output.GetSpan(length);
            Encoding.UTF8.GetBytes(value, span);
            output.Advance(length);
        }
    }

    /// <summary>Reads a message, checking every length against what is left and every value against its bounds.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public byte Byte()
        {
            return Take(1)[0];
        }

        public bool Bool() => Byte() switch
        {
            0 => false,
            1 => true,
            byte other => throw new MeshProtocolException($"A membership flag is 0 or 1, not {other}."),
        };

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public MemberId Id() => new(Name(), Int64());

        public string Name()
        {
            string name = String(HostPort.MaxNodeNameLength);
            return HostPort.IsValidNodeName(name) ? name : throw new MeshProtocolException($"'{name}' is not a node name.");
        }

        public string? Endpoint()
        {
            string endpoint = String(MaxEndpointLength);
            if (endpoint.Length == 0)
            {
                return null;
            }

            return HostPort.TryParse(endpoint, allowPortZero: false, out _, out _, out string? error) ? endpoint : throw new MeshProtocolException(error);
        }

        public string String(int maxBytes)
        {
            int length = UInt16();
            if (length > maxBytes)
            {
                throw new MeshProtocolException($"A membership string of {length} bytes exceeds its bound of {maxBytes}.");
            }

            ReadOnlySpan<byte> bytes = Take(length);
            if (!Utf8.IsValid(bytes))
            {
                throw new MeshProtocolException("A membership string is not valid UTF-8.");
            }

            return Utf8Strict.GetString(bytes);
        }

        public MemberUpdate[] Updates()
        {
            int count = UInt16();
            if (count > MaxMembers)
            {
                throw new MeshProtocolException($"A membership message of {count} members exceeds the bound of {MaxMembers}.");
            }

            if (count > (_data.Length - _position) / MinUpdateSize)
            {
                throw new MeshProtocolException($"A membership message announces {count} members but is too short to hold them.");
            }

            var updates = new MemberUpdate[count];
            for (int i = 0; i < count; i++)
            {
                string name = Name();
                long incarnation = Int64();
                long epoch = Int64();
                if (epoch < 0)
                {
                    throw new MeshProtocolException($"The epoch of {name} is negative.");
                }

                byte status = Byte();
                if (status > (byte)MeshNodeStatus.Left)
                {
                    throw new MeshProtocolException($"Unknown member status {status}.");
                }

                string? endpoint = Endpoint();
                int capabilityCount = UInt16();
                if (capabilityCount > MaxCapabilities)
                {
                    throw new MeshProtocolException($"{name} announces {capabilityCount} capabilities; the bound is {MaxCapabilities}.");
                }

                IReadOnlySet<string> capabilities = FrozenSet<string>.Empty;
                if (capabilityCount > 0)
                {
                    var set = new HashSet<string>(capabilityCount, StringComparer.Ordinal);
                    for (int c = 0; c < capabilityCount; c++)
                    {
                        string capability = String(MaxCapabilityLength);
                        if (!Capabilities.IsValidName(capability))
                        {
                            throw new MeshProtocolException($"'{capability}' is not a capability name.");
                        }

                        set.Add(capability);
                    }

                    capabilities = set.ToFrozenSet(StringComparer.Ordinal);
                }

                updates[i] = new MemberUpdate(name, incarnation, epoch, (MeshNodeStatus)status, endpoint, capabilities);
            }

            return updates;
        }

        public readonly void End()
        {
            if (_position != _data.Length)
            {
                throw new MeshProtocolException($"A membership message has {_data.Length - _position} bytes after its end.");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_data.Length - _position < count)
            {
                throw new MeshProtocolException("A membership message ends in the middle of a field.");
            }

            ReadOnlySpan<byte> span = _data.Slice(_position, count);
            _position += count;
            return span;
        }
    }
}
