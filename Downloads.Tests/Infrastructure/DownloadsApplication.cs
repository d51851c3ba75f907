using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The real service on a real Kestrel port on loopback; each test class (or test) owns its instance.
/// Settings are the service's own keys, so a test reads like the configuration an operator writes.
/// </summary>
public class DownloadsApplication : WebApplicationFactory<Program>
{
    /// <summary>The <c>Downloads:Webhooks:SigningSecret</c> every test app runs with.</summary>
    public const string WebhookSecret = "test-webhook-signing-secret-0123456789";

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Downloads:Processing:DelayMinMs"] = "150",
        ["Downloads:Processing:DelayMaxMs"] = "300",
        ["Downloads:Processing:ProgressIntervalMs"] = "50",
        ["Downloads:Processing:RetryBaseDelayMs"] = "20",
        ["Downloads:Links:SigningKey"] = "test-link-signing-key-0123456789abcdef",
        ["Downloads:Webhooks:SigningSecret"] = WebhookSecret,
        ["Serilog:MinimumLevel:Default"] = "Warning",
    };

    private readonly List<Action<IServiceCollection>> _services = [];
    private string _environment = "Development";

    public DownloadsApplication()
    {
        UseKestrel(0);
    }

    public DownloadsApplication With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public DownloadsApplication WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    public DownloadsApplication InEnvironment(string environment)
    {
        _environment = environment;
        return this;
    }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234</c>; starts the server.</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress;
        }
    }

    public HttpClient CreateApiClient()
    {
        StartServer();
        return CreateClient();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        builder.ConfigureServices(services =>
        {
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }
}
