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
    public const string WebhookSecret = "whsec_ZG93bmxvYWRzLXRlc3Qtd2ViaG9vay1zaWduaW5nLWtleS0wMTIzNA==";

    private readonly Dictionary<string, string?> _settings = new(Defaults);

    /// <summary>What every test app (and test process) runs with unless a test says otherwise: short files, fixed secrets.</summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
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
        // Not UseKestrel(0): that overload rewrites the server's addresses after Build, racing Kestrel's bind
        // ("Addresses cannot be modified after the server has started", dotnet/aspnetcore#67714). A dynamic
        // port from the URL setting below needs no rewrite.
        UseKestrel(_ => { });
    }

    /// <summary>This app's settings, e.g. to start a separate process configured alike.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    public DownloadsApplication With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Redis mode against <paramref name="redis"/>, with keys and channels of this app's own prefix.</summary>
    public DownloadsApplication WithRedis(RedisServer redis, string keyPrefix) =>
        With("ConnectionStrings:Redis", redis.ConnectionString).With("Downloads:Redis:KeyPrefix", keyPrefix);

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
        builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        // Program.cs reads some settings (role, Redis) before Build, when only host settings are in; the
        // app configuration added last also wins over appsettings.json.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

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
