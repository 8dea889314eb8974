namespace Mesh.Dashboard;

/// <summary>Settings of the Mesh dashboard (configuration section <c>Mesh:Dashboard</c>).</summary>
public sealed class MeshDashboardOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "Mesh:Dashboard";

    /// <summary>Gets or sets the URL the dashboard listens on. Default: <c>http://127.0.0.1:7480</c>, loopback only:
    /// anyone who can reach the page sees the cluster's layout, so expose it deliberately. Port 0 picks a free port.</summary>
    public string Url { get; set; } = "http://127.0.0.1:7480";

    /// <summary>Gets or sets how often the page is sent a fresh picture of the cluster. Default: 1 second.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many recent membership events the page lists. Default: 50.</summary>
    public int EventHistory { get; set; } = 50;
}
