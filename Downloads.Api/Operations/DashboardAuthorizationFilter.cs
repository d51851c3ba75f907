using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Operations;

/// <summary>
/// Who may open <c>/hangfire</c>. With <c>Downloads:Dashboard:Username</c>/<c>Password</c> set: HTTP basic
/// authentication (outside Development also for local requests, so a proxy on the same host cannot open it
/// to everyone). Without credentials, or in Development: local requests only. A refused request is a 401.
/// </summary>
public sealed class DashboardAuthorizationFilter(IOptions<DashboardAccessOptions> options, IHostEnvironment environment)
    : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => Authorize(context.GetHttpContext());

    internal bool Authorize(HttpContext http)
    {
        var access = options.Value;
        if (access.HasCredentials && HasValidCredentials(http, access))
        {
            return true;
        }

        if ((!access.HasCredentials || environment.IsDevelopment()) && IsLocal(http))
        {
            return true;
        }

        if (access.HasCredentials)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"Hangfire dashboard\", charset=\"UTF-8\"";
        }

        return false;
    }

    private static bool HasValidCredentials(HttpContext http, DashboardAccessOptions access) =>
        AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
        && string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
        && header.Parameter is { } parameter
        && Matches(parameter, $"{access.Username}:{access.Password}");

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

    // After the forwarded headers middleware: a request through a trusted proxy has the client's address here.
    private static bool IsLocal(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote
        && (IPAddress.IsLoopback(remote) || remote.Equals(http.Connection.LocalIpAddress));
}
