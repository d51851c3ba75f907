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
            await using var service = PublishedService.Start(output, new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Downloads__Links__SigningKey"] = "publish-test-link-key-0123456789abcdef",
                ["Downloads__Webhooks__SigningSecret"] = "publish-test-webhook-secret-0123456789",
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
        using var process = PublishedService.StartDotnet(arguments, RepositoryFiles.Root, new Dictionary<string, string>());
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

    /// <summary>The published service as a process of its own, configured only through the environment.</summary>
    private sealed class PublishedService : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private PublishedService(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output { get { lock (_output) { return _output.ToString(); } } }

        public static PublishedService Start(string directory, IReadOnlyDictionary<string, string> environment) =>
            new(StartDotnet([Path.Combine(directory, "Downloads.Api.dll")], directory, environment));

        /// <summary>
        /// <c>dotnet</c> with this test run's settings removed from its environment (an operator's shell has none of
        /// them), plus <paramref name="environment"/>.
        /// </summary>
        public static Process StartDotnet(IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", arguments)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var key in start.Environment.Keys.Where(IsServiceSetting).ToList())
            {
                start.Environment.Remove(key);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        }

        public async Task WaitUntilHealthyAsync(HttpClient http)
        {
            using var deadline = new CancellationTokenSource(TestTimeouts.Default);
            while (true)
            {
                _process.HasExited.Should().BeFalse($"the service should keep running; it wrote:\n{Output}");
                try
                {
                    using var health = await http.GetAsync("/health", deadline.Token);
                    if (health.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }

                await Task.Delay(100, deadline.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().DefaultTimeout();
            }

            _process.Dispose();
        }

        private static bool IsServiceSetting(string key) =>
            key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
            || key.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
            || key.StartsWith("Downloads__", StringComparison.OrdinalIgnoreCase)
            || key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase);

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
