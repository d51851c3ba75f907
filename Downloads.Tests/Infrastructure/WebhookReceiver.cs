using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Downloads.Tests.Infrastructure;

/// <summary>One scripted answer of the receiver: a status after a delay (<see cref="Hang"/> never answers).</summary>
public sealed record Reply(int Status, TimeSpan Delay = default, string? RetryAfter = null, string? Location = null)
{
    public static Reply Ok => new(200);

    public static Reply Hang => new(200, Timeout.InfiniteTimeSpan);
}

/// <summary>A request the receiver got, with its exact body bytes.</summary>
public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset ReceivedAt)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real webhook consumer on loopback (Kestrel, port 0): records every POST and answers each path with its
/// script, one reply per request in order, the last one repeating (200 when unscripted).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly ConcurrentDictionary<string, Reply[]> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    private WebhookReceiver(WebApplication app)
    {
        _app = app;
        _app.Run(HandleAsync);
    }

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var receiver = new WebhookReceiver(builder.Build());
        await receiver._app.StartAsync().DefaultTimeout();
        receiver.BaseAddress = new Uri(receiver._app.Urls.First());
        return receiver;
    }

    /// <summary>The URL of <paramref name="path"/>, answered with <paramref name="replies"/>.</summary>
    public string Url(string path, params Reply[] replies)
    {
        _scripts[path] = replies.Length == 0 ? [Reply.Ok] : replies;
        return new Uri(BaseAddress, path).ToString();
    }

    public IReadOnlyList<ReceivedWebhook> Received(string path) => [.. _received.Where(r => r.Path == path)];

    /// <summary>Waits until <paramref name="path"/> got <paramref name="count"/> requests.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string path, int count = 1, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            var received = Received(path);
            if (received.Count >= count)
            {
                return received;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        _received.Enqueue(new ReceivedWebhook(
            path,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray(),
            DateTimeOffset.UtcNow));

        var index = _counts.AddOrUpdate(path, 0, (_, n) => n + 1);
        var script = _scripts.TryGetValue(path, out var replies) ? replies : [Reply.Ok];
        var reply = script[Math.Min(index, script.Length - 1)];
        if (reply.Delay != TimeSpan.Zero)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(reply.Delay, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = reply.Status;
        if (reply.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        }

        if (reply.Location is not null)
        {
            context.Response.Headers.Location = reply.Location;
        }

        await context.Response.WriteAsync(reply.Status.ToString(CultureInfo.InvariantCulture), context.RequestAborted);
    }
}
