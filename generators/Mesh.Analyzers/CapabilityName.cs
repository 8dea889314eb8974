namespace Mesh.Analyzers;

/// <summary>The capability name rule, <c>^[a-z][a-z0-9_.-]*$</c>, without a regular expression.</summary>
internal static class CapabilityName
{
    public static bool IsValid(string? name)
    {
        if (name is null || name.Length == 0 || name[0] < 'a' || name[0] > 'z')
        {
            return false;
        }

        foreach (char c in name)
        {
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
