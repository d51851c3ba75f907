using System.Net;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using StackExchange.Redis;

namespace Downloads.Tests.Redis;

/// <summary>
/// A 202 means the job is stored (in the ready ring): Hangfire refusing its run afterwards delays it until the sweeper
/// enqueues one, and fails no request. A store write that fails is the request's failure: 503, and nothing kept.
/// </summary>
public sealed class EnqueueFailureTests
{
    [Fact]
    public async Task Initiate_answers_202_and_the_job_still_ends_when_Hangfire_refuses_the_run_the_sweeper_dispatches_it()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0")
            .With("Downloads:Recovery:SweepInterval", "00:00:01");
        var refusing = new RefusingBackgroundJobClient();
        var api = new DownloadsApi(deployment.Node("api", app => app.WithServices(services => services.AddSingleton<IBackgroundJobClient>(refusing))).CreateApiClient());
        deployment.Node("worker");

        var job = await api.InitiateAsync([70000, 70007]);

        (await refusing.Refused.Task.DefaultTimeout()).Should().Equal([job.JobId], "the API node tried to enqueue the job's run, and Hangfire refused it");
        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.Attempts == 1);
    }

    [Fact]
    public async Task A_refused_run_is_counted_as_a_redis_error_of_the_run_enqueue()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var node = deployment.Node("api", app => app.WithServices(services => services.AddSingleton<IBackgroundJobClient, RefusingBackgroundJobClient>()));
        var api = new DownloadsApi(node.CreateApiClient());
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = HostMeasurements.Listen(node.Services, "downloads.redis.errors", (_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "operation", Value: "run_enqueue" })
                {
                    refused.TrySetResult();
                }
            }
        });

        await api.InitiateAsync([70000]);

        await refused.Task.DefaultTimeout();
    }

    [Fact]
    public async Task Initiate_answers_503_and_keeps_nothing_when_the_store_write_fails()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var node = deployment.Node("api", app => app.WithServices(services => JobStoreDecorator.Decorate(services, (method, _, call) =>
            method.Name == nameof(IJobStore.CreateManyAsync) ? AnswerLostAsync((Task)call()!) : call())));
        var api = new DownloadsApi(node.CreateApiClient());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = new StringContent("""{"file_ids":[70000]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "lost");
        using var response = await api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(503);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(deployment.Redis.ConnectionString);
        var prefix = node.Settings["Downloads:Redis:KeyPrefix"];
        var keys = redis.GetServers()[0].Keys(pattern: $"{prefix}*").Select(k => k.ToString())
            .Where(k => !k.StartsWith($"{prefix}hangfire:", StringComparison.Ordinal));
        keys.Should().BeEmpty("neither the job record, nor its place in the ready ring, nor the Idempotency-Key binding outlives a failed write");
    }

    // The worst partial write: everything reached Redis, but its answer did not reach the service.
    private static async Task AnswerLostAsync(Task write)
    {
        await write;
        throw new JobStoreUnavailableException("The job store did not answer.", new RedisTimeoutException("test", CommandStatus.Unknown));
    }

    private sealed class RefusingBackgroundJobClient : IBackgroundJobClient
    {
        public TaskCompletionSource<Guid[]> Refused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Create(Job job, IState state)
        {
            Refused.TrySetResult(job.Args.OfType<Guid[]>().Single());
            throw new BackgroundJobClientException("Hangfire storage refused the job.", new RedisConnectionException(ConnectionFailureType.UnableToConnect, "test"));
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => false;
    }
}
