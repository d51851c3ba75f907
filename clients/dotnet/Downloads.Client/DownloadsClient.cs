using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Downloads.Contracts;

namespace Downloads.Client;

/// <summary>
/// The typed client of the download service: REST calls over <see cref="HttpClient"/>, and
/// <see cref="FollowAsync"/>, a job's events in order to its end over the hub, the SSE stream or polling.
/// </summary>
public sealed class DownloadsClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ConcurrentDictionary<Guid, string> _tokens = new();

    /// <param name="http">Sends every REST call; its BaseAddress is the service unless <paramref name="options"/> names one.</param>
    /// <param name="options">Credentials, transport and timings.</param>
    /// <param name="timeProvider">The clock of backoff, polling and gap waits.</param>
    public DownloadsClient(HttpClient http, DownloadsClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        Options = options ?? new DownloadsClientOptions();
        var baseAddress = Options.BaseAddress ?? http.BaseAddress
            ?? throw new ArgumentException("Set DownloadsClientOptions.BaseAddress or the HttpClient's BaseAddress.", nameof(options));
        // Relative paths resolve under the base's path prefix only with a trailing slash.
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        Time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>A client with its own HttpClient for the service at <paramref name="baseAddress"/>.</summary>
    public DownloadsClient(Uri baseAddress, string? apiKey = null)
        : this(new HttpClient(), new DownloadsClientOptions { BaseAddress = baseAddress, ApiKey = apiKey })
    {
        _ownsHttp = true;
    }

    public Uri BaseAddress { get; }

    internal DownloadsClientOptions Options { get; }

    internal TimeProvider Time { get; }

    /// <summary>Remembers a job's access token (handed over by a back end); used for every later call on that job.</summary>
    public void UseAccessToken(Guid jobId, string accessToken) => _tokens[jobId] = accessToken;

    /// <summary><c>POST /v1/download/initiate</c>. A fresh <c>Idempotency-Key</c> unless one is given, so that a retry cannot start the job twice.</summary>
    public async Task<InitiateDownloadResponse> InitiateAsync(
        IReadOnlyList<long> fileIds, Uri? callbackUrl = null, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Post, "v1/download/initiate", jobId: null);
        request.Content = JsonContent.Create(new InitiateDownloadRequest(fileIds, callbackUrl?.AbsoluteUri), options: ClientJson.Options);
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        return await SendForStartedJobAsync(request, cancellationToken);
    }

    public Task<JobStatusDocument> GetStatusAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusDocument>(HttpMethod.Get, $"v1/download/status/{jobId:D}", jobId, cancellationToken);

    public async Task<JobResult> GetResultAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, $"v1/download/result/{jobId:D}", jobId);
        using var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var pending = await response.Content.ReadFromJsonAsync<JobPendingDocument>(ClientJson.Options, cancellationToken);
            return new JobResult(null, pending, response.Headers.RetryAfter?.Delta);
        }

        return new JobResult(await response.Content.ReadFromJsonAsync<JobResultDocument>(ClientJson.Options, cancellationToken), null, null);
    }

    public Task<JobStatusDocument> CancelAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusDocument>(HttpMethod.Delete, $"v1/download/{jobId:D}", jobId, cancellationToken);

    public Task<JobStatusDocument> PauseAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusDocument>(HttpMethod.Post, $"v1/download/{jobId:D}/pause", jobId, cancellationToken);

    public Task<JobStatusDocument> ResumeAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusDocument>(HttpMethod.Post, $"v1/download/{jobId:D}/resume", jobId, cancellationToken);

    /// <summary>A new job for the ended job's failed files (all, or <paramref name="fileIds"/>), answered like an initiate.</summary>
    public async Task<InitiateDownloadResponse> RetryAsync(Guid jobId, IReadOnlyList<long>? fileIds = null, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Post, $"v1/download/{jobId:D}/retry", jobId);
        if (fileIds is not null)
        {
            request.Content = JsonContent.Create(new { file_ids = fileIds });
        }

        return await SendForStartedJobAsync(request, cancellationToken);
    }

    /// <summary>
    /// The job's events in order, from a first <c>snapshot</c> to the event whose status is terminal. Nothing twice,
    /// nothing out of order: after a gap, or a reconnect that could not be replayed, comes a <c>snapshot</c> of the
    /// whole state. Throws <see cref="DownloadsApiException"/> for an unknown job (404) or refused credentials.
    /// </summary>
    public async IAsyncEnumerable<JobEvent> FollowAsync(
        Guid jobId, FollowTransport? transport = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var follower = new JobFollower(this, jobId, transport ?? Options.Transport, channel.Writer, stop);
        var running = follower.RunAsync();
        try
        {
            await foreach (var jobEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return jobEvent;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Rethrows why following stopped early (404, 401…).
        await running;
    }

    /// <summary>Follows the job to its end (for CI scripts); reports each event; returns the last one, whose status says how it ended.</summary>
    public async Task<JobEvent> WaitForCompletionAsync(Guid jobId, IProgress<JobEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        JobEvent? last = null;
        await foreach (var jobEvent in FollowAsync(jobId, cancellationToken: cancellationToken))
        {
            progress?.Report(jobEvent);
            last = jobEvent;
        }

        return last ?? throw new InvalidOperationException($"Stopped following job {jobId} before it ended.");
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>The credentials for a job's hub connection: its access token, else the API key.</summary>
    internal string? HubToken(Guid jobId) => _tokens.TryGetValue(jobId, out var token) ? token : Options.ApiKey;

    /// <summary>A request to <paramref name="path"/> with the API key, or the job's access token in the query.</summary>
    internal HttpRequestMessage Request(HttpMethod method, string path, Guid? jobId)
    {
        if (Options.ApiKey is null && jobId is { } id && _tokens.TryGetValue(id, out var token))
        {
            path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "access_token=" + Uri.EscapeDataString(token);
        }

        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("application/problem+json");
        if (Options.ApiKey is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    /// <summary>Sends; a non-2xx answer becomes <see cref="DownloadsApiException"/>.</summary>
    internal async Task<HttpResponseMessage> SendCheckedAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(request, completion, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await DownloadsApiException.FromAsync(response, cancellationToken);
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, Guid jobId, CancellationToken cancellationToken)
    {
        using var request = Request(method, path, jobId);
        using var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(ClientJson.Options, cancellationToken)
            ?? throw new JsonException($"The service answered {path} with an empty body.");
    }

    // The answer's access_token (services that issue them) is kept for later calls on the job.
    private async Task<InitiateDownloadResponse> SendForStartedJobAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ClientJson.Options, cancellationToken);
        var answer = body.Deserialize<InitiateDownloadResponse>(ClientJson.Options)
            ?? throw new JsonException("The service answered the initiate request with an empty body.");
        if (body.TryGetProperty("access_token", out var token) && token.ValueKind == JsonValueKind.String)
        {
            _tokens[answer.JobId] = token.GetString()!;
        }

        return answer;
    }
}
