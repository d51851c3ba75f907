using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Downloads.Bench;

/// <summary>
/// Connections for the load: a SocketsHttpHandler whose sockets bind to one of several 127.0.0.x source
/// addresses in turn, so more than one address's ~28k ephemeral ports are available (loopback targets only).
/// </summary>
public sealed class Net : IDisposable
{
    private readonly IPAddress[] _sources;
    private int _next;

    public Net(int sourceAddresses = 1, int maxConnections = 1024)
    {
        _sources = Enumerable.Range(1, Math.Clamp(sourceAddresses, 1, 250)).Select(i => new IPAddress([127, 0, 0, (byte)i])).ToArray();
        Handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
            ConnectCallback = ConnectAsync,
        };
        Http = new HttpClient(Handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public SocketsHttpHandler Handler { get; }

    public HttpClient Http { get; }

    public static void EnsureLoopback(Uri uri)
    {
        if (!uri.IsLoopback)
        {
            throw new ArgumentException($"The bench only targets loopback addresses; {uri} is not one.");
        }
    }

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var source = _sources[(int)((uint)Interlocked.Increment(ref _next) % _sources.Length)];
            socket.Bind(new IPEndPoint(source, 0));
            var host = context.DnsEndPoint.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(context.DnsEndPoint.Host);
            await socket.ConnectAsync(new IPEndPoint(host, context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A hub connection over WebSockets only, no negotiate round trip, through this handler's sockets.</summary>
    public HubConnection Hub(Uri url)
    {
        EnsureLoopback(url);
        return new HubConnectionBuilder()
            .WithUrl(url, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new System.Net.WebSockets.ClientWebSocket();
                    var ws = new UriBuilder(context.Uri) { Scheme = context.Uri.Scheme == "https" ? "wss" : "ws" }.Uri;
                    await socket.ConnectAsync(ws, new HttpMessageInvoker(Handler, disposeHandler: false), cancellationToken);
                    return socket;
                };
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions = ServiceClient.Json)
            .Build();
    }

    public void Dispose()
    {
        Http.Dispose();
        Handler.Dispose();
    }
}

/// <summary>The few calls of the service's REST API the scenarios make.</summary>
public static class ServiceClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>File ids the synthetic storage has (multiples of 7), distinct within a job.</summary>
    public static long[] FileIds(int count, int offset = 0) =>
        Enumerable.Range(offset, count).Select(i => 70_000L + (7L * i)).ToArray();

    public static HttpContent InitiateBody(int files) => JsonContent.Create(new { file_ids = FileIds(files) });

    public static async Task<Guid> InitiateAsync(HttpClient http, Uri api, int files, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri(api, "/v1/download/initiate"), InitiateBody(files), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"initiate answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return body.RootElement.GetProperty("job_id").GetGuid();
    }

    public sealed record Status(string State, DateTimeOffset? CompletedAt, int Completed, int Failed, int Total)
    {
        public bool Ended => State is "completed" or "failed" or "cancelled";
    }

    public static async Task<Status> StatusAsync(HttpClient http, Uri api, Guid jobId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(api, $"/v1/download/status/{jobId:D}"), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = body.RootElement;
        var progress = root.GetProperty("progress");
        var completedAt = root.GetProperty("completed_at");
        return new Status(
            root.GetProperty("status").GetString()!,
            completedAt.ValueKind == JsonValueKind.Null ? null : completedAt.GetDateTimeOffset(),
            progress.GetProperty("completed").GetInt32(),
            progress.GetProperty("failed").GetInt32(),
            progress.GetProperty("total").GetInt32());
    }

    /// <summary>Polls until every job ended or the deadline passed; returns each job's last status.</summary>
    public static async Task<Dictionary<Guid, Status>> WaitEndedAsync(
        HttpClient http, Uri api, IReadOnlyCollection<Guid> jobs, TimeSpan timeout, CancellationToken cancellationToken, int pollMs = 250)
    {
        var statuses = new Dictionary<Guid, Status>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var pending = jobs.ToList();
        while (pending.Count > 0 && !deadline.IsCancellationRequested)
        {
            var polled = new System.Collections.Concurrent.ConcurrentDictionary<Guid, Status>();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (job, ct) => polled[job] = await StatusAsync(http, api, job, ct));
            foreach (var (job, status) in polled)
            {
                statuses[job] = status;
            }

            pending = pending.Where(j => !statuses[j].Ended).ToList();
            if (pending.Count > 0)
            {
                try
                {
                    await Task.Delay(pollMs, deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        return statuses;
    }
}
