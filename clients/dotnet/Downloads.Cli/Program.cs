using System.Globalization;
using System.Security.Cryptography;
using Downloads.Cli;
using Downloads.Client;
using Downloads.Contracts;

// dotnet run --project clients/dotnet/Downloads.Cli -- 70000 70007 [--url http://localhost:3000] [--api-key KEY]
//   [--out downloads] [--transport auto|websockets|serversentevents|longpolling|eventstream|polling]
// Exit code: 0 all files downloaded and verified; 1 the job did not complete or a file did not verify; 2 bad usage
// or the service refused.
if (!CliArguments.TryParse(args, out var options, out var usageError))
{
    await Console.Error.WriteLineAsync(usageError);
    await Console.Error.WriteLineAsync(CliArguments.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

using var http = new HttpClient();
var client = new DownloadsClient(http, new DownloadsClientOptions { BaseAddress = options.BaseAddress, ApiKey = options.ApiKey, Transport = options.Transport });
try
{
    var job = await client.InitiateAsync(options.FileIds, cancellationToken: cancel.Token);
    Console.WriteLine($"job {job.JobId} {job.Status.ToString().ToLowerInvariant()}, {job.TotalFiles} file(s)");
    var last = await client.WaitForCompletionAsync(job.JobId, new SynchronousProgress(Report), cancel.Token);
    Console.WriteLine($"job {last.Status.ToString().ToLowerInvariant()}: {last.Completed} completed, {last.Failed} failed of {last.Total}");

    Directory.CreateDirectory(options.OutputDirectory);
    var verified = 0;
    foreach (var file in last.Results ?? [])
    {
        if (file is { Status: FileStatus.Completed, DownloadUrl: { } url })
        {
            verified += await SaveAsync(http, file, url, options.OutputDirectory, cancel.Token) ? 1 : 0;
        }
        else
        {
            Console.WriteLine($"{file.FileId}: {file.Status.ToString().ToLowerInvariant()}{(file.Error is null ? "" : $" ({file.Error})")}");
        }
    }

    return last.Status == JobStatus.Completed && verified == last.Completed ? 0 : 1;
}
catch (DownloadsApiException error)
{
    await Console.Error.WriteLineAsync($"The service answered {(int)error.StatusCode}: {error.Message}");
    foreach (var (field, messages) in error.Problem?.Errors ?? new Dictionary<string, string[]>())
    {
        await Console.Error.WriteLineAsync($"  {field}: {string.Join("; ", messages)}");
    }

    return 2;
}
catch (HttpRequestException error)
{
    await Console.Error.WriteLineAsync($"Could not reach the service at {options.BaseAddress}: {error.Message}");
    return 2;
}

static void Report(JobEvent e)
{
    var file = e.File is { } f ? $" - {f.FileId} {f.Status.ToString().ToLowerInvariant()}" : "";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"[{e.ProgressPercent,5:0.#}%] {e.Type.ToString().ToLowerInvariant()} #{e.Seq}: {e.Completed}/{e.Total} done, {e.Failed} failed{file}"));
}

// Streams the file to {out}/{file_id}.zip, hashing on the way; true when the bytes match the result's sha256.
static async Task<bool> SaveAsync(HttpClient http, FileResult file, string url, string directory, CancellationToken cancellationToken)
{
    var path = Path.Combine(directory, $"{file.FileId}.zip");
    using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    response.EnsureSuccessStatusCode();
    await using (var target = File.Create(path))
    await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
    using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
    {
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        var ok = string.Equals(sha256, file.Sha256, StringComparison.OrdinalIgnoreCase);
        Console.WriteLine($"saved {path} ({target.Length} bytes, sha256 {(ok ? "ok" : $"MISMATCH: {sha256} != {file.Sha256}")})");
        return ok;
    }
}
