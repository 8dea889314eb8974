using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh.Infrastructure;

namespace Mesh.Runtime;

/// <summary>
/// The runtime's tracing: one <see cref="ActivitySource"/> named <c>Mesh</c>, the span and tag names, and the helpers
/// that start and end call spans. Every helper is reached only after <see cref="ActivitySource.HasListeners"/> (or an
/// enabled instrument) said somebody listens, so a node nobody observes pays a flag check per call and allocates
/// nothing. See docs/telemetry.md for what each span carries.
/// </summary>
internal static class MeshTelemetry
{
    /// <summary>The name of the activity source and of the meter (what <c>AddSource</c>/<c>AddMeter</c> take).</summary>
    public const string Name = "Mesh";

    /// <summary>The version both report: the instrumentation's, not the package's, so dashboards keyed on it survive
    /// releases that do not change the names.</summary>
    public const string Version = "0.1.0";

    public const string ActorTypeTag = "mesh.actor.type";
    public const string ActorKeyTag = "mesh.actor.key";
    public const string CapabilityTag = "mesh.capability";
    public const string MethodTag = "mesh.method";
    public const string NodeTag = "mesh.node";
    public const string PeerNodeTag = "mesh.peer.node";
    public const string OneWayTag = "mesh.one_way";
    public const string ErrorTypeTag = "error.type";

    // Span names by contract and method id, built once: a name per sampled call would be an allocation per call.
    private static readonly ConcurrentDictionary<(ActorContract Contract, uint MethodId), string> s_spanNames = new();

    /// <summary>Gets the source of every Mesh span.</summary>
    public static ActivitySource Source { get; } = new(Name, Version);

    /// <summary>Starts the caller's span of a call: <see cref="ActivityKind.Internal"/> when this node runs it (the one
    /// span of a local call), <see cref="ActivityKind.Client"/> (<see cref="ActivityKind.Producer"/> for one-way
    /// messages) when it goes to another node. Null when nobody samples it.</summary>
    public static Activity? StartCall(ActorContract contract, uint methodId, string method, ActorId id, string node, bool remote, bool oneWay)
    {
        ActivityKind kind = !remote ? ActivityKind.Internal : oneWay ? ActivityKind.Producer : ActivityKind.Client;
        Activity? activity = Source.StartActivity(SpanName(contract, methodId, method), kind);
        if (activity is { IsAllDataRequested: true })
        {
            Tag(activity, id, method, node, oneWay);
        }

        return activity;
    }

    /// <summary>Starts the owner's span of a call that came from another node, as a child of the caller's span when the
    /// envelope carried a W3C trace context, and leaves <see cref="Activity.Current"/> as it was (the span becomes
    /// current only while the call's turn runs). <paramref name="traceParent"/> and <paramref name="traceState"/> are the
    /// envelope's fields in UTF-8, empty when the caller sent none.</summary>
    public static Activity? StartServerCall(ActorContract contract, uint methodId, string method, ActorId id, string node, bool oneWay, ReadOnlySpan<byte> traceParent, ReadOnlySpan<byte> traceState)
    {
        ActivityContext parent = default;
        if (!traceParent.IsEmpty)
        {
            // A malformed context is ignored: the span starts a new trace rather than failing the call.
            _ = ActivityContext.TryParse(
                System.Text.Encoding.UTF8.GetString(traceParent),
                traceState.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(traceState),
                isRemote: true,
                out parent);
        }

        Activity? previous = Activity.Current;

        // With no remote parent the span is a root: whatever activity this thread (a connection's read loop) happens to
        // carry is unrelated to the call.
        Activity.Current = null;
        Activity? activity = Source.StartActivity(SpanName(contract, methodId, method), oneWay ? ActivityKind.Consumer : ActivityKind.Server, parent);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            Tag(activity, id, method, node, oneWay);
        }

        return activity;
    }

    /// <summary>Gets the W3C trace context to send with a remote call: that of <see cref="Activity.Current"/> (the
    /// caller's span, or the application's own activity when Mesh's spans are not sampled).</summary>
    public static (string? TraceParent, string? TraceState) CurrentContext()
    {
        Activity? current = Activity.Current;
        return current is { IdFormat: ActivityIdFormat.W3C } ? (current.Id, current.TraceStateString) : (null, null);
    }

    /// <summary>Notes on the current Mesh span which node a remote call went to (nothing when the current activity is
    /// not Mesh's).</summary>
    public static void TagPeer(string peerNode)
    {
        if (Activity.Current is { IsAllDataRequested: true } current && ReferenceEquals(current.Source, Source))
        {
            current.SetTag(PeerNodeTag, peerNode);
        }
    }

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="exception"/>.</summary>
    public static void Fail(Activity activity, Exception exception)
    {
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(ErrorTypeTag, exception.GetType().FullName);
        }
    }

    /// <summary>Ends a span on a thread it is not current on, leaving that thread's <see cref="Activity.Current"/>
    /// untouched (stopping resets it to the span's parent).</summary>
    public static void StopDetached(Activity activity)
    {
        Activity? previous = Activity.Current;
        activity.Stop();
        Activity.Current = previous;
    }

    private static void Tag(Activity activity, ActorId id, string method, string node, bool oneWay)
    {
        activity.SetTag(ActorTypeTag, id.ActorType);
        activity.SetTag(CapabilityTag, id.Capability);
        activity.SetTag(MethodTag, method);
        activity.SetTag(ActorKeyTag, id.Key);
        activity.SetTag(NodeTag, node);
        if (oneWay)
        {
            activity.SetTag(OneWayTag, true);
        }
    }

    // "ICounter/IncrementAsync", as OpenTelemetry names RPC spans "{service}/{method}".
    private static string SpanName(ActorContract contract, uint methodId, string method) =>
        s_spanNames.GetOrAdd((contract, methodId), static (key, name) => string.Concat(key.Contract.ActorType, "/", name), method);
}
