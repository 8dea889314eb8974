namespace Mesh.Runtime.Tests;

public sealed class AllocationTests
{
    [Fact]
    public async Task A_warm_local_call_allocates_nothing()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        for (int i = 0; i < 100; i++)
        {
            await actor.EchoAsync("warm");
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            // Completes synchronously (inline turn), so awaiting it does not suspend this method.
            await actor.EchoAsync("warm");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
