using Downloads.Contracts;
using Downloads.Jobs.Webhooks;

namespace Downloads.Tests.Webhooks;

/// <summary>The rules every delivery store applies atomically.</summary>
public sealed class WebhookDeliveryStoreTests
{
    private readonly InMemoryWebhookDeliveryStore _store = new();
    private readonly Guid _job = Guid.NewGuid();
    private readonly CancellationToken _ct = CancellationToken.None;

    [Fact]
    public async Task A_duplicate_run_of_the_same_attempt_sends_nothing()
    {
        (await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct)).Should().NotBeNull();

        (await _store.TryStartAttemptAsync(_job, 1, "run-b", _ct)).Should().BeNull();
    }

    [Fact]
    public async Task A_rerun_of_the_same_hangfire_job_after_a_crash_attempts_again()
    {
        await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct);

        var retaken = await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct);

        retaken!.Attempts.Should().Be(2);
        (await _store.TryStartAttemptAsync(_job, 2, "run-b", _ct)).Should().BeNull("the re-run carries the delivery on");
    }

    [Fact]
    public async Task Once_delivered_nothing_starts_and_nothing_overwrites_it()
    {
        await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        (await _store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 200, _ct)).Should().BeTrue();

        (await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct)).Should().BeNull();
        (await _store.TryStartAttemptAsync(_job, 2, "run-b", _ct)).Should().BeNull();
        (await _store.TryRecordAsync(_job, 1, WebhookStatus.Failed, 500, _ct)).Should().BeFalse();
        (await _store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 204, _ct)).Should().BeFalse();
        (await _store.GetAsync(_job, _ct)).Should().Be(new WebhookDelivery(_job, WebhookStatus.Delivered, 1, 200, "run-a"));
    }

    [Fact]
    public async Task A_stale_outcome_does_not_overwrite_a_later_attempt_but_a_2xx_always_counts()
    {
        await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        await _store.TryStartAttemptAsync(_job, 2, "run-b", _ct);

        (await _store.TryRecordAsync(_job, 1, WebhookStatus.Pending, 500, _ct)).Should().BeFalse();
        (await _store.TryRecordAsync(_job, 1, WebhookStatus.Delivered, 200, _ct)).Should().BeTrue();
    }

    [Fact]
    public async Task The_next_scheduled_attempt_starts_after_a_recorded_retry()
    {
        await _store.TryStartAttemptAsync(_job, 1, "run-a", _ct);
        await _store.TryRecordAsync(_job, 1, WebhookStatus.Pending, 503, _ct);

        var next = await _store.TryStartAttemptAsync(_job, 2, "run-b", _ct);

        next.Should().Be(new WebhookDelivery(_job, WebhookStatus.Pending, 2, 503, "run-b"));
    }
}
