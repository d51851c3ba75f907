using System.Text.Json;
using Downloads.Tests.Browser;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Clients;

/// <summary>
/// The TypeScript package (client/packages/downloads-client) against the real service: its vitest suite runs with
/// the URL of a service in memory, of one whose hub is refused (every /ws path answers 503) and of two API nodes of
/// one Redis deployment (a worker node beside them), and every one of its tests must pass: none skipped, none missing.
/// </summary>
public sealed class TypeScriptClientTests : IAsyncLifetime
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(8);

    private readonly DownloadsApplication _service = DotnetClientTests.OneFileAtATime(new DownloadsApplication());
    private readonly DownloadsApplication _hubBlocked = DotnetClientTests.OneFileAtATime(new DownloadsApplication()).WithHubBlocked();

    private DotnetClientTests.TwoNodes? _redis;

    public async Task InitializeAsync() => _redis = await DotnetClientTests.TwoApiNodesAndAWorkerAsync();

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _hubBlocked.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_package_suite_passes_against_the_real_service()
    {
        var packageDir = RepositoryFiles.PathOf("client", "packages", "downloads-client");
        Directory.Exists(RepositoryFiles.PathOf("client", "node_modules", "vitest")).Should().BeTrue(
            "client/node_modules should hold the package's dev dependencies: build Downloads.Api (it runs npm ci in client/)");
        var report = Path.Combine(Path.GetTempPath(), $"downloads-client-vitest-{Guid.NewGuid():N}.json");
        var environment = new Dictionary<string, string>
        {
            ["DOWNLOADS_URL"] = _service.BaseAddress.ToString().TrimEnd('/'),
            ["DOWNLOADS_HUB_BLOCKED_URL"] = _hubBlocked.BaseAddress.ToString().TrimEnd('/'),
            ["DOWNLOADS_REDIS_API_URLS"] = string.Join(' ', _redis!.Nodes.Select(node => node.BaseAddress.ToString().TrimEnd('/'))),
        };

        try
        {
            var (exitCode, output) = await ExternalCommand.RunAsync(
                "npm", ["test", "--", "--reporter=default", "--reporter=json", $"--outputFile.json={report}"], packageDir, NpmTimeout, environment);

            exitCode.Should().Be(0, $"the package's tests should pass; their output:{Environment.NewLine}{output}");
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
            var counts = json.RootElement;
            counts.GetProperty("numFailedTests").GetInt32().Should().Be(0, output);
            counts.GetProperty("numPendingTests").GetInt32().Should().Be(0, "no test of the package may be skipped");
            counts.GetProperty("numPassedTests").GetInt32().Should().BeGreaterThanOrEqualTo(91, "every test file ran");
        }
        finally
        {
            File.Delete(report);
        }
    }
}
