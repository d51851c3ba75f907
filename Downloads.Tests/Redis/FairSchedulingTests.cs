using System.Diagnostics;
using System.Net.Http.Headers;
using Downloads.Contracts;
using Downloads.Tests.Access;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Redis;

/// <summary>
/// Runs take files round-robin across clients, then across each client's jobs: a client with one small job waits for
/// a free slot, not behind another client's thousands of files.
/// </summary>
public sealed class FairSchedulingTests
{
    private const int BusyJobs = 20;
    private const int FilesPerBusyJob = 1000;

    // Issue 12's bound for client B's 1-file job while client A keeps every worker busy.
    private static readonly TimeSpan FairShareBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_one_file_job_of_one_client_completes_within_seconds_while_another_client_has_20_jobs_of_1000_files_running()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            .With("Downloads:Auth:ApiKeys:a:KeySha256", AccessTestApps.Sha256(AccessTestApps.KeyA))
            .With("Downloads:Auth:ApiKeys:a:WebhookSecret", AccessTestApps.SecretA)
            .With("Downloads:Auth:ApiKeys:b:KeySha256", AccessTestApps.Sha256(AccessTestApps.KeyB))
            .With("Downloads:Auth:ApiKeys:b:WebhookSecret", AccessTestApps.SecretB)
            // Client A's 20,000 files are beyond the default file limit, which is not what this test is about.
            .With("Downloads:RateLimiting:MaxActiveFilesPerClient", "0")
            .With("Downloads:Processing:WorkerCount", "2")
            .With("Downloads:Processing:DelayMinMs", "20")
            .With("Downloads:Processing:DelayMaxMs", "50")
            .With("Downloads:Storage:SyntheticSizeBytes", "1024");
        var node = deployment.Node("all");
        var a = Client(node, AccessTestApps.KeyA);
        var b = Client(node, AccessTestApps.KeyB);
        var busyFiles = Enumerable.Range(0, FilesPerBusyJob).Select(i => 70000L + (7 * i)).ToArray();
        var busy = new List<Guid>();
        for (var i = 0; i < BusyJobs; i++)
        {
            busy.Add((await a.InitiateAsync(busyFiles)).JobId);
        }

        await a.WaitForAsync(busy[^1], s => s.Progress.Completed > 0);
        var sinceInitiate = Stopwatch.StartNew();
        var small = await b.InitiateAsync([70000]);
        var ended = await b.WaitForEndAsync(small.JobId, FairShareBound + TimeSpan.FromSeconds(30));
        var waited = sinceInitiate.Elapsed;
        var stillRunning = await Task.WhenAll(busy.Select(a.StatusAsync));

        ended.Status.Should().Be(JobStatus.Completed);
        waited.Should().BeLessThan(FairShareBound);
        stillRunning.Should().Contain(s => !s.Status.IsTerminal(), "client A's work was still going on: B did not just wait for it to end");
    }

    private static DownloadsApi Client(DownloadsApplication node, string key)
    {
        var http = node.CreateApiClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new DownloadsApi(http);
    }
}
