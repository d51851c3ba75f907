using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Proxies;

/// <summary>
/// What the Dockerfile does, minus Docker: <c>dotnet publish Downloads.Api -c Release -o dir</c>, then
/// <c>dotnet dir/Downloads.Api.dll</c> in Production with nothing but the two signing secrets set.
/// </summary>
public sealed class PublishTests
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_release_publish_starts_in_production_with_only_the_signing_secrets()
    {
        var output = Directory.CreateTempSubdirectory("downloads-publish-").FullName;
        try
        {
            // --disable-build-servers: no compiler or MSBuild node outlives the test.
            var (exitCode, log) = await RunToEndAsync(
                ["publish", "Downloads.Api", "-c", "Release", "-o", output, "--disable-build-servers", "-nologo"], PublishTimeout);
            exitCode.Should().Be(0, log);

            var port = FreeLoopbackPort();
            await using var service = ServiceProcess.StartIn(output, new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Downloads__Links__SigningKey"] = "publish-test-link-key-0123456789abcdef",
                ["Downloads__Webhooks__SigningSecret"] = "whsec_cHVibGlzaC10ZXN0LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3",
            });
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

            await service.WaitUntilHealthyAsync(http);
            using var page = await http.GetAsync("/").DefaultTimeout();

            page.StatusCode.Should().Be(HttpStatusCode.OK, service.Output);
            page.Content.Headers.ContentType?.MediaType.Should().Be("text/html");
            (await page.Content.ReadAsStringAsync()).Should().Contain("<div id=\"root\">", "the browser client is in the publish output");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Log)> RunToEndAsync(string[] arguments, TimeSpan timeout)
    {
        using var process = ServiceProcess.StartDotnet(arguments, RepositoryFiles.Root, new Dictionary<string, string>());
        var log = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().DefaultTimeout(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        log.Append(await stdout).Append(await stderr);
        return (process.ExitCode, log.ToString());
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
