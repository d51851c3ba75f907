using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;

namespace Downloads.Tests.Clients;

/// <summary>
/// A lossy network between a client and the real service: the HTTP answers of the SSE stream or of SignalR's long
/// polling lose an event, or a stream is cut. The service is untouched; only what reaches the client changes.
/// </summary>
public sealed class LossyHandler : DelegatingHandler
{
    private const char RecordSeparator = '\x1e';
    private readonly Func<string, int, int, Verdict> _editStreamEvent;
    private readonly int _dropHubUpdate;
    private readonly int _cutHubAfter;
    private int _streams;
    private int _hubUpdates;

    private LossyHandler(Func<string, int, int, Verdict> editStreamEvent, int dropHubUpdate, HttpMessageHandler? inner = null, int cutHubAfter = -1)
        : base(inner ?? new SocketsHttpHandler())
    {
        _editStreamEvent = editStreamEvent;
        _dropHubUpdate = dropHubUpdate;
        _cutHubAfter = cutHubAfter;
    }

    public enum Verdict
    {
        Keep,
        Drop,
        Cut,
    }

    /// <summary><c>Last-Event-ID</c> of each SSE request (null when absent).</summary>
    public List<string?> LastEventIds { get; } = [];

    /// <summary>Loses the <paramref name="index"/>-th event of the first SSE stream (0: the snapshot).</summary>
    public static LossyHandler DropsStreamEvent(int index) =>
        new((_, stream, i) => stream == 0 && i == index ? Verdict.Drop : Verdict.Keep, -1);

    /// <summary>Cuts the first SSE stream after <paramref name="count"/> events, as a proxy closing it would.</summary>
    public static LossyHandler CutsStreamAfter(int count) =>
        new((_, stream, i) => stream == 0 && i >= count ? Verdict.Cut : Verdict.Keep, -1);

    /// <summary>For SignalR's HttpMessageHandlerFactory: long polling loses the <paramref name="index"/>-th <c>update</c> (0: the snapshot).</summary>
    public static Func<HttpMessageHandler, HttpMessageHandler> DropsHubUpdate(int index) =>
        inner => new LossyHandler((_, _, _) => Verdict.Keep, index, inner);

    /// <summary>
    /// For SignalR's HttpMessageHandlerFactory: once long polling has delivered <paramref name="updates"/> <c>update</c>
    /// messages, the next poll fails like a dropped network, which closes that connection (once per handler chain).
    /// </summary>
    public static Func<HttpMessageHandler, HttpMessageHandler> CutsHubPollAfter(int updates, StrongBox<int> cuts) =>
        inner => new LossyHandler((_, _, _) => Verdict.Keep, -1, inner, updates) { _cutOnce = () => Interlocked.CompareExchange(ref cuts.Value, 1, 0) == 0 };

    private Func<bool> _cutOnce = () => false;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        if (_cutHubAfter >= 0 && request.Method == HttpMethod.Get && path.StartsWith("/ws/download", StringComparison.Ordinal)
            && Volatile.Read(ref _hubUpdates) >= _cutHubAfter && _cutOnce())
        {
            throw new HttpRequestException("The network dropped (a lossy test handler).");
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (path.StartsWith("/v1/download/events/", StringComparison.Ordinal) && response.IsSuccessStatusCode)
        {
            LastEventIds.Add(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.First() : null);
            response.Content = EditStream(response.Content, Interlocked.Increment(ref _streams) - 1, cancellationToken);
        }
        else if ((_dropHubUpdate >= 0 || _cutHubAfter >= 0) && path.StartsWith("/ws/download", StringComparison.Ordinal) && request.Method == HttpMethod.Get
                 && response.Content.Headers.ContentType?.MediaType != "text/event-stream" && response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var kept = body.Split(RecordSeparator).Where(m => !(m.Contains("\"target\":\"update\"", StringComparison.Ordinal)
                                                             && Interlocked.Increment(ref _hubUpdates) - 1 == _dropHubUpdate));
            response.Content = new StringContent(string.Join(RecordSeparator, kept), Encoding.UTF8, "text/plain");
        }

        return response;
    }

    private StreamContent EditStream(HttpContent original, int stream, CancellationToken cancellationToken)
    {
        var pipe = new Pipe();
        _ = Task.Run(async () =>
        {
            var writer = pipe.Writer;
            try
            {
                using var reader = new StreamReader(await original.ReadAsStreamAsync(cancellationToken));
                var block = new StringBuilder();
                var index = 0;
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    block.Append(line).Append('\n');
                    if (line.Length > 0)
                    {
                        continue;
                    }

                    var text = block.ToString();
                    block.Clear();
                    var verdict = text.StartsWith(':') ? Verdict.Keep : _editStreamEvent(text, stream, index++);
                    if (verdict == Verdict.Cut)
                    {
                        break;
                    }

                    if (verdict == Verdict.Keep)
                    {
                        await writer.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
                    }
                }
            }
            catch (Exception error) when (error is IOException or OperationCanceledException or HttpRequestException)
            {
                // The client went away or the service closed: end the edited stream too.
            }
            finally
            {
                await writer.CompleteAsync();
                original.Dispose();
            }
        }, CancellationToken.None);
        var content = new StreamContent(pipe.Reader.AsStream());
        content.Headers.ContentType = new("text/event-stream");
        return content;
    }
}
