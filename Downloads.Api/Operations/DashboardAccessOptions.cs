using System.ComponentModel.DataAnnotations;

namespace Downloads.Api.Operations;

/// <summary><c>Downloads:Dashboard</c>: who may open <c>/hangfire</c>, and whether they may change jobs there.</summary>
public sealed class DashboardAccessOptions : IValidatableObject
{
    public const string Section = "Downloads:Dashboard";

    /// <summary>Basic authentication user name; with <see cref="Password"/>. Unset: local requests only in Development, nobody elsewhere.</summary>
    public string? Username { get; set; }

    /// <summary>Basic authentication password; with <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>No retry, delete or enqueue buttons. Default: <c>true</c> outside Development, <c>false</c> in it.</summary>
    public bool? ReadOnly { get; set; }

    public bool HasCredentials => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Half a pair would silently leave the dashboard open to local requests only; say so at start.
        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult(
                "Downloads:Dashboard:Username and Downloads:Dashboard:Password must be set together.", [nameof(Username), nameof(Password)]);
        }
    }
}
