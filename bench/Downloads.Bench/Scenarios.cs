using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using StackExchange.Redis;

namespace Downloads.Bench;

/// <summary>The scenarios. Each is bounded in time and count, targets loopback only, and returns rows for the table.</summary>
public static class Scenarios
{
    /// <summary>
    /// 1. Initiate throughput and latency: closed loop, <paramref name="connections"/> connections each sending the next
    /// POST as soon as the last answered, for <paramref name="duration"/> after a warm-up. Targets are named; a target
    /// named <c>baseline</c> is the bare endpoint the others are compared with.
    /// </summary>
    public static async Task<List<ResultRow>> InitiateAsync(
        IReadOnlyList<(string Name, Uri Url)> targets, IReadOnlyList<int> connectionCounts, TimeSpan duration, TimeSpan warmup,
        int filesPerJob, CancellationToken cancellationToken)
    {
        var rows = new List<ResultRow>();
        foreach (var connections in connectionCounts)
        {
            double? bare = null;
            foreach (var (name, url) in targets)
            {
                Net.EnsureLoopback(url);
                var run = await ClosedLoopAsync(url, connections, duration, warmup, filesPerJob, cancellationToken);
                var rps = run.Ok / duration.TotalSeconds;
                if (name == "baseline")
                {
                    bare = rps;
                }

                var goal = name == "baseline" ? "" : connections <= 64 ? "≥ 1/4 bare, p99 ≤ 20 ms" : "≥ 1/4 bare, p99 ≤ 50 ms";
                var note = name != "baseline" && bare is { } b ? $"{rps / b:P1} of bare" : "";
                if (run.Errors > 0)
                {
                    note += $" {run.Errors} errors ({run.FirstError})";
                }

                rows.Add(new ResultRow("initiate", name, $"{connections} conn, {duration.TotalSeconds:0} s", run.Ok, rps,
                    run.Latencies.Percentile(50), run.Latencies.Percentile(99), goal, note.Trim())
                {
                    Extra = { ["errors"] = run.Errors, ["max_ms"] = run.Latencies.Percentile(100) ?? 0, ["ratio_to_bare"] = bare is { } r && name != "baseline" ? rps / r : 1 },
                });
            }
        }

        return rows;
    }

    private sealed record LoopRun(long Ok, long Errors, string? FirstError, Latencies Latencies);

    private static async Task<LoopRun> ClosedLoopAsync(
        Uri target, int connections, TimeSpan duration, TimeSpan warmup, int filesPerJob, CancellationToken cancellationToken)
    {
        using var net = new Net(sourceAddresses: 1 + (connections / 20_000), maxConnections: connections);
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { file_ids = ServiceClient.FileIds(filesPerJob) }));
        var url = new Uri(target, "/v1/download/initiate");
        var latencies = new Latencies();
        long ok = 0, errors = 0;
        string? firstError = null;
        var measuring = false;
        var stopwatch = Stopwatch.StartNew();
        var end = warmup + duration;
        var workers = Enumerable.Range(0, connections).Select(async _ =>
        {
            var local = new List<double>();
            while (stopwatch.Elapsed < end && !cancellationToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new("application/json");
                    using var response = await net.Http.PostAsync(url, content, cancellationToken);
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                    var stop = Stopwatch.GetTimestamp();
                    if (!Volatile.Read(ref measuring) || stopwatch.Elapsed > end)
                    {
                        continue;
                    }

                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        Interlocked.Increment(ref ok);
                        local.Add(Latencies.Ms(start, stop));
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), null);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    if (Volatile.Read(ref measuring))
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, ex.GetType().Name, null);
                    }
                }
            }

            latencies.AddRange(local);
        }).ToList();
        await Task.Delay(warmup, cancellationToken);
        Volatile.Write(ref measuring, true);
        await Task.WhenAll(workers);
        return new LoopRun(ok, errors, firstError, latencies);
    }

    /// <summary>
    /// 2. Initiate → first progress event: send the initiate, connect to the job's hub URL right after the answer
    /// (WebSockets, no negotiate), and time from the send to the first <c>update</c> of type <c>progress</c>. A job
    /// that moved before the connection subscribed shows it in its snapshot (seq &gt; 1): that counts as the first
    /// progress, at the snapshot's arrival, and is reported. With <paramref name="loadRps"/> &gt; 0, a paced stream
    /// of 1-file initiates runs alongside (the load), else the service is idle. Sampling stops at <paramref name="samples"/>
    /// or when <paramref name="budget"/> ran out (a sample waits at most 10 s for its event).
    /// </summary>
    public static async Task<List<ResultRow>> FirstProgressAsync(
        Uri api, int samples, int loadRps, TimeSpan budget, CancellationToken cancellationToken)
    {
        Net.EnsureLoopback(api);
        using var net = new Net(maxConnections: 256);
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var load = loadRps > 0 ? PacedInitiatesAsync(net.Http, api, loadRps, stopLoad.Token) : Task.FromResult<(long, long, Guid?)>((0, 0, null));
        if (loadRps > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }

        var latencies = new Latencies();
        var initiate = new Latencies();
        int viaSnapshot = 0, timeouts = 0, initiateErrors = 0;
        var sampling = Stopwatch.StartNew();
        // Sample -1 warms up (the JIT and first connections of both ends) and is not counted.
        double? warmUp = null;
        for (var i = -1; i < samples && sampling.Elapsed < budget; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            Guid jobId;
            try
            {
                jobId = await ServiceClient.InitiateAsync(net.Http, api, 1, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Refused or timed out (30 s): the sample failed; the others still count.
                initiateErrors++;
                continue;
            }

            if (i >= 0)
            {
                initiate.Add(Latencies.Ms(sent, Stopwatch.GetTimestamp()));
            }

            var first = new TaskCompletionSource<(long At, bool Snapshot)>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var hub = net.Hub(new Uri(api, $"/ws/download/{jobId:D}"));
            hub.On<JsonElement>("update", e =>
            {
                var type = e.GetProperty("type").GetString();
                if (type != "snapshot")
                {
                    first.TrySetResult((Stopwatch.GetTimestamp(), false));
                }
                else if (type == "snapshot" && e.GetProperty("seq").GetInt64() > 1)
                {
                    first.TrySetResult((Stopwatch.GetTimestamp(), true));
                }
            });
            await hub.StartAsync(cancellationToken);
            try
            {
                var (at, snapshot) = await first.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                if (i < 0)
                {
                    warmUp = Latencies.Ms(sent, at);
                    continue;
                }

                latencies.Add(Latencies.Ms(sent, at));
                viaSnapshot += snapshot ? 1 : 0;
            }
            catch (TimeoutException)
            {
                timeouts++;
            }

            await Task.Delay(20, cancellationToken);
        }

        await stopLoad.CancelAsync();
        var loadSeconds = sampling.Elapsed.TotalSeconds + (loadRps > 0 ? 2 : 0);
        var (loadOk, loadErrors, _) = await load;
        var setting = loadRps > 0 ? $"under {loadRps} 1-file initiates/s" : "idle";
        var note = $"initiate p50 {initiate.Percentile(50):0.0} ms; {viaSnapshot} seen in snapshot; warm-up sample (not counted) {warmUp:0} ms";
        if (timeouts > 0)
        {
            note += $"; {timeouts} timed out (10 s)";
        }

        if (initiateErrors > 0)
        {
            note += $"; {initiateErrors} initiates failed";
        }

        if (loadRps > 0)
        {
            note += $"; load: {loadOk} sent in {loadSeconds:0} s, {loadErrors} failed";
        }

        return
        [
            new ResultRow("first-progress", api.Authority, setting, latencies.Count, null, latencies.Percentile(50), latencies.Percentile(99), "", note)
            {
                Extra = { ["timeouts"] = timeouts, ["initiate_errors"] = initiateErrors, ["via_snapshot"] = viaSnapshot, ["load_sent"] = loadOk, ["initiate_p99_ms"] = initiate.Percentile(99) ?? 0 },
            },
        ];
    }

    /// <summary>1-file initiates at a fixed rate (open loop) until cancelled; returns sent, errors and the last job.</summary>
    private static async Task<(long Ok, long Errors, Guid? Last)> PacedInitiatesAsync(HttpClient http, Uri api, int rps, CancellationToken cancellationToken)
    {
        long ok = 0, errors = 0;
        Guid? last = null;
        var inFlight = new List<Task>();
        var stopwatch = Stopwatch.StartNew();
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var due = (long)(stopwatch.Elapsed.TotalSeconds * rps);
            for (; sent < due; sent++)
            {
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        last = await ServiceClient.InitiateAsync(http, api, 1, CancellationToken.None);
                        Interlocked.Increment(ref ok);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }, CancellationToken.None));
            }

            inFlight.RemoveAll(t => t.IsCompleted);
            try
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(inFlight);
        return (ok, errors, last);
    }

    /// <summary>
    /// 3. Worker → client latency through the Redis backplane. The bench subscribes to the service's Redis events
    /// channel (the commit script PUBLISHes each event there when it is recorded, before the worker sends it to the
    /// hub) and takes that arrival as the event's creation time; clients on two API nodes follow every job, and each
    /// <c>update</c> they receive is timed against it (one clock: the same process). Jobs are started at a pace
    /// that aims at <paramref name="eventsPerSecond"/> events (each file makes about 2).
    /// </summary>
    public static async Task<List<ResultRow>> BackplaneAsync(
        Uri api1, Uri api2, string redis, string keyPrefix, int jobs, int filesPerJob, int eventsPerSecond, CancellationToken cancellationToken)
    {
        Net.EnsureLoopback(api1);
        Net.EnsureLoopback(api2);
        using var net = new Net(maxConnections: 64);
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        var created = new ConcurrentDictionary<(Guid, long), long>();
        var queue = await mux.GetSubscriber().SubscribeAsync(RedisChannel.Literal(keyPrefix + "events"));
        queue.OnMessage(m =>
        {
            var at = Stopwatch.GetTimestamp();
            using var doc = JsonDocument.Parse((string)m.Message!);
            created.TryAdd((doc.RootElement.GetProperty("job_id").GetGuid(), doc.RootElement.GetProperty("seq").GetInt64()), at);
        });

        var received = new[] { new ConcurrentBag<(Guid, long, long)>(), new ConcurrentBag<(Guid, long, long)>() };
        var perNode = Math.Max(1, (int)Math.Ceiling(jobs / 50.0));
        var hubs = new List<HubConnection>();
        foreach (var (node, api) in new[] { (0, api1), (1, api2) })
        {
            for (var i = 0; i < perNode; i++)
            {
                var hub = net.Hub(new Uri(api, "/ws/download"));
                var bag = received[node];
                hub.On<JsonElement>("update", e =>
                {
                    var at = Stopwatch.GetTimestamp();
                    if (e.GetProperty("type").GetString() != "snapshot")
                    {
                        bag.Add((e.GetProperty("job_id").GetGuid(), e.GetProperty("seq").GetInt64(), at));
                    }
                });
                await hub.StartAsync(cancellationToken);
                hubs.Add(hub);
            }
        }

        // Start jobs paced for the wanted event rate; each is followed on both nodes right after its initiate.
        var jobIds = new ConcurrentBag<Guid>();
        var failedInitiates = 0;
        string? firstFailure = null;
        var jobsPerSecond = Math.Max(1.0, eventsPerSecond / (2.0 * filesPerJob + 2));
        var started = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var due = TimeSpan.FromSeconds(i / jobsPerSecond) - started.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct);
            }

            Guid jobId;
            try
            {
                jobId = await ServiceClient.InitiateAsync(net.Http, i % 2 == 0 ? api1 : api2, filesPerJob, ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // A refused initiate is reported; the events of the others still count.
                Interlocked.Increment(ref failedInitiates);
                Interlocked.CompareExchange(ref firstFailure, ex.Message[..Math.Min(ex.Message.Length, 80)], null);
                return;
            }

            jobIds.Add(jobId);
            await Task.WhenAll(
                hubs[i % perNode].InvokeAsync("Subscribe", jobId.ToString("D"), ct),
                hubs[perNode + (i % perNode)].InvokeAsync("Subscribe", jobId.ToString("D"), ct));
        });
        await ServiceClient.WaitEndedAsync(net.Http, api1, jobIds.ToList(), TimeSpan.FromSeconds(120), cancellationToken);
        var elapsed = started.Elapsed;
        await Task.Delay(500, cancellationToken);
        foreach (var hub in hubs)
        {
            await hub.DisposeAsync();
        }

        await queue.UnsubscribeAsync();
        var eventRate = created.Count / elapsed.TotalSeconds;
        var rows = new List<ResultRow>();
        foreach (var (node, api) in new[] { (0, api1), (1, api2) })
        {
            var latencies = new Latencies();
            var unmatched = 0;
            foreach (var (job, seq, at) in received[node])
            {
                if (created.TryGetValue((job, seq), out var c))
                {
                    latencies.Add(Latencies.Ms(c, at));
                }
                else
                {
                    unmatched++;
                }
            }

            rows.Add(new ResultRow("backplane", $"api node {node + 1} ({api.Authority})", $"{jobs} jobs × {filesPerJob} files",
                latencies.Count, eventRate, latencies.Percentile(50), latencies.Percentile(99), "~2,000 events/s",
                $"{eventRate:0} events/s recorded over {elapsed.TotalSeconds:0.0} s; {unmatched} unmatched"
                    + (failedInitiates > 0 ? $"; {failedInitiates} initiates failed ({firstFailure})" : ""))
            {
                Extra = { ["events_recorded"] = created.Count, ["max_ms"] = latencies.Percentile(100) ?? 0, ["initiate_errors"] = failedInitiates },
            });
        }

        return rows;
    }

    /// <summary>
    /// 4. WebSocket hub connections held by one API node, each subscribed to a job (its snapshot received), with the
    /// node's resident memory (VmRSS) before and after. Connections spread over several 127.0.0.x source addresses.
    /// Stops opening at <paramref name="count"/> or when <paramref name="budget"/> ran out.
    /// </summary>
    public static async Task<List<ResultRow>> ConnectionsAsync(
        Uri api, int apiPid, int count, int jobs, TimeSpan budget, CancellationToken cancellationToken)
    {
        Net.EnsureLoopback(api);
        using var net = new Net(sourceAddresses: 1 + (count / 20_000), maxConnections: 64);
        var jobIds = new List<Guid>();
        for (var i = 0; i < jobs; i++)
        {
            jobIds.Add(await ServiceClient.InitiateAsync(net.Http, api, 1, cancellationToken));
        }

        await Task.Delay(1000, cancellationToken);
        var before = RssKb(apiPid);
        var hubs = new ConcurrentBag<HubConnection>();
        var connectTimes = new Latencies();
        long failures = 0;
        string? firstFailure = null;
        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = deadline.Token }, async (i, ct) =>
            {
                var start = Stopwatch.GetTimestamp();
                var hub = net.Hub(new Uri(api, $"/ws/download/{jobIds[i % jobIds.Count]:D}"));
                var snapshot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var subscription = hub.On<JsonElement>("update", _ => snapshot.TrySetResult());
                try
                {
                    await hub.StartAsync(ct);
                    await snapshot.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
                    connectTimes.Add(Latencies.Ms(start, Stopwatch.GetTimestamp()));
                    hubs.Add(hub);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, ex.GetType().Name + ": " + ex.Message, null);
                    await hub.DisposeAsync();
                }
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The time budget ran out: report what was reached.
        }

        var opening = stopwatch.Elapsed;
        await Task.Delay(2000, cancellationToken);
        var held = hubs.Count(h => h.State == HubConnectionState.Connected);
        var after = RssKb(apiPid);
        var perConnectionKb = held > 0 ? (after - before) / (double)held : 0;
        foreach (var chunk in hubs.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(h => h.DisposeAsync().AsTask()));
        }

        var note = $"RSS {before / 1024.0:0} → {after / 1024.0:0} MB = {perConnectionKb:0.0} KB/conn; opened in {opening.TotalSeconds:0.0} s";
        if (failures > 0)
        {
            note += $"; {failures} failed ({firstFailure})";
        }

        return
        [
            new ResultRow("connections", api.Authority, $"asked {count}", held, held / opening.TotalSeconds, connectTimes.Percentile(50),
                connectTimes.Percentile(99), "50,000 at ≤ 40 KB each", note)
            {
                Extra = { ["rss_before_kb"] = before, ["rss_after_kb"] = after, ["kb_per_connection"] = perConnectionKb, ["failures"] = failures },
            },
        ];
    }

    private static long RssKb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// 5. Files per second end to end: start <paramref name="jobs"/> jobs of <paramref name="filesPerJob"/> files at
    /// once (16 concurrent initiates), and divide the files by the time from the first send to the last job's
    /// <c>completed_at</c>.
    /// </summary>
    public static Task<List<ResultRow>> FilesAsync(Uri api, int jobs, int filesPerJob, CancellationToken cancellationToken) =>
        EndToEndAsync("files", api, jobs, filesPerJob, callers: 16, cancellationToken);

    /// <summary>
    /// 7. Drain: <paramref name="jobs"/> one-file jobs initiated by <paramref name="callers"/> concurrent callers, measured
    /// until all have ended; files/s end to end (the issue's "2,000 one-file jobs from 32 callers").
    /// </summary>
    public static Task<List<ResultRow>> DrainAsync(Uri api, int jobs, int callers, CancellationToken cancellationToken) =>
        EndToEndAsync("drain", api, jobs, filesPerJob: 1, callers, cancellationToken);

    private static async Task<List<ResultRow>> EndToEndAsync(
        string scenario, Uri api, int jobs, int filesPerJob, int callers, CancellationToken cancellationToken)
    {
        Net.EnsureLoopback(api);
        using var net = new Net(maxConnections: Math.Max(64, callers));
        var start = DateTimeOffset.UtcNow;
        var jobIds = new ConcurrentQueue<Guid>();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = callers, CancellationToken = cancellationToken },
            async (_, ct) => jobIds.Enqueue(await ServiceClient.InitiateAsync(net.Http, api, filesPerJob, ct)));
        var initiated = DateTimeOffset.UtcNow - start;
        // Polling every job while they run would load the service being measured: follow the last one accepted
        // (jobs run roughly in order), then sweep them all. The figure uses the service's completed_at, not the poll.
        await ServiceClient.WaitEndedAsync(net.Http, api, jobIds.TakeLast(1).ToList(), TimeSpan.FromSeconds(300), cancellationToken, pollMs: 100);
        var statuses = await ServiceClient.WaitEndedAsync(net.Http, api, jobIds.ToList(), TimeSpan.FromSeconds(300), cancellationToken, pollMs: 500);
        var ended = statuses.Values.Where(s => s.Ended).ToList();
        var files = ended.Sum(s => s.Completed + s.Failed);
        var last = ended.Count > 0 ? ended.Max(s => s.CompletedAt ?? DateTimeOffset.UtcNow) : DateTimeOffset.UtcNow;
        var seconds = (last - start).TotalSeconds;
        var note = $"{ended.Count}/{jobs} jobs ended in {seconds:0.00} s (initiates took {initiated.TotalSeconds:0.00} s)";
        var failed = ended.Sum(s => s.Failed);
        if (failed > 0)
        {
            note += $"; {failed} files failed";
        }

        return
        [
            new ResultRow(scenario, api.Authority, $"{jobs} jobs × {filesPerJob} files, {callers} callers", files, files / seconds, null, null, "≥ 4,500 files/s", note)
            {
                Extra = { ["seconds"] = seconds, ["jobs_ended"] = ended.Count, ["initiate_seconds"] = initiated.TotalSeconds },
            },
        ];
    }

    /// <summary>
    /// 6. Fairness: time for a 1-file job to complete (send → <c>completed_at</c>), first on an idle service, then
    /// while a <paramref name="bigFiles"/>-file job runs.
    /// </summary>
    public static async Task<List<ResultRow>> FairnessAsync(Uri api, int bigFiles, int samples, CancellationToken cancellationToken)
    {
        Net.EnsureLoopback(api);
        using var net = new Net(maxConnections: 16);
        var idle = await SmallJobsAsync(net.Http, api, samples, cancellationToken);
        var bigStart = DateTimeOffset.UtcNow;
        var big = await ServiceClient.InitiateAsync(net.Http, api, bigFiles, cancellationToken);
        await Task.Delay(200, cancellationToken);
        var during = await SmallJobsAsync(net.Http, api, samples, cancellationToken);
        var bigStatus = await ServiceClient.StatusAsync(net.Http, api, big, cancellationToken);
        var wasRunning = !bigStatus.Ended;
        var final = (await ServiceClient.WaitEndedAsync(net.Http, api, [big], TimeSpan.FromSeconds(300), cancellationToken, pollMs: 200))[big];
        var bigSeconds = ((final.CompletedAt ?? DateTimeOffset.UtcNow) - bigStart).TotalSeconds;
        var bigEnded = final.Completed + final.Failed;
        return
        [
            new ResultRow("fairness", api.Authority, "1-file job, idle", idle.Count, null, idle.Percentile(50), idle.Percentile(99), "", ""),
            new ResultRow("fairness", api.Authority, $"1-file job during a {bigFiles}-file job", during.Count, null, during.Percentile(50), during.Percentile(99),
                "close to idle", $"big job {(wasRunning ? "still running after the samples" : "ENDED before the samples did")}, took {bigSeconds:0.0} s ({bigEnded} files)")
            {
                Extra = { ["big_job_seconds"] = bigSeconds },
            },
            // The issue's "one 1000-file job, zero delay" row: send → completed_at (the 1-file samples ran beside it).
            new ResultRow("big-job", api.Authority, $"one {bigFiles}-file job", bigEnded, bigEnded / bigSeconds, null, null,
                "≤ 1 s of overhead", $"took {bigSeconds:0.00} s, {final.State}")
            {
                Extra = { ["seconds"] = bigSeconds },
            },
        ];
    }

    private static async Task<Latencies> SmallJobsAsync(HttpClient http, Uri api, int samples, CancellationToken cancellationToken)
    {
        var latencies = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            var sent = DateTimeOffset.UtcNow;
            var job = await ServiceClient.InitiateAsync(http, api, 1, cancellationToken);
            var status = (await ServiceClient.WaitEndedAsync(http, api, [job], TimeSpan.FromSeconds(60), cancellationToken, pollMs: 20))[job];
            if (status.CompletedAt is { } done)
            {
                latencies.Add((done - sent).TotalMilliseconds);
            }
        }

        return latencies;
    }
}
