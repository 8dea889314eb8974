using System.ComponentModel;

namespace Mesh.Infrastructure;

/// <summary>The response type of actor methods that return no value. Used by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct VoidResponse
{
    /// <summary>Adapts a method's <see cref="ValueTask"/> without allocating when it completed synchronously.</summary>
    /// <param name="task">The task the actor method returned.</param>
    /// <returns>A task that completes when <paramref name="task"/> does.</returns>
    public static ValueTask<VoidResponse> FromValueTask(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            task.GetAwaiter().GetResult();
            return default;
        }

        return AwaitAsync(task);

        static async ValueTask<VoidResponse> AwaitAsync(ValueTask pending)
        {
            await pending.ConfigureAwait(false);
            return default;
        }
    }

    /// <summary>Adapts a method's <see cref="Task"/> without allocating when it completed synchronously.</summary>
    /// <param name="task">The task the actor method returned.</param>
    /// <returns>A task that completes when <paramref name="task"/> does.</returns>
    public static ValueTask<VoidResponse> FromTask(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return FromValueTask(new ValueTask(task));
    }
}
