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

    /// <summary>Starts the service with these settings (<c>Downloads:Role</c> → <c>Downloads__Role</c>).</summary>
    public static ServiceProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "Downloads.Api.dll");
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException("The service did not start."));
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
            await KillAsync();
        }

        _process.Dispose();
    }

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
