using System.Text.Json;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Downloads.Tests.Webhooks;

/// <summary>The official Standard Webhooks verifiers, called as docs/webhooks.md tells receivers to call them.</summary>
internal static class StandardWebhookVerifiers
{
    private static readonly string Folder = RepositoryFiles.PathOf("Downloads.Tests", "Webhooks", "ts-verifier");
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>NuGet <c>StandardWebhooks</c>: <c>new StandardWebhook(secret).Verify(body, headers)</c>.</summary>
    public static bool DotNet(ReceivedWebhook webhook, string secret)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in webhook.Headers)
        {
            headers[name] = value;
        }

        try
        {
            new StandardWebhook(secret).Verify(webhook.BodyText, headers);
            return true;
        }
        catch (WebhookVerificationException)
        {
            return false;
        }
    }

    /// <summary>npm <c>standardwebhooks</c> through node: <c>new Webhook(secret).verify(body, headers)</c>; "valid" or "invalid: …".</summary>
    public static async Task<string> TypeScriptAsync(ReceivedWebhook webhook, string secret)
    {
        await EnsureInstalledAsync();
        var input = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["secret"] = secret,
            ["body_base64"] = Convert.ToBase64String(webhook.Body),
            ["headers"] = webhook.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value),
        });
        var (exitCode, output) = await ExternalCommand.RunAsync("node", ["verify.mjs"], Folder, input);
        exitCode.Should().Be(0, output);
        return output;
    }

    // The package is installed from the folder's lock file, as the API build installs client/'s.
    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(Folder, "node_modules", "standardwebhooks", "package.json")))
            {
                var (exitCode, output) = await ExternalCommand.RunAsync(
                    "npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], Folder, timeout: TimeSpan.FromMinutes(3));
                exitCode.Should().Be(0, $"npm ci in {Folder} should install the verifier: {output}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }
}
