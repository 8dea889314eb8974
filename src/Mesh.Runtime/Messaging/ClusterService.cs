namespace Mesh.Messaging;

/// <summary>The first byte of every request and one-way payload one node sends another: the subsystem that handles it.
/// The rest of the payload is that subsystem's own encoding.</summary>
internal enum ClusterService : byte
{
    /// <summary>An actor call or one-way message (the call envelope, then the generated request).</summary>
    Call = 1,

    /// <summary>Membership: probes, indirect probes, joins, leaves and state exchanges.</summary>
    Membership = 2,

    /// <summary>A node's own counters (activations, calls run), for the dashboard and the benchmarks.</summary>
    Stats = 3,
}
