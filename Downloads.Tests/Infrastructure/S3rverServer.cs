using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// A real S3-compatible server on loopback: <c>s3rver</c> (npm, pinned in <c>tools/s3rver/package-lock.json</c>) on
/// a free port with a temporary folder, one bucket, path-style. It accepts anonymous <c>PUT</c>s, which seed objects.
/// What it checks, seen with 3.7.1: the access key of header-signed requests, and the expiry of presigned URLs; it does
/// NOT verify the signature of a presigned URL whose date is valid, so no test here can prove a forged link fails.
/// </summary>
public sealed class S3rverServer : IAsyncDisposable
{
    public const string Bucket = "downloads-test";

    /// <summary>The one key pair s3rver knows.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    /// <summary>What installs the server; run from the repository root (CI's <c>test.sh</c> does).</summary>
    public const string InstallCommand = "npm ci --prefix tools/s3rver";

    private readonly string _directory;
    private readonly HttpClient _http;
    private Process? _process;

    private S3rverServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
        ServiceUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        _http = new HttpClient { BaseAddress = new Uri(ServiceUrl) };
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>, for <c>Downloads:Storage:S3:ServiceUrl</c>.</summary>
    public string ServiceUrl { get; }

    private static string Script => RepositoryFiles.PathOf("tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");

    public static async Task<S3rverServer> StartAsync()
    {
        var server = new S3rverServer(LoopbackServers.FreePort(), Directory.CreateTempSubdirectory("downloads-s3rver-").FullName);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>The settings of <c>s3</c> storage on this server's bucket, with s3rver's credentials.</summary>
    public DownloadsApplication Configure(DownloadsApplication app, string prefix = "") => app
        .With("Downloads:Storage:Kind", "s3")
        .With("Downloads:Storage:S3:ServiceUrl", ServiceUrl)
        .With("Downloads:Storage:S3:Bucket", Bucket)
        .With("Downloads:Storage:S3:Prefix", prefix)
        .With("Downloads:Storage:S3:ForcePathStyle", "true")
        .With("Downloads:Storage:S3:AccessKey", AccessKey)
        .With("Downloads:Storage:S3:SecretKey", SecretKey)
        .With("Downloads:Storage:S3:RequestTimeout", "00:00:05");

    /// <summary>Puts an object (anonymously, as s3rver allows).</summary>
    public async Task PutAsync(string key, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        using var response = await _http.PutAsync($"/{Bucket}/{key}", content).DefaultTimeout();
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteAsync(string key)
    {
        using var response = await _http.DeleteAsync($"/{Bucket}/{key}").DefaultTimeout();
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Kills the server: requests to it are refused from now on.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().DefaultTimeout();
            process.Dispose();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task StartProcessAsync()
    {
        // Never skipped: a missing prerequisite fails with the command that installs it.
        if (!File.Exists(Script))
        {
            throw new InvalidOperationException($"s3rver is not installed: run `{InstallCommand}` in {RepositoryFiles.Root} (needs node and npm).");
        }

        var start = new ProcessStartInfo(
            "node",
            [Script, "--directory", _directory, "--address", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture),
             "--silent", "--configure-bucket", Bucket])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"node is not installed: `apt-get install -y nodejs npm`, then `{InstallCommand}`.", ex);
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        LoopbackServers.StopWithTestRun(_process.Id, _directory);
        await LoopbackServers.WaitUntilListeningAsync(Port, () => _process is { HasExited: true } exited ? $"s3rver exited with {exited.ExitCode} at start." : null);
    }
}
