using Downloads.Contracts;

namespace Downloads.Client;

/// <summary>
/// The contract's ordering rules as pure functions: events pass strictly in <c>seq</c> order, anything at or below
/// what was passed is dropped, a snapshot (or a status document) stands for the whole state, and events past a gap
/// wait for the missing ones or for a re-sync.
/// </summary>
public sealed record EventSequence(long Seq, IReadOnlyList<JobEvent> Held, DateTimeOffset? GapSince, bool Ended)
{
    /// <summary>Held events beyond this are dropped: a re-sync brings their state anyway.</summary>
    private const int MaxHeld = 1000;

    public static EventSequence Empty { get; } = new(0, [], null, false);

    /// <summary>Applies one received event; <paramref name="accepted"/> gets the events to pass on, in order.</summary>
    public EventSequence Receive(JobEvent jobEvent, DateTimeOffset now, List<JobEvent> accepted)
    {
        if (Ended || jobEvent.Seq <= Seq)
        {
            return this;
        }

        if (IsWholeState(jobEvent) || jobEvent.Seq == Seq + 1)
        {
            return Pass(jobEvent, accepted).Release(accepted);
        }

        if (Held.Any(e => e.Seq == jobEvent.Seq))
        {
            return this;
        }

        var held = Held.Append(jobEvent).OrderBy(e => e.Seq).Take(MaxHeld).ToList();
        return this with { Held = held, GapSince = GapSince ?? now };
    }

    /// <summary>Applies a status document (polling, re-sync): newer than what was passed, it replaces the state.</summary>
    public EventSequence Resync(JobStatusDocument document, DateTimeOffset now, List<JobEvent> accepted)
    {
        var next = Receive(SnapshotOf(document), now, accepted);
        // Still a gap when the document is older than the held events: wait for it afresh.
        return next with { GapSince = next.Held.Count > 0 ? now : null };
    }

    /// <summary>True when a gap has stayed open for <paramref name="hold"/>: time to fetch the status document.</summary>
    public bool GapExpired(DateTimeOffset now, TimeSpan hold) => !Ended && GapSince is { } since && now - since >= hold;

    /// <summary>The event a status document stands for: a <c>snapshot</c> of that state.</summary>
    public static JobEvent SnapshotOf(JobStatusDocument document) => new(
        JobEventType.Snapshot,
        document.JobId,
        document.Seq,
        document.Status,
        document.Progress.Completed,
        document.Progress.Failed,
        document.Progress.Total,
        document.Progress.CurrentFile,
        document.Progress.Percent,
        Results: document.Results);

    // A snapshot, or a terminal event (it carries the whole results list).
    private static bool IsWholeState(JobEvent jobEvent) =>
        jobEvent.Type == JobEventType.Snapshot || (jobEvent.Status.IsTerminal() && jobEvent.Results is not null);

    private EventSequence Pass(JobEvent jobEvent, List<JobEvent> accepted)
    {
        accepted.Add(jobEvent);
        return this with { Seq = jobEvent.Seq, Ended = jobEvent.Status.IsTerminal() };
    }

    private EventSequence Release(List<JobEvent> accepted)
    {
        var current = this;
        var held = Held.Where(e => e.Seq > current.Seq).ToList();
        while (held.Count > 0 && !current.Ended && held[0].Seq == current.Seq + 1)
        {
            current = current.Pass(held[0], accepted);
            held.RemoveAt(0);
        }

        if (current.Ended)
        {
            held.Clear();
        }

        return current with { Held = held, GapSince = held.Count > 0 ? current.GapSince : null };
    }
}
