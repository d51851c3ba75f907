using System.Diagnostics;
using System.Text;

namespace Downloads.Tests.Browser;

/// <summary>The browser client's own unit tests (vitest), so that `dotnet test Downloads.sln` runs them too.</summary>
public sealed class ClientUnitTests
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_client_vitest_suite_passes()
    {
        var clientDir = Path.Combine(FindRepositoryRoot(), "client");
        // The API build runs `npm ci`; without it vitest is missing and the failure would only say "not found".
        Directory.Exists(Path.Combine(clientDir, "node_modules")).Should().BeTrue(
            $"{clientDir}/node_modules should exist: build Downloads.Api (it runs npm ci) or run `npm ci` in client/");

        var (exitCode, output) = await RunAsync("npm", "test", clientDir, NpmTimeout);

        exitCode.Should().Be(0, $"`npm test` in {clientDir} should pass; its output:{Environment.NewLine}{output}");
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Downloads.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Downloads.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Plain output in the failure message: no colour codes, no interactive watch mode.
        startInfo.Environment["CI"] = "true";
        startInfo.Environment["NO_COLOR"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Append($"[killed after {timeout.TotalSeconds:0} s]");
            return (-1, Snapshot());
        }

        return (process.ExitCode, Snapshot());

        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }
        }

        string Snapshot()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }
}
