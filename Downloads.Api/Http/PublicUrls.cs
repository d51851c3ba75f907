using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Http;

/// <summary><c>Downloads:PublicBaseUrl</c>: the scheme, host and path prefix of every absolute URL the service writes.</summary>
public sealed class PublicUrlOptions : IValidatableObject
{
    public const string Section = "Downloads";

    /// <value>
    /// e.g. <c>https://downloads.example.com</c>. Set: every absolute URL (initiate answers, download links, webhook
    /// bodies) uses it, whatever a request's <c>Host</c> or forwarded headers say. Unset: the request's (trusted) host.
    /// </value>
    public string? PublicBaseUrl { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl is { Length: > 0 } value
            && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0))
        {
            yield return new ValidationResult(
                $"{Section}:PublicBaseUrl must be an absolute http or https URL without query, fragment or user info, e.g. https://downloads.example.com; it is '{value}'.");
        }
    }
}

/// <summary>
/// Absolute URLs as the client sees the service: <c>Downloads:PublicBaseUrl</c> where it is set; else scheme and host
/// of the request, which the forwarded headers middleware has already taken from trusted proxies
/// (<c>X-Forwarded-Proto</c>/<c>-Host</c>).
/// </summary>
public sealed class PublicUrls(IOptions<PublicUrlOptions> options)
{
    private readonly string? _configured = options.Value.PublicBaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : null;

    public string BaseUrl(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _configured ?? $"{request.Scheme}://{request.Host}{request.PathBase}";
    }

    public string WebSocketBaseUrl(HttpRequest request)
    {
        var baseUrl = BaseUrl(request);
        return baseUrl.StartsWith("https://", StringComparison.Ordinal) ? "wss://" + baseUrl["https://".Length..]
            : "ws://" + baseUrl["http://".Length..];
    }
}
