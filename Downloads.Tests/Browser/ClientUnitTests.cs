using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Browser;

/// <summary>The browser client's own unit tests (vitest), so that `dotnet test Downloads.sln` runs them too.</summary>
public sealed class ClientUnitTests
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_client_vitest_suite_passes()
    {
        var clientDir = RepositoryFiles.PathOf("client");
        // The API build runs `npm ci`; without it vitest is missing and the failure would only say "not found".
        Directory.Exists(Path.Combine(clientDir, "node_modules")).Should().BeTrue(
            $"{clientDir}/node_modules should exist: build Downloads.Api (it runs npm ci) or run `npm ci` in client/");

        var (exitCode, output) = await ExternalCommand.RunAsync("npm", "test", clientDir, NpmTimeout);

        exitCode.Should().Be(0, $"`npm test` in {clientDir} should pass; its output:{Environment.NewLine}{output}");
    }
}
