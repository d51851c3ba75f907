using Downloads.Contracts;
using Downloads.Jobs.Telemetry;
using Microsoft.Extensions.Logging;

namespace Downloads.Jobs.Events;

/// <summary>Somewhere a job's events go: the SignalR hub, the SSE streams, …</summary>
public interface IJobEventSink
{
    Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken);
}

/// <summary>
/// Hands each recorded event to every sink. A sink that fails is logged and does not stop the job:
/// the change is already committed, and clients re-sync from a snapshot when they see a gap in <c>seq</c>.
/// </summary>
public sealed partial class JobEventPublisher(IEnumerable<IJobEventSink> sinks, ILogger<JobEventPublisher> logger)
{
    private readonly IJobEventSink[] _sinks = [.. sinks];

    public async Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken)
    {
        using var activity = DownloadsTracing.Source.StartActivity("download.publish");
        activity?.SetTag("downloads.job_id", jobEvent.JobId.ToString("D"));
        activity?.SetTag("downloads.seq", jobEvent.Seq);
        activity?.SetTag("downloads.event_type", jobEvent.Type.ToString().ToLowerInvariant());
        foreach (var sink in _sinks)
        {
            try
            {
                await sink.PublishAsync(jobEvent, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogSinkFailed(logger, ex, sink.GetType().Name, jobEvent.JobId, jobEvent.Seq);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event sink {Sink} failed for job {JobId} seq {Seq}; clients re-sync from a snapshot")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string sink, Guid jobId, long seq);
}
