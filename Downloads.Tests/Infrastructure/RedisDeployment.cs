namespace Downloads.Tests.Infrastructure;

/// <summary>
/// Several nodes of one deployment: the same Redis, the same key prefix, the same settings, each node its own
/// host (or process) with its own role. Disposing it stops every node it started.
/// </summary>
public sealed class RedisDeployment(RedisServer redis) : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _settings = new(DownloadsApplication.Defaults)
    {
        ["ConnectionStrings:Redis"] = redis.ConnectionString,
        ["Downloads:Redis:KeyPrefix"] = RedisServer.NewKeyPrefix(),
    };

    private readonly List<IAsyncDisposable> _nodes = [];

    public RedisServer Redis => redis;

    /// <summary>A setting every node started from now on gets.</summary>
    public RedisDeployment With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>A node in this process on a real Kestrel port; <paramref name="role"/> is <c>all</c>, <c>api</c> or <c>worker</c>.</summary>
    public DownloadsApplication Node(string role, Action<DownloadsApplication>? configure = null)
    {
        var app = new DownloadsApplication();
        foreach (var (key, value) in _settings)
        {
            app.With(key, value);
        }

        app.With("Downloads:Role", role);
        configure?.Invoke(app);
        _nodes.Add(app);
        _ = app.BaseAddress; // start it
        return app;
    }

    /// <summary>A node as a separate process, so it can be killed.</summary>
    public ServiceProcess Process(string role)
    {
        var process = ServiceProcess.Start(new Dictionary<string, string?>(_settings) { ["Downloads:Role"] = role });
        _nodes.Add(process);
        return process;
    }

    /// <summary>A node as a separate process on a port of its own, and a client of its HTTP endpoints (health, API).</summary>
    public (ServiceProcess Process, HttpClient Http) ProcessWithHttp(string role)
    {
        var address = $"http://127.0.0.1:{LoopbackServers.FreePort()}";
        var process = ServiceProcess.Start(new Dictionary<string, string?>(_settings) { ["Downloads:Role"] = role, ["ASPNETCORE_URLS"] = address });
        _nodes.Add(process);
        return (process, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        // Workers first, while the API nodes still answer.
        foreach (var node in Enumerable.Reverse(_nodes))
        {
            await node.DisposeAsync();
        }
    }
}
