using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Downloads.Tests.Jobs;

/// <summary>In memory, an idempotency key is forgotten once its lifetime is over, even if it is never used again.</summary>
public sealed class InMemoryIdempotencyKeyTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Keys_whose_lifetime_is_over_are_swept_out()
    {
        var store = new InMemoryJobStore(_time, Options.Create(new RetentionOptions()));
        await BindAsync(store, "used-once");
        _time.Advance(Lifetime - TimeSpan.FromHours(1));
        await BindAsync(store, "recent");

        _time.Advance(TimeSpan.FromHours(2));
        await BindAsync(store, "new");

        store.IdempotencyKeyCount.Should().Be(2, "\"used-once\" expired an hour ago; \"recent\" and \"new\" live on");
    }

    [Fact]
    public async Task A_key_within_its_lifetime_still_returns_its_job()
    {
        var store = new InMemoryJobStore(_time, Options.Create(new RetentionOptions()));
        var first = await BindAsync(store, "key");
        _time.Advance(Lifetime - TimeSpan.FromMinutes(1));

        var again = await BindAsync(store, "key");

        again.JobId.Should().Be(first.JobId);
    }

    private static Task<IdempotencyBinding> BindAsync(InMemoryJobStore store, string key) =>
        store.BindIdempotencyKeyAsync(new IdempotencyBinding(key, "fingerprint", Guid.NewGuid(), 1), Lifetime, CancellationToken.None);
}
