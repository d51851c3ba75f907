using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Downloads.Api.Access;

public static class AccessServiceCollectionExtensions
{
    /// <summary>
    /// API keys (<c>Downloads:Auth:ApiKeys</c>) and job access tokens as ASP.NET Core authentication, and the
    /// policies of <see cref="AccessPolicies"/>. With no key configured everything stays open (open mode).
    /// </summary>
    public static IServiceCollection AddDownloadsAccess(this IServiceCollection services)
    {
        services.AddSingleton<JobAccessTokens>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AccessPolicies.ApiKey, Policy(new ApiKeyRequirement()))
            .AddPolicy(AccessPolicies.JobCaller, Policy(new JobCallerRequirement()))
            .AddPolicy(AccessPolicies.Job, Policy(new JobAccessRequirement()));
        services.AddSingleton<IAuthorizationHandler, AccessAuthorizationHandler>();
        return services;
    }

    private static Action<AuthorizationPolicyBuilder> Policy(AccessRequirement requirement) =>
        policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).AddRequirements(requirement);
}
