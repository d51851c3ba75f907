using Downloads.Jobs;
using Downloads.Jobs.Links;

namespace Downloads.Api;

public static class HostingExtensions
{
    public const string DefaultUrl = "http://localhost:3000";

    /// <summary>Listens on <c>http://localhost:3000</c> unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> say otherwise.</summary>
    public static WebApplicationBuilder UseDownloadsDefaults(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            && string.IsNullOrEmpty(builder.Configuration["HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }

    /// <summary><c>Downloads:Role</c>, with a clear message for a value that is not one.</summary>
    public static NodeRole GetNodeRole(this IConfiguration configuration)
    {
        var value = configuration["Downloads:Role"];
        if (string.IsNullOrEmpty(value))
        {
            return NodeRole.All;
        }

        return Enum.TryParse<NodeRole>(value, ignoreCase: true, out var role) && Enum.IsDefined(role)
            ? role
            : throw new InvalidOperationException($"Downloads:Role must be all, api or worker; it is '{value}'.");
    }

    /// <summary>Development runs with built-in signing secrets; say so loudly.</summary>
    public static WebApplication WarnAboutDevelopmentSecrets(this WebApplication app)
    {
        foreach (var key in new[] { "Downloads:Links:SigningKey", "Downloads:Webhooks:SigningSecret" })
        {
            if (string.IsNullOrEmpty(app.Configuration[key]))
            {
                app.Logger.LogWarning("{Setting} is not set: using a development-only value. Set it (shared by every node) before production.", key);
            }
        }

        return app;
    }
}
