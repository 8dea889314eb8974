using Mesh.Analyzers.CodeFixes;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.BlockingWaitAnalyzer>;

namespace Mesh.Analyzers.Tests;

public sealed class BlockingWaitAnalyzerTests
{
    private const string Contract = """
        using Mesh;
        using System.Threading.Tasks;

        [MeshActor("counter")]
        public interface ICounter : IMeshActor { ValueTask<int> GetAsync(); }

        """;

    private static DiagnosticResult Blocking(int location, string text) =>
        new DiagnosticResult(DiagnosticDescriptors.BlockingWait).WithLocation(location).WithArguments(text);

    [Fact]
    public Task ResultWaitAndGetResultInAnActorAreReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter(ICounter other) : ICounter
        {
            public ValueTask<int> GetAsync()
            {
                Task<int> task = Task.FromResult(1);
                int a = {|#0:task.Result|};
                {|#1:task.Wait()|};
                int b = {|#2:other.GetAsync().GetAwaiter().GetResult()|};
                int c = {|#3:other.GetAsync().Result|};
                return new(a + b + c);
            }
        }
        """,
        Blocking(0, "task.Result"),
        Blocking(1, "task.Wait()"),
        Blocking(2, "other.GetAsync().GetAwaiter().GetResult()"),
        Blocking(3, "other.GetAsync().Result"));

    [Fact]
    public Task AwaitInAnActorIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter(ICounter other) : ICounter
        {
            public async ValueTask<int> GetAsync() => await other.GetAsync() + await Task.FromResult(1);
        }
        """);

    [Fact]
    public Task BlockingOutsideActorClassesIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public static class Program
        {
            public static int Main() => Task.FromResult(1).Result;
        }
        """);

    [Fact]
    public Task BlockingInALambdaInsideAnActorIsReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter : ICounter
        {
            public ValueTask<int> GetAsync()
            {
                System.Func<int> f = () => {|#0:Task.FromResult(2).Result|};
                return new(f());
            }
        }
        """,
        Blocking(0, "Task.FromResult(2).Result"));

    [Fact]
    public Task CodeFixReplacesEveryBlockingFormWithAwait() => V.CodeFixAsync<AwaitInsteadOfBlockingCodeFixProvider>(
        Contract + """
        public sealed class Counter(ICounter other) : ICounter
        {
            public async ValueTask<int> GetAsync()
            {
                Task<int> task = Task.FromResult(1);
                int a = {|#0:task.Result|} + 1;
                {|#1:task.Wait()|};
                int b = {|#2:other.GetAsync().GetAwaiter().GetResult()|};
                string c = {|#3:task.Result|}.ToString();
                return a + b + c.Length;
            }
        }
        """,
        [Blocking(0, "task.Result"), Blocking(1, "task.Wait()"), Blocking(2, "other.GetAsync().GetAwaiter().GetResult()"), Blocking(3, "task.Result")],
        Contract + """
        public sealed class Counter(ICounter other) : ICounter
        {
            public async ValueTask<int> GetAsync()
            {
                Task<int> task = Task.FromResult(1);
                int a = await task + 1;
                await task;
                int b = await other.GetAsync();
                string c = (await task).ToString();
                return a + b + c.Length;
            }
        }
        """,
        AwaitInsteadOfBlockingCodeFixProvider.Key,
        iterations: 4);

    [Fact]
    public Task CodeFixIsNotOfferedOutsideAsyncCode() => V.CodeFixAsync<AwaitInsteadOfBlockingCodeFixProvider>(
        Contract + """
        public sealed class Counter : ICounter
        {
            public ValueTask<int> GetAsync() => new({|#0:Task.FromResult(1).Result|});
        }
        """,
        [Blocking(0, "Task.FromResult(1).Result")],
        Contract + """
        public sealed class Counter : ICounter
        {
            public ValueTask<int> GetAsync() => new({|#0:Task.FromResult(1).Result|});
        }
        """,
        iterations: 0);
}
