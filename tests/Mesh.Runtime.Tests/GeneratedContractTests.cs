using System.Buffers;
using MemoryPack;
using Mesh.Infrastructure;

namespace Mesh.Runtime.Tests;

public sealed class GeneratedContractTests
{
    [Fact]
    public async Task Inherited_members_default_values_Task_returns_overloads_and_MemoryPack_types_work_through_the_proxy()
    {
        await using TestNode node = await TestNode.StartAsync(["game"]);
        string key = TestNode.NewKey();
        IGameActor game = node.Mesh.GetActor<IGameActor>(key);

        Assert.Equal("name:" + key, await game.NameAsync());
        Assert.Equal("n/" + key, await game.NameAsync("n/"));
        await game.JoinAsync(new PlayerState { Name = "ada", Score = 3 });
        await game.JoinAsync(new PlayerState { Name = "bob", Score = 4 }, Team.Red);
        List<PlayerState> players = await game.PlayersAsync();

        Assert.Equal(["ada", "bob"], players.Select(p => p.Name));
        Assert.Equal(3, await game.ScoreAsync("ada", CancellationToken.None));
        Assert.Equal(4, await game.ScoreAsync(Team.Red));
        Assert.Equal(3, await game.ScoreAsync(Team.Blue));
        Assert.Null(await game.FindAsync());
        Assert.Equal("bob", await game.FindAsync("bob"));
    }

    [Fact]
    public void Method_ids_follow_the_documented_rule()
    {
        // FNV-1a of "Name(T1,...)" with fully qualified parameter types and without the CancellationToken.
        Assert.Equal(Fnv1a("IncrementAsync(int)"), IProbeActor_IncrementAsync_Request.MethodId);
        Assert.Equal(Fnv1a("NameAsync(string)"), IGameActor_NameAsync_Request.MethodId);
        uint[] overloads = [IGameActor_ScoreAsync_8FFFCE6B_Request.MethodId, IGameActor_ScoreAsync_28BE78B3_Request.MethodId];
        Assert.Equal(new[] { Fnv1a("ScoreAsync(string)"), Fnv1a("ScoreAsync(Mesh.Runtime.Tests.Team)") }.Order(), overloads.Order());
        Assert.Equal(Fnv1a("JoinAsync(Mesh.Runtime.Tests.PlayerState,Mesh.Runtime.Tests.Team)"), IGameActor_JoinAsync_Request.MethodId);
    }

    [Fact]
    public async Task The_dispatcher_runs_a_serialized_call_and_serializes_the_result()
    {
        var actor = new GameActor(new FixedContext(new ActorId("game", "IGameActor", "k")));
        IActorDispatcher dispatcher = IGameActor_Dispatcher.Instance;
        var response = new ArrayBufferWriter<byte>();

        var join = new ArrayBufferWriter<byte>();
        IGameActor_JoinAsync_Request.Write(join, new IGameActor_JoinAsync_Request(new PlayerState { Name = "ada", Score = 9 }, Team.Red));
        await dispatcher.DispatchAsync(actor, IGameActor_JoinAsync_Request.MethodId, new ReadOnlySequence<byte>(join.WrittenMemory), response, CancellationToken.None);
        Assert.Equal(0, response.WrittenCount);

        var name = new ArrayBufferWriter<byte>();
        IGameActor_NameAsync_Request.Write(name, new IGameActor_NameAsync_Request("p:"));
        await dispatcher.DispatchAsync(actor, NameAsyncId, new ReadOnlySequence<byte>(name.WrittenMemory), response, CancellationToken.None);
        Assert.Equal("p:k", IGameActor_NameAsync_Response.Read(new ReadOnlySequence<byte>(response.WrittenMemory)).Result);

        Assert.Equal(dispatcher.Methods.Select(m => m.Id).Order(), dispatcher.Methods.Select(m => m.Id));
        Assert.Equal(6, dispatcher.Methods.Count);
    }

    [Fact]
    public async Task The_dispatcher_refuses_unknown_methods_and_messages_from_a_newer_contract()
    {
        var actor = new GameActor(new FixedContext(new ActorId("game", "IGameActor", "k")));
        IActorDispatcher dispatcher = IGameActor_Dispatcher.Instance;
        var response = new ArrayBufferWriter<byte>();

        MeshProtocolException unknown = await Assert.ThrowsAsync<MeshProtocolException>(async () =>
            await dispatcher.DispatchAsync(actor, 0xDEADBEEF, ReadOnlySequence<byte>.Empty, response, CancellationToken.None));
        Assert.Contains("0xDEADBEEF", unknown.Message, StringComparison.Ordinal);

        // Three members where the request knows two: a sender with a newer contract.
        byte[] tooMany = [3, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0];
        await Assert.ThrowsAsync<MeshProtocolException>(async () =>
            await dispatcher.DispatchAsync(actor, IGameActor_JoinAsync_Request.MethodId, new ReadOnlySequence<byte>(tooMany), response, CancellationToken.None));
    }

    [Fact]
    public void A_request_with_fewer_members_takes_the_parameters_default_values()
    {
        // A sender that knew only the first parameter: the second takes its declared default, Team.Blue.
        var writer = new ArrayBufferWriter<byte>();
        var player = new PlayerState { Name = "ada" };
        using (MemoryPackWriterOptionalState state = MemoryPackWriterOptionalStatePool.Rent(null))
        {
            var packWriter = new MemoryPackWriter<ArrayBufferWriter<byte>>(ref writer, state);
            packWriter.WriteObjectHeader(1);
            packWriter.WriteValue(player);
            packWriter.Flush();
        }

        IGameActor_JoinAsync_Request request = IGameActor_JoinAsync_Request.Read(new ReadOnlySequence<byte>(writer.WrittenMemory));

        Assert.Equal("ada", request.player.Name);
        Assert.Equal(Team.Blue, request.team);
    }

    private static uint NameAsyncId => Fnv1a("NameAsync(string)");

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }

    private sealed class FixedContext(ActorId id) : IActorContext
    {
        public ActorId Id => id;

        public IMesh Mesh => throw new NotSupportedException();

        public CancellationToken Deactivating => CancellationToken.None;

        public void DeactivateOnIdle()
        {
        }
    }
}
