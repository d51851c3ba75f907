using System.Diagnostics;
using System.Text;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The service as a real separate process (<c>dotnet Downloads.Api.dll</c>), configured through environment
/// variables the way an operator would, so a test can kill it with SIGKILL or stop it with SIGTERM.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote, for a failing test's message.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>Starts the built service with these settings (<c>Downloads:Role</c> → <c>Downloads__Role</c>), in Development.</summary>
    public static ServiceProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? "";
        }

        return StartIn(AppContext.BaseDirectory, environment);
    }

    /// <summary>Starts <c>dotnet {directory}/Downloads.Api.dll</c> configured only through <paramref name="environment"/>.</summary>
    public static ServiceProcess StartIn(string directory, IReadOnlyDictionary<string, string> environment) =>
        new(StartDotnet([Path.Combine(directory, "Downloads.Api.dll")], directory, environment));

    /// <summary>
    /// <c>dotnet</c> with this test run's service settings removed from its environment (an operator's shell has
    /// none of them), plus <paramref name="environment"/>.
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

    /// <summary>Waits until <c>/health</c> answers 200, failing at once if the process exits.</summary>
    public async Task WaitUntilHealthyAsync(HttpClient http)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            _process.HasExited.Should().BeFalse($"the service should keep running; it wrote:\n{Output}");
            try
            {
                using var health = await http.GetAsync("/health", deadline.Token);
                if (health.StatusCode == System.Net.HttpStatusCode.OK)
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

    /// <summary>SIGKILL: the process dies at once, mid-job, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().DefaultTimeout();
    }

    /// <summary>SIGTERM: the process shuts down gracefully, as on a deployment.</summary>
    public async Task TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync().DefaultTimeout();
        }

        await _process.WaitForExitAsync().DefaultTimeout();
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
