using System.Diagnostics;

namespace Downloads.Jobs.Telemetry;

/// <summary>
/// The service's spans (ActivitySource <c>Downloads</c>). A job's Hangfire runs continue the trace of the
/// <c>POST /initiate</c> that created it: the initiating <c>traceparent</c> is stored on the job.
/// </summary>
public static class DownloadsTracing
{
    public const string SourceName = "Downloads";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C <c>traceparent</c> of the current activity, to store with work that continues it later.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Starts a span of a job's background work, as a child of the stored <paramref name="traceParent"/> when there is one.</summary>
    public static Activity? StartJobActivity(string name, string? traceParent, Guid jobId, long? fileId = null)
    {
        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context)
            ? context
            : default;
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag("downloads.job_id", jobId.ToString("D"));
        if (fileId is { } id)
        {
            activity?.SetTag("downloads.file_id", id);
        }

        return activity;
    }
}
