namespace Downloads.Jobs;

/// <summary>
/// When the entries of an in-memory store expire, in the order their expiry was set. Entries of one kind live
/// equally long, so that order is also the order they expire in: a sweep takes what is due from the front and stops
/// at the first that is not, costing O(expired), never a walk of the store. An entry whose expiry moved is queued
/// again; the store checks an entry's own expiry before it forgets it, so the stale item is merely skipped.
/// </summary>
internal sealed class ExpiryQueue<TKey>
{
    private readonly Lock _gate = new();
    private readonly Queue<(TKey Key, DateTimeOffset At)> _queue = new();

    /// <summary>Items queued, stale ones included.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>When the first item is due; null when none is queued.</summary>
    public DateTimeOffset? NextAt
    {
        get
        {
            lock (_gate)
            {
                return _queue.TryPeek(out var next) ? next.At : null;
            }
        }
    }

    public void Add(TKey key, DateTimeOffset at)
    {
        lock (_gate)
        {
            _queue.Enqueue((key, at));
        }
    }

    /// <summary>
    /// Takes the keys due at <paramref name="now"/>; the caller forgets them outside this queue's lock. Allocates
    /// nothing when none is due, as on most writes.
    /// </summary>
    public IReadOnlyList<TKey> TakeDue(DateTimeOffset now)
    {
        List<TKey>? due = null;
        lock (_gate)
        {
            while (_queue.TryPeek(out var next) && next.At <= now)
            {
                (due ??= []).Add(_queue.Dequeue().Key);
            }
        }

        return due ?? (IReadOnlyList<TKey>)[];
    }

    /// <summary>
    /// Drops the items <paramref name="isCurrent"/> no longer wants once stale ones outnumber the current
    /// <paramref name="live"/> entries: O(items), but only after as many additions, so amortised O(1).
    /// </summary>
    public void CompactIfStale(int live, Func<TKey, DateTimeOffset, bool> isCurrent)
    {
        lock (_gate)
        {
            if (_queue.Count <= (2 * live) + 1024)
            {
                return;
            }

            var kept = _queue.Where(item => isCurrent(item.Key, item.At)).ToList();
            _queue.Clear();
            foreach (var item in kept)
            {
                _queue.Enqueue(item);
            }
        }
    }
}
