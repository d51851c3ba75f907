using System.ComponentModel.DataAnnotations;
using Downloads.Jobs.Webhooks;

namespace Downloads.Jobs.Access;

/// <summary>
/// <c>Downloads:Auth</c>: the API keys. None configured is open mode (anyone who reaches the service may initiate,
/// a job id is enough to follow or control a job); any configured and every <c>/v1/download/*</c> route needs one.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Downloads:Auth";

    /// <value>Named keys, <c>Downloads:Auth:ApiKeys:{name}:KeySha256</c> and <c>:WebhookSecret</c>. Default none: open mode.</value>
    public Dictionary<string, ApiKeyOptions> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    public bool RequiresApiKeys => ApiKeys.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, key) in ApiKeys)
        {
            var setting = $"{Section}:ApiKeys:{name}";
            if (key.KeySha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigitLower))
            {
                yield return new ValidationResult(
                    $"{setting}:KeySha256 must be the lowercase hex SHA-256 of the key (64 characters), e.g. printf %s \"$KEY\" | sha256sum.");
            }

            if (string.IsNullOrEmpty(key.WebhookSecret) || WebhookSecretRule.Problem(key.WebhookSecret) is not null)
            {
                yield return new ValidationResult(
                    $"{setting}:WebhookSecret is required and {WebhookSecretRule.Problem(key.WebhookSecret ?? "") ?? "must be valid"} (whsec_ followed by the base64 of 24 to 64 random bytes).");
            }
        }
    }
}

/// <summary>One API key: its hash (the key itself is never stored) and the secret that signs its jobs' webhooks.</summary>
public sealed class ApiKeyOptions
{
    /// <value>The lowercase hex SHA-256 of the key.</value>
    public string? KeySha256 { get; set; }

    /// <value>The <c>whsec_…</c> secret of the webhooks of this key's jobs.</value>
    public string? WebhookSecret { get; set; }
}
