using Downloads.Contracts;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Webhooks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>The rules every delivery store applies atomically; each store runs them all.</summary>
public abstract class WebhookDeliveryStoreContract
{
    private readonly Guid _job = Guid.NewGuid();
    private readonly CancellationToken _ct = CancellationToken.None;
    private IWebhookDeliveryStore? _current;

    private IWebhookDeliveryStore Store => _current ??= CreateStore();

    protected abstract IWebhookDeliveryStore CreateStore();

    [SkippableFact]
    public async Task A_duplicate_run_of_the_same_attempt_sends_nothing()
    {
        (await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct)).Should().NotBeNull();

        (await Store.TryStartAttemptAsync(_job, 1, "run-b", _ct)).Should().BeNull();
    }

    [SkippableFact]
    public async Task A_rerun_of_the_same_hangfire_job_after_a_crash_attempts_again()
    {
        await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct);

        var retaken = await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct);

        retaken!.Attempts.Should().Be(2);
        (await Store.TryStartAttemptAsync(_job, 2, "run-b", _ct)).Should().BeNull("the re-run carries the delivery on");
    }

    [SkippableFact]
    public async Task Once_delivered_nothing_starts_and_nothing_overwrites_it()
    {
        await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        (await Store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 200, _ct)).Should().BeTrue();

        (await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct)).Should().BeNull();
        (await Store.TryStartAttemptAsync(_job, 2, "run-b", _ct)).Should().BeNull();
        (await Store.TryRecordAsync(_job, 1, WebhookStatus.Failed, 500, _ct)).Should().BeFalse();
        (await Store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 204, _ct)).Should().BeFalse();
        (await Store.GetAsync(_job, _ct)).Should().Be(new WebhookDelivery(_job, WebhookStatus.Delivered, 1, 200, "run-a"));
        (await Store.GetAsync(Guid.NewGuid(), _ct)).Should().BeNull();
    }

    [SkippableFact]
    public async Task A_stale_outcome_does_not_overwrite_a_later_attempt_but_a_2xx_always_counts()
    {
        await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        await Store.TryStartAttemptAsync(_job, 2, "run-b", _ct);

        (await Store.TryRecordAsync(_job, 1, WebhookStatus.Pending, 500, _ct)).Should().BeFalse();
        (await Store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 200, _ct)).Should().BeTrue();
    }

    [SkippableFact]
    public async Task The_next_scheduled_attempt_starts_after_a_recorded_retry()
    {
        await Store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        await Store.TryRecordAsync(_job, 1, WebhookStatus.Pending, 503, _ct);

        var next = await Store.TryStartAttemptAsync(_job, 2, "run-b", _ct);

        next.Should().Be(new WebhookDelivery(_job, WebhookStatus.Pending, 2, 503, "run-b"));
    }
}

public sealed class InMemoryWebhookDeliveryStoreTests : WebhookDeliveryStoreContract
{
    // The retention of ended jobs, which delivery states share.
    private static readonly RetentionOptions Retention = new() { EndedJobs = TimeSpan.FromHours(6) };

    private readonly FakeTimeProvider _time = new();

    protected override IWebhookDeliveryStore CreateStore() => new InMemoryWebhookDeliveryStore(_time, Options.Create(Retention));

    [Fact]
    public async Task A_delivery_state_is_forgotten_once_the_retention_has_passed_since_its_last_change()
    {
        var store = new InMemoryWebhookDeliveryStore(_time, Options.Create(Retention));
        var (old, recent) = (Guid.NewGuid(), Guid.NewGuid());
        await store.TryStartAttemptAsync(old, 1, "run-1", CancellationToken.None);
        await store.TryRecordAsync(old, 1, WebhookStatus.Delivered, 200, CancellationToken.None);
        _time.Advance(Retention.Ended - TimeSpan.FromHours(1));
        await store.TryStartAttemptAsync(recent, 1, "run-2", CancellationToken.None);

        _time.Advance(TimeSpan.FromHours(2));
        await store.TryStartAttemptAsync(Guid.NewGuid(), 1, "run-3", CancellationToken.None);

        (await store.GetAsync(old, CancellationToken.None)).Should().BeNull();
        (await store.GetAsync(recent, CancellationToken.None)).Should().NotBeNull("its last change is within the retention");
        store.Count.Should().Be(2);
    }
}

public sealed class RedisWebhookDeliveryStoreTests(RedisWebhookDeliveryStoreTests.LocalRedis redis)
    : WebhookDeliveryStoreContract, IClassFixture<RedisWebhookDeliveryStoreTests.LocalRedis>
{
    protected override IWebhookDeliveryStore CreateStore()
    {
        Skip.If(redis.Connection is null, "redis-server is not installed on this machine");
        return new RedisWebhookDeliveryStore(redis.Connection, $"test:{Guid.NewGuid():N}:", TimeSpan.FromHours(6));
    }

    [SkippableFact]
    public async Task A_delivery_state_expires_the_retention_of_ended_jobs_after_its_last_change()
    {
        Skip.If(redis.Connection is null, "redis-server is not installed on this machine");
        var prefix = $"test:{Guid.NewGuid():N}:";
        var store = new RedisWebhookDeliveryStore(redis.Connection, prefix, TimeSpan.FromHours(6));
        var job = Guid.NewGuid();

        await store.TryStartAttemptAsync(job, 1, "run-1", CancellationToken.None);

        var ttl = await redis.Connection.GetDatabase().KeyTimeToLiveAsync($"{prefix}webhook:{{{job:D}}}");
        ttl.Should().BeCloseTo(TimeSpan.FromHours(6), TimeSpan.FromMinutes(1));
    }

    /// <summary>A throwaway redis-server on a free loopback port, when the machine has one.</summary>
    public sealed class LocalRedis : IAsyncLifetime
    {
        private Process? _server;

        public IConnectionMultiplexer? Connection { get; private set; }

        public async Task InitializeAsync()
        {
            if (!File.Exists("/usr/bin/redis-server"))
            {
                return;
            }

            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _server = Process.Start(new ProcessStartInfo(
                "/usr/bin/redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true,
            });
            var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
            options.AbortOnConnectFail = false;
            Connection = await ConnectionMultiplexer.ConnectAsync(options).DefaultTimeout();
            await Connection.GetDatabase().PingAsync().DefaultTimeout();
        }

        public async Task DisposeAsync()
        {
            if (Connection is not null)
            {
                await Connection.DisposeAsync();
            }

            if (_server is not null)
            {
                _server.Kill();
                await _server.WaitForExitAsync().DefaultTimeout();
                _server.Dispose();
            }
        }
    }
}
