namespace Downloads.Jobs;

/// <summary>
/// When an in-memory store sweeps out what has expired: at most once per interval, by one caller at a time, on the
/// store's own writes (a sweep walks every entry, so not on each one).
/// </summary>
internal sealed class SweepSchedule(TimeSpan interval)
{
    private long _nextTicks;

    /// <summary>True for the one caller that should sweep now.</summary>
    public bool TryStart(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextTicks);
        return now.UtcTicks >= next && Interlocked.CompareExchange(ref _nextTicks, (now + interval).UtcTicks, next) == next;
    }
}
