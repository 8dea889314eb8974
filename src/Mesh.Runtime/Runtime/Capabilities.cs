namespace Mesh.Runtime;

/// <summary>The capability name rule shared with the analyzers: <c>^[a-z][a-z0-9_.-]*$</c>.</summary>
internal static class Capabilities
{
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name[0] is < 'a' or > 'z')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
