using System.Globalization;
using Downloads.Client;

namespace Downloads.Cli;

/// <summary>What the tool was asked: file ids, where the service is, how to follow, where to save.</summary>
internal sealed record CliArguments(IReadOnlyList<long> FileIds, Uri BaseAddress, string? ApiKey, string OutputDirectory, FollowTransport Transport)
{
    public const string Usage =
        "usage: Downloads.Cli FILE_ID... [--url URL (default $DOWNLOADS_URL or http://localhost:3000)] [--api-key KEY (default $DOWNLOADS_API_KEY)] " +
        "[--out DIR (default ./downloads)] [--transport auto|websockets|serversentevents|longpolling|eventstream|polling]";

    public static bool TryParse(string[] args, out CliArguments parsed, out string error)
    {
        var fileIds = new List<long>();
        var url = Environment.GetEnvironmentVariable("DOWNLOADS_URL") is { Length: > 0 } fromEnvironment ? fromEnvironment : "http://localhost:3000";
        var apiKey = Environment.GetEnvironmentVariable("DOWNLOADS_API_KEY") is { Length: > 0 } key ? key : null;
        var output = "downloads";
        var transport = FollowTransport.Auto;
        parsed = null!;
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{arg} needs a value.";
                    return false;
                }

                var value = args[++i];
                switch (arg)
                {
                    case "--url":
                        url = value;
                        break;
                    case "--api-key":
                        apiKey = value;
                        break;
                    case "--out":
                        output = value;
                        break;
                    case "--transport" when Enum.TryParse(value, ignoreCase: true, out transport):
                        break;
                    default:
                        error = $"Unknown option or value: {arg} {value}";
                        return false;
                }
            }
            else if (long.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var fileId))
            {
                fileIds.Add(fileId);
            }
            else
            {
                error = $"Not a file id: {arg}";
                return false;
            }
        }

        if (fileIds.Count == 0)
        {
            error = "Give at least one file id.";
            return false;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress))
        {
            error = $"Not an absolute URL: {url}";
            return false;
        }

        parsed = new CliArguments(fileIds, baseAddress, apiKey, output, transport);
        return true;
    }
}

/// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool and may reorder lines).</summary>
internal sealed class SynchronousProgress(Action<Downloads.Contracts.JobEvent> report) : IProgress<Downloads.Contracts.JobEvent>
{
    public void Report(Downloads.Contracts.JobEvent value) => report(value);
}
