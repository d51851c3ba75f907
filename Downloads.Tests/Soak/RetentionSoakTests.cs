using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Downloads.Tests.Soak;

/// <summary>
/// Thousands of jobs through a real process with a retention of seconds: what the service holds returns to where it
/// was once the jobs have expired. In memory, the resident memory stays flat; in Redis, the key count returns to its
/// baseline. Each job carries an <c>Idempotency-Key</c>, so keys are soaked too. To see them fail, run them with
/// <c>DOWNLOADS_SOAK_RETENTION=1.00:00:00</c>: the service then keeps what it served.
/// </summary>
public sealed class RetentionSoakTests(ITestOutputHelper output)
{
    private const int JobsPerRound = 1000;
    private static readonly TimeSpan Retention = TimeSpan.FromSeconds(2);
    private static readonly string RetentionSetting = Environment.GetEnvironmentVariable("DOWNLOADS_SOAK_RETENTION") ?? Retention.ToString("c", CultureInfo.InvariantCulture);

    // Five existing files a job, each prepared, with its download link and its events.
    private static readonly long[] FiveFiles = [.. Enumerable.Range(0, 5).Select(i => 70000L + (7 * i))];

    // And, each round, fifty jobs of 1000 files cancelled at once (or ended, if quicker): heavy records (every file, and the cancel's
    // results) at little processing, so that retained jobs would show plainly above the noise of the GC.
    private const int HeavyJobsPerRound = 50;
    private static readonly long[] ThousandFiles = [.. Enumerable.Range(0, 1000).Select(i => 10000L + i)];

    [Fact]
    public async Task Memory_of_an_in_memory_node_stays_flat_over_5250_jobs()
    {
        var (process, http) = Start(new Dictionary<string, string?>
        {
            // Workstation GC: after a full collection the heap is what is live, not the server GC's per-core budgets
            // (what is measured is retention, not GC tuning).
            ["DOTNET_gcServer"] = "0",
        });
        await using (process)
        using (http)
        {
            await process.WaitUntilHealthyAsync(http);
            var rss = new List<long>();
            for (var round = 0; round < 5; round++)
            {
                await CancelledHeavyJobsAsync(http);
                await SoakRoundAsync(http, round, FiveFiles);
                await SweepAsync(http);
                rss.Add(await ProcessMemory.ResidentAfterFullGcAsync(process.Id));
                output.WriteLine($"after {(round + 1) * (JobsPerRound + HeavyJobsPerRound)} jobs: RSS {rss[^1] >> 20} MB");
            }

            // The first round warms up (JIT and tiering, pools, Kestrel, Hangfire). After it, a single reading may
            // jump by up to ~20 MB (the GC keeps freed regions for a while) and fall back at the next; kept jobs grow
            // the process by 25 MB a round and never fall back (and reach the file cap in the fourth). So the lower of
            // the last two readings is compared; forgotten jobs measured here settle 10-20 MB above the first round.
            var settled = Math.Min(rss[^1], rss[^2]);
            (settled - rss[0]).Should().BeLessThan(40L << 20, $"memory should stay flat once jobs expire; RSS by round: {string.Join(", ", rss.Select(r => r >> 20))} MB");
            // An absolute bound on every reading as well: a node that has served these jobs and forgotten them stays
            // near its warm footprint (140-180 MB measured here, workstation GC); 250 MB leaves room for other machines.
            rss.Max().Should().BeLessThan(250L << 20);
        }
    }

    [Fact]
    public async Task Keys_of_a_redis_node_return_to_their_baseline_after_1000_jobs()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var prefix = RedisServer.NewKeyPrefix();
        var (process, http) = Start(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Downloads:Redis:KeyPrefix"] = prefix,
        });
        await using (process)
        using (http)
        {
            await process.WaitUntilHealthyAsync(http);
            // The baseline: a node that has run a job and forgotten it (Hangfire's servers, queues and counters).
            await SweepAsync(http);
            var baseline = await SettledKeyCountAsync(server, Retention * 2);
            output.WriteLine($"baseline: {baseline} keys");

            // A thousand one-file jobs (Redis mode is the slower path; the count of keys needs no more): each leaves
            // three keys or more while kept (hash, event log, idempotency key, and Hangfire's run records).
            await SoakRoundAsync(http, 0, [70000]);

            var after = await SettledKeyCountAsync(server, Retention * 2);
            output.WriteLine($"after {JobsPerRound} jobs and their retention: {after} keys");
            if (after > baseline)
            {
                // Which keys stayed is the first thing to know when this fails.
                await foreach (var key in server.KeysAsync(pattern: $"{prefix}*"))
                {
                    output.WriteLine($"  {key} (ttl {await admin.GetDatabase().KeyTimeToLiveAsync(key)})");
                }
            }

            after.Should().BeLessThanOrEqualTo(baseline, "every key of a job (hash, event log, idempotency key, Hangfire's run) expires with it");
            (await CountAsync(server, $"{prefix}job:*")).Should().Be(0);
            (await CountAsync(server, $"{prefix}idempotency:*")).Should().Be(0);
        }
    }

    private static (ServiceProcess Process, HttpClient Http) Start(Dictionary<string, string?> extra)
    {
        var address = $"http://127.0.0.1:{LoopbackServers.FreePort()}";
        var settings = new Dictionary<string, string?>(DownloadsApplication.Defaults)
        {
            ["ASPNETCORE_URLS"] = address,
            ["Downloads:Processing:DelayMinMs"] = "0",
            ["Downloads:Processing:DelayMaxMs"] = "0",
            ["Downloads:Storage:SyntheticSizeBytes"] = "1024",
            ["Downloads:Retention:EndedJobs"] = RetentionSetting,
            ["Downloads:RateLimiting:InitiatePerMinute"] = "0",
            ["Downloads:RateLimiting:MaxActiveJobsPerClient"] = "0",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return (ServiceProcess.Start(settings), new HttpClient { BaseAddress = new Uri(address) });
    }

    private static async Task CancelledHeavyJobsAsync(HttpClient http)
    {
        var api = new DownloadsApi(http);
        await Parallel.ForAsync(0, HeavyJobsPerRound, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
        {
            var job = await api.InitiateAsync(ThousandFiles);
            using var cancel = await http.DeleteAsync($"/v1/download/{job.JobId}", ct);
            // 409: it ended first (its files are missing, zero delay); it is as heavy a record either way.
            cancel.StatusCode.Should().BeOneOf(HttpStatusCode.Accepted, HttpStatusCode.Conflict);
        });
    }

    // A thousand jobs from 16 callers, then until each has ended (or already expired: 404).
    private static async Task SoakRoundAsync(HttpClient http, int round, long[] fileIds)
    {
        var jobs = new Guid[JobsPerRound];
        await Parallel.ForAsync(0, JobsPerRound, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate") { Content = JsonContent.Create(new { file_ids = fileIds }) };
            request.Headers.Add("Idempotency-Key", $"soak-{round}-{i}");
            using var response = await http.SendAsync(request, ct).DefaultTimeout();
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(ct));
            jobs[i] = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json, ct))!.JobId;
        });

        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (jobId, ct) =>
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (!await HasEndedAsync(http, jobId, deadline.Token))
            {
                await Task.Delay(50, deadline.Token);
            }
        });
    }

    private static async Task<bool> HasEndedAsync(HttpClient http, Guid jobId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/v1/download/status/{jobId}", cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound
            || (await response.Content.ReadFromJsonAsync<JobStatusDocument>(DownloadsApi.Json, cancellationToken))!.Status.IsTerminal();
    }

    // Once the retention has passed, a write sweeps what expired: one more job, run to its end.
    private static async Task SweepAsync(HttpClient http)
    {
        await Task.Delay(Retention + TimeSpan.FromMilliseconds(500));
        var api = new DownloadsApi(http);
        var job = await api.InitiateAsync([70000]);
        await api.WaitForEndAsync(job.JobId);
    }

    // Redis expires keys lazily and by sampling: wait until the count stops falling for a while.
    private static async Task<long> SettledKeyCountAsync(IServer server, TimeSpan quiet)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var last = await server.DatabaseSizeAsync();
        var stable = System.Diagnostics.Stopwatch.StartNew();
        while (stable.Elapsed < quiet)
        {
            await Task.Delay(250, deadline.Token);
            var now = await server.DatabaseSizeAsync();
            if (now != last)
            {
                last = now;
                stable.Restart();
            }
        }

        return last;
    }

    private static async Task<int> CountAsync(IServer server, string pattern)
    {
        var count = 0;
        await foreach (var _ in server.KeysAsync(pattern: pattern))
        {
            count++;
        }

        return count;
    }
}
