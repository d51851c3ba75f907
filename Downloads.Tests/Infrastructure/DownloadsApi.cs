using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs;

namespace Downloads.Tests.Infrastructure;

/// <summary>The contract's routes as a client calls them, over real HTTP.</summary>
public sealed class DownloadsApi(HttpClient http)
{
    public static readonly long[] ThreeFileJob = [70000, 70007, 70001];

    public HttpClient Http => http;

    public static JsonSerializerOptions Json => DownloadsJson.Options;

    public async Task<InitiateDownloadResponse> InitiateAsync(IReadOnlyList<long> fileIds, string? callbackUrl = null)
    {
        using var response = await http.PostAsJsonAsync("/v1/download/initiate", new InitiateDownloadRequest(fileIds, callbackUrl), Json).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(Json))!;
    }

    public async Task<JobStatusDocument> StatusAsync(Guid jobId)
    {
        using var response = await http.GetAsync($"/v1/download/status/{jobId}").DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JobStatusDocument>(Json))!;
    }

    /// <summary>Polls the status document until <paramref name="done"/> holds (the polling fallback a client would use).</summary>
    public async Task<JobStatusDocument> WaitForAsync(Guid jobId, Func<JobStatusDocument, bool> done, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            var status = await StatusAsync(jobId);
            if (done(status))
            {
                return status;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200 (a worker's Hangfire server announces itself shortly after start); returns its body.</summary>
    public async Task<string> WaitUntilReadyAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            using (var response = await http.GetAsync("/health/ready", deadline.Token))
            {
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return await response.Content.ReadAsStringAsync(deadline.Token);
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    public Task<JobStatusDocument> WaitForEndAsync(Guid jobId, TimeSpan? timeout = null) =>
        WaitForAsync(jobId, s => s.Status.IsTerminal(), timeout);

    public async Task<HttpResponseMessage> PostJsonAsync(string path, string json, string contentType = "application/json")
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, contentType);
        return await http.PostAsync(path, content).DefaultTimeout();
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
