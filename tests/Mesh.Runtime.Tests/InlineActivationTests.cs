namespace Mesh.Runtime.Tests;

/// <summary>The first call to a new actor runs the activation and itself on the caller's thread when both complete
/// synchronously; failures and concurrent first calls still behave as through the mailbox.</summary>
public sealed class InlineActivationTests
{
    [Fact]
    public async Task A_first_call_completes_synchronously_when_activation_and_call_do()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();

        ValueTask<int> first = node.Mesh.GetActor<IProbeActor>(key).IncrementAsync(7);

        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(7, await first);
        string[] events = [.. node.Probe.Events.Where(e => e.EndsWith(key, StringComparison.Ordinal))];
        Assert.Equal(["activate:" + key, "call:" + key], events);
    }

    [Fact]
    public async Task A_first_call_to_an_actor_whose_activation_throws_fails_with_the_activation_error()
    {
        await using TestNode node = await TestNode.StartAsync(["failing"]);
        IFailingActivation actor = node.Mesh.GetActor<IFailingActivation>(TestNode.NewKey());

        ActorActivationException error = await Assert.ThrowsAsync<ActorActivationException>(() => actor.PingAsync().AsTask()).Within();

        Assert.Contains(FailingActivation.Message, error.Message, StringComparison.Ordinal);

        // A second call gets a new activation, which fails the same way rather than hanging.
        await Assert.ThrowsAsync<ActorActivationException>(() => actor.PingAsync().AsTask()).Within();
    }
}

[MeshActor("failing")]
public interface IFailingActivation : IMeshActor
{
    ValueTask<int> PingAsync();
}

public sealed class FailingActivation : IFailingActivation, IActorLifecycle
{
    public const string Message = "activation refused by the test";

    public ValueTask OnActivateAsync(CancellationToken cancellationToken) => throw new InvalidOperationException(Message);

    public ValueTask OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => default;

    public ValueTask<int> PingAsync() => new(1);
}
