namespace System.Runtime.CompilerServices;

/// <summary>Lets netstandard2.0 compilations declare records and init-only members.</summary>
internal static class IsExternalInit
{
}
