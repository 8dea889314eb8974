namespace Mesh.Generators.Tests;

/// <summary>Representative contracts the tests compile.</summary>
internal static class Sources
{
    public const string Counter = """
        using System.Threading;
        using System.Threading.Tasks;
        using Mesh;

        namespace Sample;

        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);

            [OneWay]
            ValueTask ResetAsync();
        }

        public sealed class Counter(IActorContext context) : ICounter
        {
            private int _value;

            public ActorId Id => context.Id;

            public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);

            public ValueTask ResetAsync()
            {
                _value = 0;
                return ValueTask.CompletedTask;
            }
        }
        """;

    public const string Game = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MemoryPack;
        using Mesh;

        namespace Sample.Games
        {
            public interface INamed
            {
                Task<string> NameAsync(string prefix = "name:");
            }

            public enum Team { Red = 1, Blue = -2 }

            public struct Position { public int X; public int Y; }

            [MeshActor("game.server")]
            public interface IGame : IMeshActor, INamed
            {
                Task JoinAsync(List<PlayerState> players, Team team = Team.Blue, CancellationToken cancellationToken = default);

                ValueTask<Dictionary<string, int>?> ScoresAsync();

                ValueTask<Position> MoveAsync(string player, Position to);

                ValueTask<Position> MoveAsync(string player, int dx, int dy);

                [MethodAlias("Rename/v1")]
                ValueTask RenameAsync(string @class, string? nickname = null, double ratio = 0.5, char separator = '\'');
            }

            public static class Outer
            {
                [MeshActor("lobby")]
                public interface ILobby : IMeshActor
                {
                    [OneWay]
                    Task PingAsync(byte[] payload);
                }
            }
        }
        """;

    public const string PlayerState = """
        using MemoryPack;

        namespace Sample.Games;

        public sealed class PlayerState
        {
            public string Name { get; set; } = "";

            public int Score { get; set; }
        }
        """;
}
