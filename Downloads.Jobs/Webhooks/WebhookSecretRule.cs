using Microsoft.Extensions.Hosting;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Webhook secrets are written as Standard Webhooks writes them, <c>whsec_{base64}</c>, so that receivers can
/// pass them to the official verifiers unchanged. The key itself is 24 to 64 random bytes.
/// </summary>
public static class WebhookSecretRule
{
    public const string Prefix = "whsec_";

    public const int MinimumBytes = 24;

    public const int MaximumBytes = 64;

    /// <summary>The reason <paramref name="secret"/> is not acceptable in <paramref name="environment"/>, or null.</summary>
    public static string? Check(string? secret, string settingName, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (string.IsNullOrEmpty(secret))
        {
            return environment.IsDevelopment()
                ? null
                : $"{settingName} is required outside Development ({Format}); every node must share it.";
        }

        return Problem(secret) is { } problem ? $"{settingName} {problem} ({Format})." : null;
    }

    /// <summary>What is wrong with a configured secret, or null.</summary>
    public static string? Problem(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return $"must start with {Prefix}";
        }

        var key = new byte[MaximumBytes + 3];
        return !Convert.TryFromBase64String(secret[Prefix.Length..], key, out var length) ? "is not valid base64 after its prefix"
            : length is < MinimumBytes or > MaximumBytes ? $"must hold {MinimumBytes} to {MaximumBytes} bytes"
            : null;
    }

    private const string Format = "whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)";
}
