using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Downloads.Api.Http;
using Downloads.Jobs.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Downloads.Api.Access;

/// <summary>
/// Who is calling, where API keys are configured: <c>Authorization: Bearer {api key}</c> (its SHA-256 compared with
/// every configured hash in constant time), or a job access token (<c>jat_…</c>) as the bearer or as
/// <c>?access_token=</c> — the query is how browsers' EventSource and SignalR's WebSockets and SSE transports pass it.
/// An API key is never taken from the query, where logs and proxies see it. Open mode authenticates nobody, and
/// <see cref="AccessAuthorizationHandler"/> lets everyone through.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    public const string AccessTokenQuery = "access_token";

    // Computed once: the configured hashes as bytes, for constant-time comparison.
    private readonly (string Name, byte[] Hash)[] _keys = [.. auth.Value.ApiKeys
        .Where(k => k.Value.KeySha256 is not null)
        .Select(k => (k.Key, Convert.FromHexString(k.Value.KeySha256!)))];

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (_keys.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var bearer = BearerToken();
        var query = Request.Query[AccessTokenQuery].ToString();
        if (bearer is null && query.Length > 0 && JobAccessTokens.LooksLikeToken(query))
        {
            return Task.FromResult(Success(AccessClaims.HoldingJobToken(query)));
        }

        if (bearer is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (JobAccessTokens.LooksLikeToken(bearer))
        {
            return Task.FromResult(Success(AccessClaims.HoldingJobToken(bearer)));
        }

        return Task.FromResult(MatchingKey(bearer) is { } name
            ? Success(new ClaimsPrincipal(new ClaimsIdentity([new Claim(AccessClaims.ApiKey, name)], SchemeName)))
            : AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "API key required",
            "This route needs Authorization: Bearer with a valid API key (or, for a job's own routes, its access_token).");
    }

    // A job token on a route that needs a key is no key: the same 401 as none.
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => HandleChallengeAsync(properties);

    private string? BearerToken()
    {
        var header = Request.Headers[HeaderNames.Authorization].ToString();
        const string prefix = "Bearer ";
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && header.Length > prefix.Length
            ? header[prefix.Length..].Trim()
            : null;
    }

    // Every configured hash is compared, whichever matches, so timing tells nothing about which or how much.
    private string? MatchingKey(string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        string? match = null;
        foreach (var (name, configured) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, configured))
            {
                match = name;
            }
        }

        return match;
    }

    private static AuthenticateResult Success(ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
}
