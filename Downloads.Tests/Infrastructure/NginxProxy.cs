using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// A real nginx on a loopback port, running one of the repository's <c>deploy/nginx</c> templates rendered the way
/// the official nginx image renders <c>/etc/nginx/templates</c> (each <c>${NAME}</c> replaced, nginx's own
/// <c>$variables</c> left alone), so the tests exercise the very files operators deploy. Its own temp folder holds the
/// rendered config, logs and pid; disposing stops nginx and deletes the folder.
/// </summary>
public sealed partial class NginxProxy : IAsyncDisposable
{
    public const string SingleNode = "single-node.conf.template";
    public const string MultiNode = "multi-node.conf.template";

    /// <summary>The <c>SERVER_NAME</c> the tests' nginx serves: the host the tests' clients use (<see cref="BaseAddress"/>).</summary>
    public const string ServerName = "127.0.0.1";

    /// <summary>The server-level part every site template includes.</summary>
    private const string SharedPart = "downloads-proxy.inc.template";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private NginxProxy(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Where clients reach the service through this proxy, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>nginx's error log and console output, for a failing test's message.</summary>
    public string Diagnostics
    {
        get
        {
            var log = Path.Combine(_directory, "error.log");
            lock (_output)
            {
                return $"{_output}{(File.Exists(log) ? File.ReadAllText(log) : "")}";
            }
        }
    }

    /// <summary>
    /// Renders <paramref name="template"/> (and the shared part it includes) with <paramref name="variables"/> and starts
    /// nginx on it. <c>LISTEN_PORT</c> is <paramref name="port"/> on loopback (default: a free port); <c>PROXY_READ_TIMEOUT</c>
    /// defaults to nginx's 60s, <c>FORWARDED_PROTO</c> to <c>$scheme</c> and <c>SERVER_NAME</c> to <see cref="ServerName"/>.
    /// <paramref name="edit"/> changes a rendered file (given its template's name and text), to build a misconfigured variant.
    /// </summary>
    public static async Task<NginxProxy> StartAsync(
        string template, IReadOnlyDictionary<string, string> variables, Func<string, string, string>? edit = null, int? port = null)
    {
        var nginx = FindNginx();
        var listenPort = port ?? LoopbackServers.FreePort();
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PROXY_READ_TIMEOUT"] = "60s",
            ["FORWARDED_PROTO"] = "$scheme",
            ["SERVER_NAME"] = ServerName,
        };
        foreach (var (name, value) in variables)
        {
            values[name] = value;
        }

        values["LISTEN_PORT"] = $"127.0.0.1:{listenPort.ToString(CultureInfo.InvariantCulture)}";

        var directory = Directory.CreateTempSubdirectory("downloads-nginx-").FullName;
        var confD = Directory.CreateDirectory(Path.Combine(directory, "conf.d")).FullName;
        var temp = Directory.CreateDirectory(Path.Combine(directory, "temp")).FullName; // nginx creates the temp paths, not their parent
        // Workers of a root master run as nobody: they must reach the temp paths (which nginx hands to them).
        const UnixFileMode traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, traversable);
            File.SetUnixFileMode(temp, traversable);
        }
        foreach (var file in new[] { template, SharedPart })
        {
            var text = Render(file, values);
            await File.WriteAllTextAsync(Path.Combine(confD, Path.GetFileNameWithoutExtension(file)), edit is null ? text : edit(file, text));
        }
        File.Copy(RepositoryFiles.PathOf("deploy", "nginx", "nginx.conf"), Path.Combine(directory, "nginx.conf"));

        var start = new ProcessStartInfo(nginx,
            ["-p", directory + "/", "-c", Path.Combine(directory, "nginx.conf"), "-e", Path.Combine(directory, "error.log"),
             "-g", $"daemon off; pid {Path.Combine(directory, "nginx.pid")};"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var proxy = new NginxProxy(Process.Start(start) ?? throw new InvalidOperationException("nginx did not start."), directory, listenPort);
        try
        {
            await proxy.WaitUntilListeningAsync(listenPort);
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }

        return proxy;
    }

    /// <summary>A proxy that does not pass the WebSocket handshake on (no <c>Upgrade</c>/<c>Connection</c>), like many old or default setups.</summary>
    public static string WithoutUpgradeHeaders(string template, string text) =>
        template == SharedPart ? RemoveLines(template, text, UpgradeHeaderLine(), expected: 2) : text;

    /// <summary>Plain round robin across the API nodes: no affinity.</summary>
    public static string WithoutAffinity(string template, string text) =>
        template == MultiNode ? RemoveLines(template, text, AffinityLine(), expected: 1) : text;

    private static string RemoveLines(string template, string text, Regex line, int expected)
    {
        var lines = text.Split('\n');
        var kept = lines.Where(l => !line.IsMatch(l)).ToArray();
        return lines.Length - kept.Length == expected
            ? string.Join('\n', kept)
            : throw new InvalidOperationException($"{template} no longer has {expected} line(s) matching {line}; update this test variant.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The workers are the master's children: stop them all, or one keeps the port.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Replaces each <c>${NAME}</c> of a <c>deploy/nginx</c> template; a name the test did not give fails loudly.</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        var text = File.ReadAllText(RepositoryFiles.PathOf("deploy", "nginx", template));
        return TemplateVariable().Replace(text, match => values.TryGetValue(match.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"{template} uses ${{{match.Groups[1].Value}}}, which the test did not set."));
    }

    private Task WaitUntilListeningAsync(int port) =>
        LoopbackServers.WaitUntilListeningAsync(port, () => _process.HasExited ? $"nginx exited with {_process.ExitCode}:\n{Diagnostics}" : null);

    private static string FindNginx()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin")
            .Select(directory => Path.Combine(directory, "nginx"))
            .FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException(
            "nginx is not installed; the proxy tests run a real one. Install it (apt-get install nginx; ./test.sh does).");
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

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)\}")]
    private static partial Regex TemplateVariable();

    [GeneratedRegex(@"^\s*proxy_set_header\s+(Upgrade|Connection)\s")]
    private static partial Regex UpgradeHeaderLine();

    [GeneratedRegex(@"^\s*(hash|ip_hash)\b")]
    private static partial Regex AffinityLine();
}
