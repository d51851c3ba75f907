using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>Idempotency-Key: in memory.</summary>
public sealed class InMemoryIdempotencyTests(DownloadsApplication app) : IdempotencyTests<DownloadsApplication>(app);

/// <summary>Idempotency-Key: in Redis mode.</summary>
public sealed class RedisIdempotencyTests(RedisDownloadsApplication app) : IdempotencyTests<RedisDownloadsApplication>(app);

/// <summary><c>Idempotency-Key</c>: the same key and body return the same job; another body is 422.</summary>
public abstract class IdempotencyTests<TApplication>(TApplication app) : IClassFixture<TApplication>
    where TApplication : DownloadsApplication
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task Concurrent_identical_requests_create_one_job()
    {
        var key = $"order-{Guid.NewGuid():N}";

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => SendAsync(key, "{\"file_ids\":[70000,70007]}")));

        responses.Should().OnlyContain(r => r.Status == HttpStatusCode.Accepted);
        responses.Select(r => r.Body!.JobId).Distinct().Should().ContainSingle();
        responses.Count(r => !r.Replayed).Should().Be(1, "one request created the job, the others replayed it");
    }

    [Fact]
    public async Task A_replay_returns_the_same_job_with_the_replayed_header()
    {
        var key = $"order-{Guid.NewGuid():N}";
        var first = await SendAsync(key, "{\"file_ids\":[70000]}");

        var again = await SendAsync(key, "{\"file_ids\":[70000]}");

        again.Status.Should().Be(HttpStatusCode.Accepted);
        again.Replayed.Should().BeTrue();
        again.Body!.JobId.Should().Be(first.Body!.JobId);
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422()
    {
        var key = $"order-{Guid.NewGuid():N}";
        await SendAsync(key, "{\"file_ids\":[70000]}");

        var other = await SendAsync(key, "{\"file_ids\":[70007]}");

        other.Status.Should().Be(HttpStatusCode.UnprocessableEntity);
    }

    private async Task<(HttpStatusCode Status, bool Replayed, InitiateDownloadResponse? Body)> SendAsync(string key, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await _api.Http.SendAsync(request).DefaultTimeout();
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";
        var body = response.StatusCode == HttpStatusCode.Accepted
            ? await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json)
            : null;
        return (response.StatusCode, replayed, body);
    }
}
