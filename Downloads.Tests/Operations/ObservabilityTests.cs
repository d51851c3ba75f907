using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using OpenTelemetry.Trace;
using Serilog.Core;
using Serilog.Events;

namespace Downloads.Tests.Operations;

/// <summary>One trace from initiate to every hub send; log lines that carry their job and request; no signed URL in any log.</summary>
public sealed class ObservabilityTests
{
    [Fact]
    public async Task One_trace_spans_initiate_the_hangfire_runs_and_each_hub_send()
    {
        var spans = new LockedList<Activity>();
        await using var app = new DownloadsApplication()
            .WithServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        var api = new DownloadsApi(app.CreateApiClient());

        // The caller's own sampled trace: the test's HttpClient sends its traceparent.
        InitiateDownloadResponse job;
        ActivityTraceId traceId;
        using (var caller = new Activity("test.caller") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            traceId = caller.TraceId;
            job = await api.InitiateAsync([70000, 70001]);
        }

        var ended = await api.WaitForEndAsync(job.JobId);

        // The terminal event's send may end a moment after the status says so.
        var trace = await WaitForAsync(() =>
        {
            var all = spans.Snapshot().Where(s => s.TraceId == traceId).ToList();
            return all.Count(s => s.OperationName == "hub.send") >= ended.Seq - 1 ? all : null;
        });
        trace.Should().Contain(s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("initiate", StringComparison.Ordinal), "the caller's traceparent is honoured");
        trace.Should().Contain(s => s.OperationName == "download.dispatch");
        // One span per run; a duplicate run (harmless by design, more likely on a loaded machine) adds one, so count files.
        trace.Where(s => s.OperationName == "download.prepare_file").Select(s => s.GetTagItem("downloads.file_id")).Distinct()
            .Should().HaveCount(2);
        trace.Where(s => s.OperationName == "hub.send").Select(s => s.GetTagItem("downloads.seq")).Should().OnlyHaveUniqueItems();
        trace.Where(s => s.OperationName != "hub.send" && s.OperationName != "download.publish" && s.Kind == ActivityKind.Internal)
            .Should().OnlyContain(s => Equals(s.GetTagItem("downloads.job_id"), job.JobId.ToString("D")));
    }

    [Fact]
    public async Task Log_lines_carry_job_file_and_request_ids_and_never_a_signed_link()
    {
        var sink = new CapturingSink();
        await using var app = new DownloadsApplication()
            .With("Serilog:MinimumLevel:Default", "Information")
            .With("Serilog:MinimumLevel:Override:Microsoft.AspNetCore", "Information")
            .WithServices(services => services.AddSingleton<ILogEventSink>(sink));
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob);
        var ended = await api.WaitForEndAsync(job.JobId);
        var link = ended.Results.First(r => r.DownloadUrl is not null).DownloadUrl!;
        link.Should().Contain("signature=");

        using var download = new HttpRequestMessage(HttpMethod.Get, link);
        download.Headers.Add("X-Request-ID", "ops-log-test-1");
        using var response = await api.Http.SendAsync(download).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        await response.Content.ReadAsByteArrayAsync();

        // The request's own line (Serilog request logging) and the framework's lines inside it carry the caller's id.
        await WaitForAsync(() => sink.Events.FirstOrDefault(e => Source(e) == "Serilog.AspNetCore.RequestLoggingMiddleware" && Path(e).Contains("/v1/files/", StringComparison.Ordinal)));
        var requestLines = sink.Events.Where(e => Path(e).Contains("/v1/files/", StringComparison.Ordinal)).ToList();
        requestLines.Should().HaveCountGreaterThan(1, string.Join("\n", sink.Events.Select(e => Source(e) + " " + e.RenderMessage() + " " + string.Join(",", e.Properties.Keys))));
        requestLines.Should().OnlyContain(e => e.Properties["RequestId"].ToString() == "\"ops-log-test-1\"");

        var fileLines = sink.Events.Where(e => e.MessageTemplate.Text.StartsWith("File {FileId} ended", StringComparison.Ordinal)
            && e.Properties.TryGetValue("JobId", out var id) && id.ToString() == job.JobId.ToString("D")).ToList();
        fileLines.Should().HaveCount(3, "each file's end is logged with its job id from the run's scope");
        fileLines.Should().OnlyContain(e => e.Properties.ContainsKey("RunId") && e.Properties.ContainsKey("Role") && e.Properties.ContainsKey("Node"));

        var written = string.Join('\n', sink.Events.Select(e => e.RenderMessage() + " " + string.Join(' ', e.Properties.Values)));
        written.Should().NotContain("signature=", "download links are secrets until they expire");
    }

    private static string Source(LogEvent e) => e.Properties.TryGetValue("SourceContext", out var value) ? ((ScalarValue)value).Value as string ?? "" : "";

    private static string Path(LogEvent e) => e.Properties.TryGetValue("RequestPath", out var value) ? value.ToString() : "";

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    /// <summary>A list the exporter may add to while the test reads it.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count { get { lock (_items) { return _items.Count; } } }

        public bool IsReadOnly => false;

        public List<T> Snapshot() { lock (_items) { return [.. _items]; } }

        public void Add(T item) { lock (_items) { _items.Add(item); } }

        public void Clear() { lock (_items) { _items.Clear(); } }

        public bool Contains(T item) { lock (_items) { return _items.Contains(item); } }

        public void CopyTo(T[] array, int arrayIndex) { lock (_items) { _items.CopyTo(array, arrayIndex); } }

        public bool Remove(T item) { lock (_items) { return _items.Remove(item); } }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class CapturingSink : ILogEventSink
    {
        private readonly ConcurrentQueue<LogEvent> _events = new();

        public IReadOnlyList<LogEvent> Events => [.. _events];

        public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);
    }
}
