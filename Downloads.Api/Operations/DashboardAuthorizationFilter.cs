using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

namespace Downloads.Api.Operations;

/// <summary>
/// With <c>Downloads:Dashboard:Username</c>/<c>Password</c> set: HTTP basic authentication. Without: local requests only.
/// </summary>
public sealed class DashboardAuthorizationFilter(IConfiguration configuration) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var username = configuration["Downloads:Dashboard:Username"];
        var password = configuration["Downloads:Dashboard:Password"];
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            return IsLocal(http);
        }

        if (AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
            && string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            && header.Parameter is { } parameter
            && Matches(parameter, $"{username}:{password}"))
        {
            return true;
        }

        http.Response.Headers.WWWAuthenticate = "Basic realm=\"Hangfire dashboard\"";
        return false;
    }

    private static bool Matches(string parameter, string expected)
    {
        try
        {
            var given = Convert.FromBase64String(parameter);
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(given), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool IsLocal(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote
        && (System.Net.IPAddress.IsLoopback(remote) || remote.Equals(http.Connection.LocalIpAddress));
}
