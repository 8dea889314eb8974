using System.Buffers.Binary;
using System.Text;

namespace Mesh.Transport.Tcp;

/// <summary>
/// Reads the ALPN protocols a TLS client offers from the first record of its ClientHello, before <c>SslStream</c> sees
/// it: the TLS stack refuses a client that offers another protocol version without saying what it offered, and the log
/// line of a refusal must name both versions.
/// </summary>
internal static class ClientHello
{
    /// <summary>The largest TLS record (2^14 bytes of plaintext plus the allowed expansion) and its 5-byte header.</summary>
    public const int MaxRecordLength = 5 + 16384 + 2048;

    private const byte HandshakeRecord = 22;
    private const byte ClientHelloMessage = 1;
    private const ushort AlpnExtension = 16;

    /// <summary>Reads one TLS record from <paramref name="stream"/>.</summary>
    /// <returns>The record (header included), or <see langword="null"/> when the stream does not start with a TLS
    /// handshake record.</returns>
    public static async ValueTask<byte[]?> ReadFirstRecordAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[5];
        await stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
        int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3));
        if (header[0] != HandshakeRecord || header[1] != 3 || length == 0 || 5 + length > MaxRecordLength)
        {
            return null;
        }

        byte[] record = new byte[5 + length];
        header.CopyTo(record, 0);
        await stream.ReadExactlyAsync(record.AsMemory(5), cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>Finds the ALPN protocol names in a ClientHello record.</summary>
    /// <param name="record">A TLS record, header included.</param>
    /// <param name="protocols">The offered names, empty when the client offers none.</param>
    /// <returns><see langword="false"/> when the record is not a complete ClientHello (a client may split one across
    /// records; the TLS stack then decides alone).</returns>
    public static bool TryGetApplicationProtocols(ReadOnlySpan<byte> record, out List<string> protocols)
    {
        protocols = [];
        if (record.Length < 5 + 4 || record[0] != HandshakeRecord || record[5] != ClientHelloMessage)
        {
            return false;
        }

        var reader = new SpanReader(record[9..]);
        int declared = (record[6] << 16) | (record[7] << 8) | record[8];
        if (declared > reader.Remaining
            || !reader.Skip(2 + 32) // version, random
            || !reader.SkipVector(1) // session id
            || !reader.SkipVector(2) // cipher suites
            || !reader.SkipVector(1)) // compression methods
        {
            return false;
        }

        if (reader.Remaining == 0)
        {
            return true; // no extensions at all
        }

        if (!reader.TryReadUInt16(out ushort extensionsLength) || extensionsLength > reader.Remaining)
        {
            return false;
        }

        var extensions = new SpanReader(reader.Take(extensionsLength));
        while (extensions.Remaining > 0)
        {
            if (!extensions.TryReadUInt16(out ushort type) || !extensions.TryReadUInt16(out ushort length) || length > extensions.Remaining)
            {
                return false;
            }

            ReadOnlySpan<byte> body = extensions.Take(length);
            if (type != AlpnExtension)
            {
                continue;
            }

            var list = new SpanReader(body);
            if (!list.TryReadUInt16(out ushort listLength) || listLength != list.Remaining)
            {
                return false;
            }

            while (list.Remaining > 0)
            {
                byte nameLength = list.ReadByte();
                if (nameLength == 0 || nameLength > list.Remaining)
                {
                    return false;
                }

                protocols.Add(Encoding.ASCII.GetString(list.Take(nameLength)));
            }
        }

        return true;
    }

    /// <summary>Forward-only reads over a span, each checked against its end.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private ReadOnlySpan<byte> _span = span;

        public readonly int Remaining => _span.Length;

        public bool Skip(int count)
        {
            if (count > _span.Length)
            {
                return false;
            }

            _span = _span[count..];
            return true;
        }

        public bool SkipVector(int lengthBytes)
        {
            if (_span.Length < lengthBytes)
            {
                return false;
            }

            int length = lengthBytes == 1 ? _span[0] : BinaryPrimitives.ReadUInt16BigEndian(_span);
            return Skip(lengthBytes) && Skip(length);
        }

        public bool TryReadUInt16(out ushort value)
        {
            if (_span.Length < 2)
            {
                value = 0;
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_span);
            _span = _span[2..];
            return true;
        }

        public byte ReadByte()
        {
            byte value = _span[0];
            _span = _span[1..];
            return value;
        }

        public ReadOnlySpan<byte> Take(int count)
        {
            ReadOnlySpan<byte> taken = _span[..count];
            _span = _span[count..];
            return taken;
        }
    }
}
