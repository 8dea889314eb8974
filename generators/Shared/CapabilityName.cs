namespace Mesh.CodeAnalysis;

/// <summary>The capability name rule, <c>^[a-z][a-z0-9_.-]*$</c>, checked without a regular expression.</summary>
internal static class CapabilityName
{
    /// <summary>Returns whether <paramref name="name"/> is a valid capability name.</summary>
    /// <param name="name">The capability from a <c>[MeshActor]</c> attribute.</param>
    /// <returns><see langword="true"/> when the name matches the rule.</returns>
    public static bool IsValid(string? name)
    {
        if (name is null || name.Length == 0 || name[0] < 'a' || name[0] > 'z')
        {
            return false;
        }

        foreach (char c in name)
        {
            bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
            if (!allowed)
            {
                return false;
            }
        }

        return true;
    }
}
