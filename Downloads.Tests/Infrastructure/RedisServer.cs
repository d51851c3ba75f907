using System.Diagnostics;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The Redis the tests use. <see cref="Shared"/> is CI's (<c>DOWNLOADS_TEST_REDIS</c>, started by <c>./test.sh</c>) or,
/// on a developer machine, a private <c>redis-server</c> started once per test run. Tests share it safely because each
/// app gets its own key prefix (<see cref="NewKeyPrefix"/>). Outage tests start their own with <see cref="StartPrivateAsync"/>,
/// which they may stop and restart on the same port.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string EndpointVariable = "DOWNLOADS_TEST_REDIS";

    private static readonly Lazy<Task<RedisServer>> SharedServer = new(StartSharedAsync);

    private readonly string? _dataDirectory;
    private Process? _process;

    private RedisServer(string endpoint, int port, Process? process, string? dataDirectory = null)
    {
        ConnectionString = endpoint;
        Port = port;
        _process = process;
        _dataDirectory = dataDirectory;
    }

    /// <summary><c>host:port</c>, as <c>ConnectionStrings:Redis</c> takes it.</summary>
    public string ConnectionString { get; }

    public int Port { get; }

    public static Task<RedisServer> Shared => SharedServer.Value;

    /// <summary>A prefix no other test uses, for <c>Downloads:Redis:KeyPrefix</c>.</summary>
    public static string NewKeyPrefix() => $"test:{Guid.NewGuid():N}:";

    /// <summary>
    /// A redis-server of this test's own, on a free loopback port. <paramref name="durable"/>: with an append-only
    /// file fsynced at every write (as production should run), so it keeps its data across a kill and restart.
    /// </summary>
    public static async Task<RedisServer> StartPrivateAsync(bool durable = false)
    {
        var port = LoopbackServers.FreePort();
        var dataDirectory = durable ? Directory.CreateTempSubdirectory("downloads-redis-").FullName : null;
        var server = new RedisServer($"127.0.0.1:{port}", port, null, dataDirectory);
        await server.StartAsync();
        return server;
    }

    /// <summary>Kills the server (as a crash would); clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            process.Kill();
            await process.WaitForExitAsync().DefaultTimeout();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts the server again on the same port; a durable one with the data it had.</summary>
    public async Task StartAsync()
    {
        string[] persistence = _dataDirectory is null
            ? ["--appendonly", "no"]
            : ["--appendonly", "yes", "--appendfsync", "always", "--dir", _dataDirectory];
        var start = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
             "--save", "", "--maxmemory-policy", "noeviction", .. persistence])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.BeginOutputReadLine();
        LoopbackServers.StopWithTestRun(_process.Id, $":{Port}");
        await LoopbackServers.WaitUntilListeningAsync(Port);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_dataDirectory is not null)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private static async Task<RedisServer> StartSharedAsync()
    {
        if (Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint)
        {
            var port = int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            return new RedisServer(endpoint, port, null);
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            throw new InvalidOperationException(
                $"{EndpointVariable} is not set: CI must start Redis for the tests (see ./test.sh), e.g. {EndpointVariable}=127.0.0.1:6390.");
        }

        // The test run's own server goes with the test run (see LoopbackServers.StopWithTestRun).
        return await StartPrivateAsync();
    }
}
