namespace Mesh.Generators.Tests;

/// <summary>
/// Compares generated text with a checked-in file under Snapshots/. Set <c>MESH_ACCEPT_SNAPSHOTS=1</c> to write the
/// current output as the new expected file (then review the diff before committing).
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string actual)
    {
        string path = Path.Combine(SnapshotDirectory(), name);
        string normalized = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("MESH_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, normalized);
            return;
        }

        Assert.True(File.Exists(path), $"No expected file {path}. Run the tests with MESH_ACCEPT_SNAPSHOTS=1 to create it, then review it.");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        if (expected != normalized)
        {
            string[] e = expected.Split('\n');
            string[] a = normalized.Split('\n');
            int line = 0;
            while (line < e.Length && line < a.Length && e[line] == a[line])
            {
                line++;
            }

            Assert.Fail($"{name} differs from the expected file at line {line + 1}:\n  expected: {(line < e.Length ? e[line] : "<end>")}\n  actual:   {(line < a.Length ? a[line] : "<end>")}\nIf the change is intended, rerun with MESH_ACCEPT_SNAPSHOTS=1 and review the diff.");
        }
    }

    /// <summary>Finds Snapshots/ in the source tree by walking up from the test binaries (CI builds map source paths,
    /// so the caller's file path cannot be used).</summary>
    private static string SnapshotDirectory()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "Mesh.Generators.Tests", "Snapshots");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tests/Mesh.Generators.Tests/Snapshots was not found above {AppContext.BaseDirectory}.");
    }
}
