using System.Net;
using System.Net.Http.Json;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>
/// In memory, the files of stored jobs are bounded (<c>Downloads:Retention:MaxInMemoryFiles</c>): beyond it a new job
/// is refused with a 503 problem and <c>Retry-After</c> (the service is full, not the client too fast), before the
/// process runs out of memory.
/// </summary>
public sealed class CapacityTests : IAsyncLifetime
{
    private readonly DownloadsApplication _app = new DownloadsApplication()
        .With("Downloads:Retention:MaxInMemoryFiles", "3")
        .With("Downloads:Retention:EndedJobs", "00:10:00");

    private DownloadsApi _api = null!;

    public Task InitializeAsync()
    {
        _api = new DownloadsApi(_app.CreateApiClient());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_job_beyond_the_cap_is_a_503_problem_with_retry_after()
    {
        await _api.InitiateAsync(DownloadsApi.ThreeFileJob);

        using var refused = await _api.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70000]}""");

        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var problem = await DownloadsApi.ProblemAsync(refused);
        problem.GetProperty("status").GetInt32().Should().Be(503);
        refused.Headers.RetryAfter!.Delta.Should().BeCloseTo(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), "room comes back when the stored job expires, 10 minutes after it ends");
    }

    [Fact]
    public async Task A_job_within_the_cap_is_accepted()
    {
        await _api.InitiateAsync([70000, 70007]);

        using var accepted = await _api.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70014]}""");

        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task A_refused_job_leaves_its_idempotency_key_free()
    {
        await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        using (var refused = await InitiateWithKeyAsync("key-1"))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        }

        using var again = await InitiateWithKeyAsync("key-1");

        again.Headers.Contains("Idempotent-Replayed").Should().BeFalse("the key named no job: the refusal released it");
        again.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
    }

    private async Task<HttpResponseMessage> InitiateWithKeyAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate") { Content = JsonContent.Create(new { file_ids = new[] { 70000 } }) };
        request.Headers.Add("Idempotency-Key", key);
        return await _api.Http.SendAsync(request).DefaultTimeout();
    }
}
