using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Links;

/// <summary>Signing secrets: a development default with a warning in Development, required elsewhere.</summary>
public static class SigningSecretRule
{
    public const int MinimumLength = 32;

    /// <summary>The reason <paramref name="secret"/> is not acceptable in <paramref name="environment"/>, or null.</summary>
    public static string? Check(string? secret, string settingName, IHostEnvironment environment)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return environment.IsDevelopment()
                ? null
                : $"{settingName} is required outside Development (at least {MinimumLength} characters); every node must share it.";
        }

        return secret.Length < MinimumLength
            ? $"{settingName} must be at least {MinimumLength} characters long."
            : null;
    }
}

/// <summary>
/// Applies a secret rule (<see cref="SigningSecretRule"/> unless another is given) to the secret of an options class,
/// at start (<c>ValidateOnStart</c>).
/// </summary>
internal sealed class SigningSecretValidator<TOptions>(
    IHostEnvironment environment,
    string settingName,
    Func<TOptions, string?> secret,
    Func<string?, string, IHostEnvironment, string?>? rule = null)
    : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options) =>
        (rule ?? SigningSecretRule.Check)(secret(options), settingName, environment) is { } failure
            ? ValidateOptionsResult.Fail(failure)
            : ValidateOptionsResult.Success;
}
