using System.Globalization;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using StackExchange.Redis;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Delivery states in Redis, shared by every node: one hash per job (<c>{prefix}webhook:{job id}</c>), changed only by
/// two scripts that apply the rules of <see cref="WebhookDelivery.StartAttempt"/> and <see cref="WebhookDelivery.Record"/>
/// in one atomic step. Each expires <paramref name="retention"/> (<see cref="RetentionOptions.Ended"/>) after its last
/// change: a delivery starts when its job ended, so it outlives its job, and a job is never seen without its delivery.
/// </summary>
public sealed class RedisWebhookDeliveryStore(IConnectionMultiplexer redis, string keyPrefix, TimeSpan retention) : IWebhookDeliveryStore
{
    // KEYS[1] hash; ARGV attempt, owner, ttl seconds. Returns {attempts, last status code or ""} or nil.
    private const string StartAttemptScript = """
        local status = redis.call('HGET', KEYS[1], 'status') or 'pending'
        local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
        local owner = redis.call('HGET', KEYS[1], 'owner')
        if status ~= 'pending' or (attempts ~= tonumber(ARGV[1]) - 1 and owner ~= ARGV[2]) then
          return nil
        end
        redis.call('HSET', KEYS[1], 'status', 'pending', 'attempts', attempts + 1, 'owner', ARGV[2])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return { attempts + 1, redis.call('HGET', KEYS[1], 'last') or '' }
        """;

    // KEYS[1] hash; ARGV attempt, status, last status code or "", ttl seconds. Returns 1 when recorded.
    private const string RecordScript = """
        local status = redis.call('HGET', KEYS[1], 'status') or 'pending'
        local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
        if status ~= 'pending' or (ARGV[2] ~= 'delivered' and attempts ~= tonumber(ARGV[1])) then
          return 0
        end
        redis.call('HSET', KEYS[1], 'status', ARGV[2], 'last', ARGV[3])
        redis.call('EXPIRE', KEYS[1], ARGV[4])
        return 1
        """;

    private readonly string _retentionSeconds = ((long)Math.Max(1, Math.Ceiling(retention.TotalSeconds))).ToString(CultureInfo.InvariantCulture);

    public async Task<WebhookDelivery?> GetAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var fields = (await Database.HashGetAllAsync(Key(jobId))).ToDictionary(e => e.Name.ToString(), e => e.Value);
        return fields.Count == 0
            ? null
            : new WebhookDelivery(
                jobId,
                ParseStatus(fields.GetValueOrDefault("status")),
                (int)fields.GetValueOrDefault("attempts", 0),
                ParseCode(fields.GetValueOrDefault("last")),
                fields.TryGetValue("owner", out var owner) ? owner.ToString() : null);
    }

    public async Task<WebhookDelivery?> TryStartAttemptAsync(Guid jobId, int attempt, string owner, CancellationToken cancellationToken)
    {
        var result = await Database.ScriptEvaluateAsync(
            StartAttemptScript, [Key(jobId)], [attempt, owner, _retentionSeconds]);
        if (result.IsNull)
        {
            return null;
        }

        var values = (RedisResult[])result!;
        return new WebhookDelivery(jobId, WebhookStatus.Pending, (int)values[0], ParseCode((RedisValue)values[1]), owner);
    }

    public async Task<bool> TryRecordAsync(Guid jobId, int attempt, WebhookStatus status, int? statusCode, CancellationToken cancellationToken)
    {
        var result = await Database.ScriptEvaluateAsync(
            RecordScript,
            [Key(jobId)],
            [attempt, StatusName(status), statusCode?.ToString(CultureInfo.InvariantCulture) ?? "", _retentionSeconds]);
        return (int)result == 1;
    }

    private IDatabase Database => redis.GetDatabase();

    private RedisKey Key(Guid jobId) => $"{keyPrefix}webhook:{{{jobId:D}}}";

    private static string StatusName(WebhookStatus status) => status.ToString().ToLowerInvariant();

    private static WebhookStatus ParseStatus(RedisValue value) =>
        Enum.TryParse<WebhookStatus>(value.ToString(), ignoreCase: true, out var status) ? status : WebhookStatus.Pending;

    private static int? ParseCode(RedisValue value) =>
        int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
}
