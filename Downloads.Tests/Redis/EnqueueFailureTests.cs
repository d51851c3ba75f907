using System.Net;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using StackExchange.Redis;

namespace Downloads.Tests.Redis;

/// <summary>The job record is stored but Hangfire refuses the dispatch: the client gets 503 and nothing half-created stays behind.</summary>
public sealed class EnqueueFailureTests
{
    [Fact]
    public async Task Initiate_answers_503_and_keeps_nothing_when_the_dispatch_cannot_be_enqueued()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var node = deployment.Node("api", app => app.WithServices(services => services.AddSingleton<IBackgroundJobClient, RefusingBackgroundJobClient>()));
        var api = new DownloadsApi(node.CreateApiClient());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = new StringContent("""{"file_ids":[70000]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "refused");
        using var response = await api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(503);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(deployment.Redis.ConnectionString);
        var prefix = node.Settings["Downloads:Redis:KeyPrefix"];
        var keys = redis.GetServers()[0].Keys(pattern: $"{prefix}*").Select(k => k.ToString())
            .Where(k => !k.StartsWith($"{prefix}hangfire:", StringComparison.Ordinal));
        keys.Should().BeEmpty("neither the job record nor the Idempotency-Key binding outlives a refused dispatch");
    }

    private sealed class RefusingBackgroundJobClient : IBackgroundJobClient
    {
        public string Create(Job job, IState state) =>
            throw new BackgroundJobClientException("Hangfire storage refused the job.", new RedisConnectionException(ConnectionFailureType.UnableToConnect, "test"));

        public bool ChangeState(string jobId, IState state, string expectedState) => false;
    }
}
