using System.Buffers;
using MemoryPack;
using Mesh.Transport.Tests;

namespace Mesh.Runtime.Tests;

/// <summary>
/// Messages whose members are all unmanaged are written and read by generated code without MemoryPack's writer and
/// reader. These tests hold that code to MemoryPack's bytes, and to the old reader's answers for every message that is
/// not laid out exactly as the contract expects.
/// </summary>
public sealed class RawMessageTests
{
    private static readonly Guid s_id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    private static readonly DateTime s_at = new(2026, 12, 4, 22, 50, 1, DateTimeKind.Utc);

    [Fact]
    public void A_request_of_unmanaged_members_is_written_as_MemoryPack_writes_it()
    {
        var request = new IMeasureActor_ShiftAsync_Request(new Vector3L(1, -2, long.MaxValue), -5, true, 2.5, Team.Red, s_id, s_at, 12.34m, null, 99);

        Assert.Equal(WithMemoryPack(IMeasureActor_ShiftAsync_Request.Formatter.Default, request), Write(request));
        Assert.Equal(WithMemoryPack(IMeasureActor_ShiftAsync_Request.Formatter.Default, new IMeasureActor_ShiftAsync_Request(default, 0, false, 0, default, default, default, 0, 3, 0)),
            Write(new IMeasureActor_ShiftAsync_Request(default, 0, false, 0, default, default, default, 0, 3, 0)));
    }

    [Fact]
    public void A_response_and_a_request_without_members_are_written_as_MemoryPack_writes_them()
    {
        var response = new IMeasureActor_ShiftAsync_Response(new Vector3L(7, 8, 9));
        var written = new ArrayBufferWriter<byte>();
        IMeasureActor_ShiftAsync_Response.Write(written, response);
        Assert.Equal(WithMemoryPack(IMeasureActor_ShiftAsync_Response.Formatter.Default, response), written.WrittenSpan.ToArray());
        Assert.Equal(new Vector3L(7, 8, 9), IMeasureActor_ShiftAsync_Response.Read(new ReadOnlySequence<byte>(written.WrittenMemory)).Result);

        var empty = new ArrayBufferWriter<byte>();
        IMeasureActor_CountAsync_Request.Write(empty, default);
        Assert.Equal(WithMemoryPack(IMeasureActor_CountAsync_Request.Formatter.Default, default), empty.WrittenSpan.ToArray());
        Assert.Equal([0], empty.WrittenSpan.ToArray());
    }

    [Fact]
    public void What_was_written_reads_back_from_one_segment_and_from_many()
    {
        var request = new IMeasureActor_ShiftAsync_Request(new Vector3L(3, 4, 5), 6, true, -0.5, Team.Blue, s_id, s_at, -1m, 42, long.MinValue);
        byte[] bytes = Write(request);

        AssertSame(request, IMeasureActor_ShiftAsync_Request.Read(new ReadOnlySequence<byte>(bytes)));

        // Split inside the first member and again later: the generated reader hands it to MemoryPack's.
        AssertSame(request, IMeasureActor_ShiftAsync_Request.Read(Segments.Split(bytes, 5, 30)));

        // Bytes after the message are ignored, as MemoryPack's reader ignores them.
        AssertSame(request, IMeasureActor_ShiftAsync_Request.Read(new ReadOnlySequence<byte>([.. bytes, 1, 2, 3])));
    }

    [Fact]
    public void A_message_from_an_older_contract_takes_the_defaults_and_one_from_a_newer_contract_is_refused()
    {
        // A sender that knew only the first member: the others take the parameters' defaults (0, false, ..., 7, -1).
        var older = new ArrayBufferWriter<byte>();
        using (MemoryPackWriterOptionalState state = MemoryPackWriterOptionalStatePool.Rent(null))
        {
            var writer = new MemoryPackWriter<ArrayBufferWriter<byte>>(ref older, state);
            writer.WriteObjectHeader(1);
            writer.WriteUnmanaged(new Vector3L(1, 1, 1));
            writer.Flush();
        }

        IMeasureActor_ShiftAsync_Request request = IMeasureActor_ShiftAsync_Request.Read(new ReadOnlySequence<byte>(older.WrittenMemory));
        Assert.Equal(new Vector3L(1, 1, 1), request.point);
        Assert.Equal(7, request.maybe);
        Assert.Equal(-1, request.big);
        Assert.Equal(0, request.dx);

        // Eleven members where the contract knows ten.
        byte[] newer = Write(new IMeasureActor_ShiftAsync_Request(default, 0, false, 0, default, default, default, 0, 0, 0));
        newer[0] = 11;
        Assert.Throws<MeshProtocolException>(() => IMeasureActor_ShiftAsync_Request.Read(new ReadOnlySequence<byte>([.. newer, .. new byte[16]])));
    }

    [Fact]
    public void A_message_cut_short_or_null_is_refused_rather_than_read_past_its_end()
    {
        byte[] bytes = Write(new IMeasureActor_ShiftAsync_Request(new Vector3L(1, 2, 3), 1, true, 1, Team.Red, s_id, s_at, 1m, 1, 1));
        Assert.ThrowsAny<Exception>(() => IMeasureActor_ShiftAsync_Request.Read(new ReadOnlySequence<byte>(bytes, 0, bytes.Length - 1)));
        Assert.ThrowsAny<Exception>(() => IMeasureActor_ShiftAsync_Response.Read(new ReadOnlySequence<byte>([1, 7, 0, 0, 0])));
        Assert.Throws<MeshProtocolException>(() => IMeasureActor_ShiftAsync_Response.Read(new ReadOnlySequence<byte>([MemoryPackCode.NullObject])));
    }

    [Fact]
    public async Task The_dispatcher_reads_raw_requests_and_writes_raw_responses()
    {
        var response = new ArrayBufferWriter<byte>();
        byte[] request = Write(new IMeasureActor_ShiftAsync_Request(new Vector3L(1, 2, 3), 10, false, 1, Team.Red, s_id, s_at, 0m, null, 0));

        await IMeasureActor_Dispatcher.Instance.DispatchAsync(new MeasureActor(), IMeasureActor_ShiftAsync_Request.MethodId, new ReadOnlySequence<byte>(request), response, CancellationToken.None);

        Assert.Equal(WithMemoryPack(IMeasureActor_ShiftAsync_Response.Formatter.Default, new IMeasureActor_ShiftAsync_Response(new Vector3L(11, 2, 3))), response.WrittenSpan.ToArray());
    }

    private static byte[] Write(in IMeasureActor_ShiftAsync_Request request)
    {
        var written = new ArrayBufferWriter<byte>();
        IMeasureActor_ShiftAsync_Request.Write(written, request);
        return written.WrittenSpan.ToArray();
    }

    private static byte[] WithMemoryPack<T>(MemoryPackFormatter<T> formatter, T? value)
    {
        var written = new ArrayBufferWriter<byte>();
        using (MemoryPackWriterOptionalState state = MemoryPackWriterOptionalStatePool.Rent(null))
        {
            var writer = new MemoryPackWriter<ArrayBufferWriter<byte>>(ref written, state);
            formatter.Serialize(ref writer, ref value);
            writer.Flush();
        }

        return written.WrittenSpan.ToArray();
    }

    private static void AssertSame(IMeasureActor_ShiftAsync_Request expected, IMeasureActor_ShiftAsync_Request actual)
    {
        Assert.Equal(
            (expected.point, expected.dx, expected.flag, expected.scale, expected.team, expected.id, expected.at, expected.amount, expected.maybe, expected.big),
            (actual.point, actual.dx, actual.flag, actual.scale, actual.team, actual.id, actual.at, actual.amount, actual.maybe, actual.big));
    }
}

/// <summary>An unmanaged struct without padding, so its bytes on the wire are fully defined.</summary>
public readonly record struct Vector3L(long X, long Y, long Z);

[MeshActor("measure")]
public interface IMeasureActor : IMeshActor
{
    ValueTask<Vector3L> ShiftAsync(Vector3L point, int dx, bool flag, double scale, Team team, Guid id, DateTime at, decimal amount, int? maybe = 7, long big = -1);

    ValueTask<int> CountAsync();
}

public sealed class MeasureActor : IMeasureActor
{
    private int _count;

    public ValueTask<Vector3L> ShiftAsync(Vector3L point, int dx, bool flag, double scale, Team team, Guid id, DateTime at, decimal amount, int? maybe = 7, long big = -1)
        => new(point with { X = point.X + dx });

    public ValueTask<int> CountAsync() => new(++_count);
}
