using System.Globalization;
using System.Net;

namespace Mesh.Runtime;

/// <summary>Parses the <c>host:port</c> strings of endpoints and seeds (<c>[v6]:port</c> for IPv6 literals) and checks
/// node names, with errors that name the option at fault.</summary>
internal static class HostPort
{
    public const int MaxNodeNameLength = 128;

    /// <summary>Splits <paramref name="value"/> into host and port.</summary>
    /// <exception cref="ArgumentException">It is not of the form <c>host:port</c>.</exception>
    public static (string Host, int Port) Parse(string? value, string paramName, bool allowPortZero)
    {
        if (TryParse(value, allowPortZero, out string host, out int port, out string? error))
        {
            return (host, port);
        }

        throw new ArgumentException(error, paramName);
    }

    public static bool TryParse(string? value, bool allowPortZero, out string host, out int port, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "An endpoint must be 'host:port', such as 127.0.0.1:7400; it was empty.";
            return false;
        }

        int colon = value.LastIndexOf(':');
        string hostPart = colon > 0 ? value[..colon] : string.Empty;
        if (hostPart.StartsWith('[') && hostPart.EndsWith(']'))
        {
            hostPart = hostPart[1..^1];
            if (!IPAddress.TryParse(hostPart, out _))
            {
                error = $"'{value}' is not 'host:port': '[{hostPart}]' is not an IPv6 address.";
                return false;
            }
        }
        else if (hostPart.Contains(':', StringComparison.Ordinal))
        {
            error = $"'{value}' is not 'host:port': write IPv6 addresses in brackets, such as [::1]:7400.";
            return false;
        }

        if (colon <= 0 || hostPart.Length == 0 || hostPart.Any(char.IsWhiteSpace))
        {
            error = $"'{value}' is not 'host:port', such as 127.0.0.1:7400.";
            return false;
        }

        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535 || (port == 0 && !allowPortZero))
        {
            error = $"'{value}' has no valid port: use 1 to 65535{(allowPortZero ? " (or 0 for any free port)" : string.Empty)}.";
            return false;
        }

        host = hostPart;
        error = null;
        return true;
    }

    /// <summary>Formats an endpoint the way <see cref="Parse"/> reads it.</summary>
    public static string Format(IPEndPoint endPoint) => endPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{endPoint.Address}]:{endPoint.Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{endPoint.Address}:{endPoint.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Whether <paramref name="host"/> listens on every address rather than one.</summary>
    public static bool IsWildcard(string host) => host is "0.0.0.0" or "::" or "*" or "+";

    public static bool IsValidNodeName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNodeNameLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
