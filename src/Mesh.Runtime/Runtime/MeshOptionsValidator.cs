using Microsoft.Extensions.Options;

namespace Mesh.Runtime;

/// <summary>Checks <see cref="MeshOptions"/> when the host starts; every failure names the option and says what is allowed.</summary>
internal sealed class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshOptions options)
    {
        List<string> failures = [.. options.ConfigurationErrors];
        Positive(options.DefaultCallTimeout, nameof(MeshOptions.DefaultCallTimeout), failures);
        Positive(options.IdleTimeout, nameof(MeshOptions.IdleTimeout), failures);
        Positive(options.ShutdownTimeout, nameof(MeshOptions.ShutdownTimeout), failures);
        if (options.MailboxCapacity < 1)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.MailboxCapacity)} must be at least 1 (was {options.MailboxCapacity}).");
        }

        foreach (string capability in options.Capabilities)
        {
            if (!Capabilities.IsValidName(capability))
            {
                failures.Add($"Mesh:{nameof(MeshOptions.Capabilities)} contains '{capability}', which is not a capability name: use lower-case letters, digits, '_', '.' and '-', starting with a letter.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(TimeSpan value, string option, List<string> failures)
    {
        // Timer-based: longer than int.MaxValue milliseconds cannot be armed.
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue - 1)
        {
            failures.Add($"Mesh:{option} must be positive and at most 24 days (was {value}).");
        }
    }
}
