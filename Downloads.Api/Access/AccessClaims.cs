using System.Security.Claims;

namespace Downloads.Api.Access;

/// <summary>What a caller presented: an API key (by its configured name) or a job access token (checked per job).</summary>
public static class AccessClaims
{
    public const string ApiKey = "downloads:api_key";

    public const string JobToken = "downloads:job_token";

    public static string? ApiKeyName(this ClaimsPrincipal user) => user.FindFirst(ApiKey)?.Value;

    public static string? JobAccessToken(this ClaimsPrincipal user) => user.FindFirst(JobToken)?.Value;

    /// <summary>A caller that holds <paramref name="token"/> and nothing else.</summary>
    public static ClaimsPrincipal HoldingJobToken(string token) =>
        new(new ClaimsIdentity([new Claim(JobToken, token)], ApiKeyAuthenticationHandler.SchemeName));
}
