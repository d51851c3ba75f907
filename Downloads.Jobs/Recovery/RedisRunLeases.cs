using Downloads.Jobs.Ledger;
using Downloads.Jobs.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Downloads.Jobs.Ledger.RedisCalls;

namespace Downloads.Jobs.Recovery;

/// <summary>
/// Leases in Redis, shared by every node: a sorted set of owners by expiry, and a set of job ids per owner. A renewal
/// is one pipelined round trip; the jobs' set outlives its lease (a day) so that a sweeper that comes late still finds it.
/// </summary>
public sealed class RedisRunLeases(IConnectionMultiplexer redis, IOptions<RedisOptions> options) : IRunLeases
{
    private static readonly TimeSpan JobsKeptFor = TimeSpan.FromDays(1);

    // KEYS: the sweep's lock. ARGV: sweeper, hold in ms. Taken when free, extended when already the caller's.
    private const string LeadSweepScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    private readonly string _prefix = options.Value.KeyPrefix;

    private IDatabase Db => redis.GetDatabase();

    private RedisKey LeasesKey => $"{_prefix}runs";

    private RedisKey SweepKey => $"{_prefix}runs:sweeper";

    public Task RenewAsync(string owner, IReadOnlyCollection<Guid> jobIds, DateTimeOffset until, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var batch = Db.CreateBatch();
        List<Task> writes = [batch.SortedSetAddAsync(LeasesKey, owner, until.ToUnixTimeMilliseconds())];
        if (jobIds.Count > 0)
        {
            writes.Add(batch.SetAddAsync(JobsKey(owner), [.. jobIds.Select(id => (RedisValue)id.ToString("D"))]));
            writes.Add(batch.KeyExpireAsync(JobsKey(owner), JobsKeptFor));
        }

        batch.Execute();
        await Task.WhenAll(writes);
        return true;
    }, cancellationToken);

    public Task EndAsync(string owner, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var batch = Db.CreateBatch();
        var removed = batch.SortedSetRemoveAsync(LeasesKey, owner);
        var deleted = batch.KeyDeleteAsync(JobsKey(owner));
        batch.Execute();
        await Task.WhenAll(removed, deleted);
        return true;
    }, cancellationToken);

    public Task<IReadOnlyList<ExpiredLease>> ExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var owners = await Db.SortedSetRangeByScoreAsync(LeasesKey, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: max);
        var leases = await Task.WhenAll(owners.Select(async owner => new ExpiredLease(
            owner!, [.. (await Db.SetMembersAsync(JobsKey(owner!))).Select(id => Guid.Parse((string)id!))])));
        return (IReadOnlyList<ExpiredLease>)leases;
    }, cancellationToken);

    public Task<bool> AnyAliveAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        GuardAsync(async () => await Db.SortedSetLengthAsync(LeasesKey, now.ToUnixTimeMilliseconds(), double.PositiveInfinity, Exclude.Start) > 0, cancellationToken);

    public Task<bool> TryLeadSweepAsync(string sweeper, TimeSpan hold, CancellationToken cancellationToken) => GuardAsync(async () =>
        (int)await Db.ScriptEvaluateAsync(LeadSweepScript, [SweepKey], [sweeper, (long)hold.TotalMilliseconds]) == 1, cancellationToken);

    private RedisKey JobsKey(string owner) => $"{_prefix}runs:{owner}:jobs";
}
