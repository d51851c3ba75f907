using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using idunno.Authentication.Basic;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Operations;

/// <summary>
/// Who may open <c>/hangfire</c>, as ASP.NET Core authentication and a named policy. HTTP basic authentication
/// (idunno.Authentication.Basic) with <c>Downloads:Dashboard:Username</c>/<c>Password</c>. Outside Development
/// those credentials are the only way in, for local requests too (a proxy on the same host would otherwise open it
/// to everyone); without them the dashboard is closed there. In Development local requests need none.
/// Antiforgery is registered, so Hangfire checks its token on every command (POST).
/// </summary>
public static class DashboardAccess
{
    public const string Scheme = "DashboardBasic";

    public const string Policy = "downloads:dashboard";

    public static IServiceCollection AddDownloadsDashboardAccess(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddAuthentication()
            .AddBasic(Scheme, options =>
            {
                options.Realm = "Hangfire dashboard";
                // TLS usually ends at the proxy in front; docs tell operators to serve /hangfire over HTTPS only.
                options.AllowInsecureProtocol = true;
                options.Events = new BasicAuthenticationEvents { OnValidateCredentials = ValidateCredentialsAsync };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).AddRequirements(new DashboardRequirement()));
        services.AddSingleton<IAuthorizationHandler, DashboardAuthorizationHandler>();
        return services;
    }

    private static Task ValidateCredentialsAsync(ValidateCredentialsContext context)
    {
        var access = context.HttpContext.RequestServices.GetRequiredService<IOptions<DashboardAccessOptions>>().Value;
        if (access.HasCredentials && Matches($"{context.Username}:{context.Password}", $"{access.Username}:{access.Password}"))
        {
            context.Principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, context.Username)], context.Scheme.Name));
            context.Success();
        }
        else
        {
            context.Fail("Wrong dashboard credentials.");
        }

        return Task.CompletedTask;
    }

    // Hashes first, so the comparison takes the same time whatever the lengths.
    private static bool Matches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

/// <summary>The dashboard's requirement: see <see cref="DashboardAccess"/>.</summary>
public sealed class DashboardRequirement : IAuthorizationRequirement;

internal sealed class DashboardAuthorizationHandler(IHostEnvironment environment) : AuthorizationHandler<DashboardRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, DashboardRequirement requirement)
    {
        var authenticated = context.User.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == DashboardAccess.Scheme);
        if (authenticated || (environment.IsDevelopment() && context.Resource is HttpContext http && IsLocal(http)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    // After the forwarded headers middleware: a request through a trusted proxy has the client's address here.
    private static bool IsLocal(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote
        && (IPAddress.IsLoopback(remote) || remote.Equals(http.Connection.LocalIpAddress));
}
