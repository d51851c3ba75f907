using System.Security.Claims;
using Downloads.Jobs.Access;
using Downloads.Jobs.Ledger;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Access;

/// <summary>The named policies of the API; each holds one <see cref="AccessRequirement"/>.</summary>
public static class AccessPolicies
{
    /// <summary>Initiate and check: an API key.</summary>
    public const string ApiKey = "downloads:api-key";

    /// <summary>A job's routes and the hub: an API key or a job access token (which job is checked per job).</summary>
    public const string JobCaller = "downloads:job-caller";

    /// <summary>One job, as the resource: the key that created it, or its own access token.</summary>
    public const string Job = "downloads:job";
}

/// <summary>What the service's policies require; all are met in open mode.</summary>
public abstract class AccessRequirement : IAuthorizationRequirement;

public sealed class ApiKeyRequirement : AccessRequirement;

public sealed class JobCallerRequirement : AccessRequirement;

public sealed class JobAccessRequirement : AccessRequirement;

/// <summary>
/// Decides the <see cref="AccessRequirement"/>s. Open mode (no API key configured) meets them all. Otherwise a
/// job belongs to the key that created it: another key, or another job's token, does not meet
/// <see cref="JobAccessRequirement"/>, and the caller answers 404, as for a job that does not exist.
/// </summary>
public sealed class AccessAuthorizationHandler(IOptions<AuthOptions> auth, JobAccessTokens tokens) : IAuthorizationHandler
{
    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var requirement in context.PendingRequirements.OfType<AccessRequirement>().ToList())
        {
            if (!auth.Value.RequiresApiKeys || Meets(context.User, requirement, context.Resource))
            {
                context.Succeed(requirement);
            }
        }

        return Task.CompletedTask;
    }

    private bool Meets(ClaimsPrincipal user, AccessRequirement requirement, object? resource) => requirement switch
    {
        ApiKeyRequirement => user.ApiKeyName() is not null,
        JobCallerRequirement => user.ApiKeyName() is not null || user.JobAccessToken() is not null,
        JobAccessRequirement when (resource as JobHeader ?? (resource as DownloadJob)?.Header) is { } job => user.ApiKeyName() is { } key
            ? string.Equals(key, job.ApiKeyName, StringComparison.Ordinal)
            : tokens.IsValid(user.JobAccessToken(), job.Id),
        _ => false,
    };
}

public static class JobAccessExtensions
{
    /// <summary>Whether <paramref name="user"/> may see and control <paramref name="job"/> (a <see cref="DownloadJob"/> or its <see cref="JobHeader"/>).</summary>
    public static async Task<bool> MayAccessAsync(this IAuthorizationService authorization, ClaimsPrincipal user, object job)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        return (await authorization.AuthorizeAsync(user, job, AccessPolicies.Job)).Succeeded;
    }
}
